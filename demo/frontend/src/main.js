// The reference frontend: @sentry/browser with tracing and session replay, configured at run time.
// The server answers /config.js with window.__SENTRY_STACKS_CONFIG__ built from its environment
// (SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE, sample rates, BACKEND_URL), so a rotated DSN
// or a new rate needs a container restart, never a rebuild of this bundle.
import * as Sentry from "@sentry/browser";

const config = window.__SENTRY_STACKS_CONFIG__ || {};
const backendUrl = (config.backendUrl || "").replace(/\/+$/, "");
const USER_KEY = "demo_user_id";

// The user: ?user=<id> (remembered), else the remembered one, else a new random demo user.
function currentUser() {
  const fromUrl = new URLSearchParams(window.location.search).get("user");
  let id = fromUrl || window.localStorage.getItem(USER_KEY);
  if (!id) {
    id = `demo-${Math.random().toString(36).slice(2, 10)}`;
  }
  window.localStorage.setItem(USER_KEY, id);
  document.cookie = `${USER_KEY}=${encodeURIComponent(id)}; path=/; SameSite=Lax`;
  return id;
}

const userId = currentUser();

if (config.dsn) {
  Sentry.init({
    dsn: config.dsn,
    environment: config.environment,
    release: config.release || undefined,
    sampleRate: config.sampleRate,
    tracesSampleRate: config.tracesSampleRate,
    // sentry-trace and baggage go to the backend only, so its transactions join the page's trace
    tracePropagationTargets: config.tracePropagationTargets || [],
    replaysSessionSampleRate: config.replaysSessionSampleRate,
    replaysOnErrorSampleRate: config.replaysOnErrorSampleRate,
    sendDefaultPii: Boolean(config.sendDefaultPii),
    debug: Boolean(config.debug),
    integrations: [
      Sentry.browserTracingIntegration(),
      Sentry.replayIntegration({ maskAllText: !config.sendDefaultPii, blockAllMedia: true }),
    ],
  });
  Sentry.setUser({ id: userId });
  // for support and tests: send a message with this page's DSN and get its event id back
  window.__sentryStacks = { captureMessage: (message) => Sentry.captureMessage(message) };
}

const $ = (id) => document.getElementById(id);

function show(text, ok = true) {
  const status = $("status");
  status.textContent = text;
  status.className = ok ? "ok" : "error";
}

async function callBackend(path, options = {}) {
  if (!backendUrl) {
    show("no BACKEND_URL configured", false);
    return null;
  }
  const headers = { "X-User-Id": userId, ...(options.headers || {}) };
  try {
    const response = await fetch(`${backendUrl}${path}`, { ...options, headers });
    const text = await response.text();
    show(`${options.method || "GET"} ${path} -> ${response.status} ${text}`, response.ok);
    return response;
  } catch (error) {
    show(`${path}: ${error}`, false);
    return null;
  }
}

function renderConfig() {
  const rows = [
    ["Sentry", config.dsn ? "enabled" : "disabled (no SENTRY_DSN)"],
    ["environment", config.environment],
    ["release", config.release || "-"],
    ["traces", config.tracesSampleRate],
    ["replays (session / on error)", `${config.replaysSessionSampleRate} / ${config.replaysOnErrorSampleRate}`],
    ["backend", backendUrl || "-"],
    ["user", userId],
  ];
  const table = $("config");
  for (const [name, value] of rows) {
    const row = table.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = String(value);
  }
  document.body.dataset.ready = "true";
}

$("test-sentry").addEventListener("click", () => {
  show("threw an error; Sentry captures it as an unhandled exception");
  throw new Error("Sentry Stacks frontend test error");
});
$("call-backend").addEventListener("click", () => callBackend("/api/core/hello/"));
$("backend-error").addEventListener("click", () => callBackend("/api/core/sentry-debug/"));
$("enqueue-task").addEventListener("click", () =>
  callBackend("/api/tasks/", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ x: 20, y: 22 }),
  }),
);

renderConfig();
// one backend call on load, inside the pageload trace, so frontend and backend spans connect
callBackend("/api/core/hello/");
