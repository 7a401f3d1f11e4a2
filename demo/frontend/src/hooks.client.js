// Browser: Sentry from $env/dynamic/public, the PUBLIC_SENTRY_* variables the running server renders into each page
// (a new DSN takes effect on the next page load; the bundle holds none). Traces go to the backend only.
import { env } from "$env/dynamic/public";
import { Sentry, handleError, init } from "@sentry-stacks/runtime/sveltekit/browser";
import { backendUrl } from "$lib/backend.js";
import { browserUser } from "$lib/browser-user.js";

const backend = backendUrl(env);
const config = init(env, { tracePropagationTargets: [backend], enableLogs: true, user: browserUser });

// for support and tests: send a message with this page's DSN and get its event id back
window.__sentryStacks = { captureMessage: (message) => Sentry.captureMessage(message), config, backendUrl: backend };

export { handleError };
