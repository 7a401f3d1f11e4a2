// Next.js (app router), browser side (@sentry/nextjs). The root layout renders <SentryStacksConfig /> (from
// "@sentry-stacks/runtime/nextjs/config"), a beforeInteractive script with the public config of the running server;
//   // instrumentation-client.js
//   import { init } from "@sentry-stacks/runtime/nextjs/browser";
//   init();
//   export { onRouterTransitionStart } from "@sentry-stacks/runtime/nextjs/browser";
import * as Sentry from "@sentry/nextjs";
import { initBrowserWith, pageConfig } from "./browser-core.js";

export { browserUser } from "./browser-core.js";
export { Sentry };

export function init(appOptions = {}) {
  return initBrowserWith(Sentry, pageConfig(), appOptions);
}

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
