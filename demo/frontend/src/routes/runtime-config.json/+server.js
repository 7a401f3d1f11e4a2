// GET /runtime-config.json: what the browser gets (the public list of PUBLIC_* variables, checked) and the
// backend it calls, for support and tests. Only public values: a DSN is public by design (it can only send events).
import { json } from "@sveltejs/kit";
import { env } from "$env/dynamic/public";
import { publicConfig } from "@sentry-stacks/runtime/config";
import { backendUrl } from "$lib/backend.js";

export function GET() {
  const headers = { "Cache-Control": "no-store" };
  try {
    const backend = backendUrl(env);
    return json({ ...publicConfig(env, "PUBLIC_"), backendUrl: backend, tracePropagationTargets: [backend] }, { headers });
  } catch (error) {
    return new Response(`${error.message}\n`, { status: 500, headers: { ...headers, "Content-Type": "text/plain" } });
  }
}
