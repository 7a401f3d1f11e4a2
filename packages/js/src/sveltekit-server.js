// SvelteKit, server side (@sentry/sveltekit):
//   // src/instrumentation.server.js
//   import { init } from "@sentry-stacks/runtime/sveltekit/server";
//   init();
//   // src/hooks.server.js
//   import { createHandle, handleError } from "@sentry-stacks/runtime/sveltekit/server";
//   export const handle = createHandle({ user: (event) => ... });   // optional: the request's user
//   export { handleError };
import * as Sentry from "@sentry/sveltekit";
import { browserUser, publicConfig } from "./config.js";
import { currentConfig, initServer } from "./server.js";

export { Sentry };
export const PREFIX = "PUBLIC_";

export function init(appOptions = {}, options = {}) {
  return initServer(Sentry, appOptions, options);
}

/** sentryHandle (request isolation, traces continued from the browser), then the request's user. The user
 * function's result is also in event.locals.user. */
export function createHandle({ user } = {}) {
  const sentry = Sentry.sentryHandle();
  if (!user) return sentry;
  return ({ event, resolve }) =>
    sentry({
      event,
      resolve: async (ev, opts) => {
        const found = await user(ev);
        ev.locals.user = found ?? null;
        Sentry.setUser(browserUser(found, currentConfig()));  // the id; details only with user info
        return resolve(ev, opts);
      },
    });
}

export const handleError = Sentry.handleErrorWithSentry();

/** The browser's config from this process's PUBLIC_ variables (for a /runtime-config.json route). */
export function browserConfig(env = process.env) {
  return publicConfig(env, PREFIX);
}
