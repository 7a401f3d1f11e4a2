// GET /health: 200 {"status": "ok"} (the image's HEALTHCHECK: node healthcheck.js). Never traced
// (tracesSampler in instrumentation.server.js).
import { json } from "@sveltejs/kit";

export function GET() {
  return json({ status: "ok", service: "frontend" }, { headers: { "Cache-Control": "no-store" } });
}
