// One status line for a backend call: the method, path and status, and for a failure a one-line reason (the
// JSON error, else the HTML page's title or heading, else the status text) and the Sentry event id when the
// backend names one (X-Sentry-Event-Id). Never the whole body: Django's error pages are long HTML.
const MAX = 160;

function oneLine(text) {
  const line = String(text ?? "").replace(/\s+/g, " ").trim();
  return line.length > MAX ? `${line.slice(0, MAX - 1)}…` : line;
}

function decode(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&amp;/g, "&");
}

/** The reason a failed response gives, in one line. */
export function reason(contentType, body, statusText) {
  const text = String(body ?? "");
  if (/json/i.test(contentType ?? "")) {
    try {
      const parsed = JSON.parse(text);
      const message = parsed?.error ?? parsed?.detail ?? parsed?.message;
      if (message) return oneLine(typeof message === "string" ? message : JSON.stringify(message));
    } catch {
      // not JSON after all: fall through
    }
  }
  const html = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text) ?? /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(text);
  if (html) return oneLine(decode(html[1].replace(/<[^>]+>/g, "")));
  if (!/<[a-z!]/i.test(text) && text.trim()) return oneLine(text);
  return oneLine(statusText) || "no reason given";
}

/** The status line of a call: "GET /x -> 200 {...}" when it worked, "GET /x -> 500: reason (Sentry event id)" when not. */
export function describe({ method = "GET", path, status, statusText = "", contentType = "", body = "", eventId = null }) {
  const head = `${method} ${path} -> ${status}`;
  if (status >= 200 && status < 400) return `${head} ${oneLine(body)}`;
  const event = eventId ? ` (Sentry event ${eventId})` : "";
  return `${head} ${oneLine(statusText)}: ${reason(contentType, body, statusText)}${event}`.replace(/ {2,}/g, " ");
}
