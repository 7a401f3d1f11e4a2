// Next.js (app router), browser side (@sentry/nextjs). The root layout renders <SentryStacksConfig /> (from
// "@sentry-stacks/runtime/nextjs/config"), an inline script with the public config of the running server. Next.js
// may run instrumentation-client before the parser reaches it: init then waits for the parsed document.
//   // instrumentation-client.js
//   import { init } from "@sentry-stacks/runtime/nextjs/browser";
//   init();
//   export { onRouterTransitionStart } from "@sentry-stacks/runtime/nextjs/browser";
import * as Sentry from "@sentry/nextjs";
import { initBrowserWith, pageConfig } from "./browser-core.js";
import { GLOBAL_NAME } from "./config.js";

export { browserUser } from "./browser-core.js";
export { Sentry };

/** Sentry.init with the page's config; returns it, or null when the init waits for the parsed document. */
export function init(appOptions = {}) {
  if (typeof window !== "undefined" && window[GLOBAL_NAME] === undefined && document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => initBrowserWith(Sentry, pageConfig(), appOptions), { once: true });
    return null;
  }
  return initBrowserWith(Sentry, pageConfig(), appOptions);
}

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
