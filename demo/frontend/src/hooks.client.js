// Browser init: the config comes from $env/dynamic/public, i.e. the PUBLIC_* variables of the running
// server, rendered into each page. A new PUBLIC_SENTRY_DSN takes effect on the next page load; the bundle
// never contains a DSN. Errors in the page and in client-side load functions reach Sentry
// (handleErrorWithSentry), fetches to PUBLIC_BACKEND_URL carry sentry-trace and baggage.
import * as Sentry from "@sentry/sveltekit";
import { env } from "$env/dynamic/public";
import { initOptions, runtimeConfig } from "$lib/sentry-config.js";
import { browserUser } from "$lib/browser-user.js";
import { sentryUser } from "$lib/user.js";

let config;
try {
  config = runtimeConfig(env, "PUBLIC_");
} catch (error) {
  console.error(`Sentry disabled: ${error.message}`);
  config = { ...runtimeConfig({}, "PUBLIC_"), dsn: null, configError: error.message };
}
// for support and tests: the config this page uses
window.__SENTRY_STACKS_CONFIG__ = config;

Sentry.init({
  ...initOptions(config),
  replaysSessionSampleRate: config.replaysSessionSampleRate,
  replaysOnErrorSampleRate: config.replaysOnErrorSampleRate,
  integrations: [
    Sentry.browserTracingIntegration(),
    Sentry.replayIntegration({ maskAllText: !config.sendDefaultPii, blockAllMedia: true }),
  ],
});
Sentry.setUser(sentryUser(browserUser(), config));

// for support and tests: send a message with this page's DSN and get its event id back
window.__sentryStacks = { captureMessage: (message) => Sentry.captureMessage(message), config };

export const handleError = Sentry.handleErrorWithSentry();
