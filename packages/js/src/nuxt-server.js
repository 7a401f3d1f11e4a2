// Nuxt 3, server side: a Nitro plugin that hands every page the browser's public config of the running server
// (NUXT_PUBLIC_SENTRY_*, read at start from this process's environment, never from the build), as an inline
// script in the page's head that runs before Nuxt's deferred module entry. A rotated DSN needs a restart, never a
// rebuild. A bad value stops the server at start with one line naming the variable (exit 2).
//   // server/plugins/sentry-stacks.js
//   export { default } from "@sentry-stacks/runtime/nuxt/server";
import { ConfigError, publicConfig, publicScript } from "./config.js";

export const PREFIX = "NUXT_PUBLIC_";

/** The browser's config from this process's NUXT_PUBLIC_ variables. */
export function browserConfig(env = process.env) {
  return publicConfig(env, PREFIX);
}

/** The page's `<script>` element that sets window.__SENTRY_STACKS_CONFIG__. */
export function configScriptTag(env = process.env) {
  return `<script id="sentry-stacks-config">${publicScript(browserConfig(env))}</script>`;
}

/** The Nitro plugin: the config script in the head of every rendered page (Nitro's `render:html` hook). */
export default function sentryStacksConfig(nitroApp, { env = process.env, exit = true } = {}) {
  let tag;
  try {
    tag = configScriptTag(env);
  } catch (error) {
    if (!(error instanceof ConfigError) || !exit) throw error;
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  nitroApp.hooks.hook("render:html", (html) => {
    html.head.push(tag);
  });
}
