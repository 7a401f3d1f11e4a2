// A plain Node server with @sentry/node. Load it before anything else (node --import ./instrument.mjs app.mjs):
//   // instrument.mjs
//   import { init } from "@sentry-stacks/runtime/node";
//   init();
//   // a request's user (Express: a middleware before the routes): Sentry.setUser(serverUser(req.user))
import * as Sentry from "@sentry/node";
import { initServer } from "./server.js";

export { serverUser } from "./server.js";
export { Sentry };

export function init(appOptions = {}, options = {}) {
  return initServer(Sentry, appOptions, options);
}
