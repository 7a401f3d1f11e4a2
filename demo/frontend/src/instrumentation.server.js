// Runs before any other server module (kit.experimental.instrumentation.server): Sentry.init for Node.
// It reads process.env when the server starts ($env/dynamic/private is not available this early), so the
// DSN, environment, release and rates come from the container's environment, never from the build.
import * as Sentry from "@sentry/sveltekit";
import { ConfigError, initOptions, masked, runtimeConfig } from "$lib/sentry-config.js";

let config;
try {
  config = runtimeConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

Sentry.init({
  ...initOptions(config),
  // health checks (Docker's and ours) are never traced
  tracesSampler: ({ name, inheritOrSampleWith }) =>
    /\/health\b/.test(name ?? "") ? 0 : inheritOrSampleWith(config.tracesSampleRate),
});

console.error(`frontend server: Sentry ${config.dsn ? "enabled" : "disabled (no SENTRY_DSN)"} ${JSON.stringify(masked(config))}`);
