// GET /runtime-config.json: the browser's config (the PUBLIC_* variables of this process), for support
// and tests. Only public values: the DSN is public by design (it can only send events).
import { json } from "@sveltejs/kit";
import { env } from "$env/dynamic/public";
import { ConfigError, runtimeConfig } from "$lib/sentry-config.js";

export function GET() {
  try {
    return json(runtimeConfig(env, "PUBLIC_"), { headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return new Response(`${error.message}\n`, { status: 500, headers: { "Content-Type": "text/plain", "Cache-Control": "no-store" } });
  }
}
