// The web container's server: the built SPA from dist/ (with the sentry-config.js the start step wrote), /health,
// and /api/* passed to the notes API (API_URL), so the page and its API share an origin. Node's standard library
// only; any static server (nginx, caddy) does the same.
import { createReadStream, statSync } from "node:fs";
import { request as forward } from "node:http";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";

const ROOT = new URL("./dist/", import.meta.url).pathname;
const API = new URL(process.env.API_URL || "http://127.0.0.1:8000");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };

function serveFile(res, path) {
  res.writeHead(200, { "Content-Type": TYPES[extname(path)] || "application/octet-stream", "Cache-Control": "no-cache" });
  createReadStream(path).pipe(res);
}

function proxy(req, res) {
  const out = forward({ host: API.hostname, port: API.port, path: req.url, method: req.method, headers: req.headers },
    (answer) => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res); });
  out.on("error", () => { res.writeHead(502); res.end("api unavailable"); });
  req.pipe(out);
}

createServer((req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/health") return res.end("ok");
  if (path.startsWith("/api/")) return proxy(req, res);
  const file = normalize(join(ROOT, path));
  try {
    if (file.startsWith(ROOT) && statSync(file).isFile()) return serveFile(res, file);
  } catch { /* not a file: the app's page */ }
  return serveFile(res, join(ROOT, "index.html"));
}).listen(Number(process.env.PORT || 8080), process.env.BIND || "0.0.0.0");
