// The image's HEALTHCHECK: exits 0 when GET /health on $BIND:$PORT answers 200 (no curl in the image).
const bind = process.env.BIND || "0.0.0.0";
const host = { "0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1" }[bind] ?? bind;
const url = `http://${host.includes(":") ? `[${host}]` : host}:${process.env.PORT || "8080"}/health`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(response.status === 200 ? 0 : 1);
} catch (error) {
  console.error(`unhealthy: ${url}: ${error.cause?.message ?? error.message}`);
  process.exit(1);
}
