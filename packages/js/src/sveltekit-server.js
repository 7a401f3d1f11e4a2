// SvelteKit, server side (@sentry/sveltekit):
//   // src/instrumentation.server.js
//   import { init } from "@sentry-stacks/runtime/sveltekit/server";
//   init();
//   // src/hooks.server.js
//   import { createHandle, handleError } from "@sentry-stacks/runtime/sveltekit/server";
//   export const handle = createHandle({ user: (event) => ... });   // optional: the request's user
//   export { handleError };
import * as Sentry from "@sentry/sveltekit";
import { publicConfig, userInfo } from "./config.js";
import { currentConfig, initServer } from "./server.js";

export { Sentry };
export const PREFIX = "PUBLIC_";

export function init(appOptions = {}, options = {}) {
  return initServer(Sentry, appOptions, options);
}

/** What Sentry gets of a server-side user: the id, and the username only with user info. */
export function serverUser(user, config) {
  if (!user || !user.id) return null;
  return userInfo(config) && user.username ? { id: String(user.id), username: String(user.username) } : { id: String(user.id) };
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
        Sentry.setUser(serverUser(found, currentConfig()));
        return resolve(ev, opts);
      },
    });
}

export const handleError = Sentry.handleErrorWithSentry();

/** The browser's config from this process's PUBLIC_ variables (for a /runtime-config.json route). */
export function browserConfig(env = process.env) {
  return publicConfig(env, PREFIX);
}
