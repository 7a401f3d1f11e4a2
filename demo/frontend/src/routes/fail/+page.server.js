// A server load that fails on request: the error is thrown in Node, captured by handleErrorWithSentry
// (hooks.server.js) with the request's user, and the visitor gets SvelteKit's 500 page.
/** @type {import('./$types').PageServerLoad} */
export function load({ url }) {
  throw new Error(`Sentry Stacks frontend server load error${url.searchParams.get("tag") ? ` ${url.searchParams.get("tag")}` : ""}`);
}
