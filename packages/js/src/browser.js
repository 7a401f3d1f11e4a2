// A browser app with @sentry/browser (a Vite SPA, or any page): the config comes from the script the container
// writes at start (bin/public-config.js -> sentry-config.js, loaded before the app's bundle).
//   import { init } from "@sentry-stacks/runtime/browser";
//   init({ user: { id: "42" } });
import * as Sentry from "@sentry/browser";
import { initBrowserWith, pageConfig } from "./browser-core.js";

export { browserUser } from "./browser-core.js";
export { Sentry };

export function init(appOptions = {}) {
  return initBrowserWith(Sentry, pageConfig(), appOptions);
}
