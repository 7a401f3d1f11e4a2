// A Vue 3 SPA (Vite) with @sentry/vue: as ./browser, with the Vue app's error handler attached, so an error in a
// component or an event handler, which Vue catches before window.onerror could see it, still reaches Sentry
// (with ./browser it would only be logged to the console).
//   import { init } from "@sentry-stacks/runtime/vue";
//   const app = createApp(App);
//   init(app);  // before app.mount(...)
import * as Sentry from "@sentry/vue";
import { initBrowserWith, pageConfig } from "./browser-core.js";

export { browserUser } from "./browser-core.js";
export { Sentry };

export function init(app, appOptions = {}) {
  return initBrowserWith(Sentry, pageConfig(), { app, ...appOptions });
}
