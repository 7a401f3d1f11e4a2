// Runs before any other server module (kit.experimental.instrumentation.server): Sentry for Node, from the
// container's environment at start (SENTRY_*: DSN, environment, release, rates, dataCollection), never the build.
// A bad value stops the server naming the variable. enableLogs: the demo's Sentry.logger lines (SDK 10).
import { init } from "@sentry-stacks/runtime/sveltekit/server";

init({ enableLogs: true });
