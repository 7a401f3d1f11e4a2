// The page's server load: the user the server saw (hooks.server.js), shown next to the browser's.
/** @type {import('./$types').PageServerLoad} */
export function load({ locals }) {
  return { serverUser: locals.user ?? null };
}
