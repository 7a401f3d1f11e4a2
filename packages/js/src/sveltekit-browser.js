// SvelteKit, browser side (@sentry/sveltekit): the config is $env/dynamic/public, which the server renders into
// every page at run time (never the build):
//   // src/hooks.client.js
//   import { env } from "$env/dynamic/public";
//   import { init, handleError } from "@sentry-stacks/runtime/sveltekit/browser";
//   init(env, { tracePropagationTargets: [env.PUBLIC_BACKEND_URL], user: () => ({ id: "..." }) });
//   export { handleError };
import * as Sentry from "@sentry/sveltekit";
import { disabledConfig, initBrowserWith } from "./browser-core.js";
import { publicConfig } from "./config.js";

export { browserUser } from "./browser-core.js";
export { Sentry };
export const PREFIX = "PUBLIC_";

export function init(env, appOptions = {}) {
  let config;
  try {
    config = publicConfig(env, PREFIX);
  } catch (error) {
    config = disabledConfig(error);
  }
  return initBrowserWith(Sentry, config, appOptions);
}

export const handleError = Sentry.handleErrorWithSentry();
