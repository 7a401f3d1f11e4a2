// GET /config.js: the same config as a script (window.__SENTRY_STACKS_CONFIG__ = {...}), for pages that are
// not part of this app; the app itself gets it from $env/dynamic/public (hooks.client.js).
import { env } from "$env/dynamic/public";
import { ConfigError, runtimeConfig } from "$lib/sentry-config.js";

export function GET() {
  const headers = { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store" };
  try {
    const body = JSON.stringify(runtimeConfig(env, "PUBLIC_"), null, 2);
    return new Response(`window.__SENTRY_STACKS_CONFIG__ = ${body};\n`, { headers });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return new Response(`${error.message}\n`, { status: 500, headers: { ...headers, "Content-Type": "text/plain" } });
  }
}
