// Nuxt 3, browser side (@sentry/vue): Sentry.init from the config the server put into the page
// (./nuxt/server), with Vue's error handler attached, so an error in a component or an event handler, which Vue
// catches before window.onerror could see it, still reaches Sentry.
//   // plugins/sentry.client.js
//   import { init } from "@sentry-stacks/runtime/nuxt/browser";
//   export default defineNuxtPlugin((nuxtApp) => { init(nuxtApp, { user: () => ... }); });
import * as Sentry from "@sentry/vue";
import { initBrowserWith, pageConfig } from "./browser-core.js";

export { browserUser } from "./browser-core.js";
export { Sentry };

export function init(nuxtApp, appOptions = {}) {
  return initBrowserWith(Sentry, pageConfig(), { app: nuxtApp.vueApp, ...appOptions });
}
