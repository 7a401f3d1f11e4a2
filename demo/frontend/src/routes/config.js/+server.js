// GET /config.js: the browser's Sentry config as a script (window.__SENTRY_STACKS_CONFIG__ = {...}), for pages
// that are not part of this app; the app itself reads $env/dynamic/public (hooks.client.js).
import { env } from "$env/dynamic/public";
import { publicConfig, publicScript } from "@sentry-stacks/runtime/config";

export function GET() {
  const headers = { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store" };
  try {
    return new Response(publicScript(publicConfig(env, "PUBLIC_")), { headers });
  } catch (error) {
    return new Response(`${error.message}\n`, { status: 500, headers: { ...headers, "Content-Type": "text/plain" } });
  }
}
