// A server load that fails on request: the error is thrown in Node, captured by handleErrorWithSentry
// (hooks.server.js) with the request's user, and the visitor gets SvelteKit's 500 page. The log line before
// it goes to Sentry's logs (enableLogs in instrumentation.server.js).
import * as Sentry from "@sentry/sveltekit";

/** @type {import('./$types').PageServerLoad} */
export function load({ url }) {
  const tag = url.searchParams.get("tag");
  Sentry.logger.warn("demo server load fails on purpose", { tag: tag ?? "" });
  throw new Error(`Sentry Stacks frontend server load error${tag ? ` ${tag}` : ""}`);
}
