// Next.js (app router), server side (@sentry/nextjs):
//   // instrumentation.js
//   export async function register() {
//     if (process.env.NEXT_RUNTIME === "nodejs") (await import("@sentry-stacks/runtime/nextjs/server")).init();
//   }
//   export { onRequestError } from "@sentry-stacks/runtime/nextjs/server";
import * as Sentry from "@sentry/nextjs";
import { publicConfig } from "./config.js";
import { initServer } from "./server.js";

export { Sentry };
export const PREFIX = "NEXT_PUBLIC_";

export function init(appOptions = {}, options = {}) {
  return initServer(Sentry, appOptions, options);
}

export const onRequestError = Sentry.captureRequestError;

/** The browser's config from this process's NEXT_PUBLIC_ variables, read at request time (never inlined). */
export function browserConfig(env = process.env) {
  return publicConfig(env, PREFIX);
}
