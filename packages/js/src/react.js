// A React SPA (Vite) with @sentry/react: as ./browser, with the React SDK (ErrorBoundary, hooks) re-exported.
//   import { init, Sentry } from "@sentry-stacks/runtime/react";
//   init();  // before createRoot(...).render(...)
import * as Sentry from "@sentry/react";
import { initBrowserWith, pageConfig } from "./browser-core.js";

export { browserUser } from "./browser-core.js";
export { Sentry };

export function init(appOptions = {}) {
  return initBrowserWith(Sentry, pageConfig(), appOptions);
}
