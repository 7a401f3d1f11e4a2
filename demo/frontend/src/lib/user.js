// The demo's user, shared by the page and the server through two cookies on the frontend's host:
// demo_user_id (also read by the backend when X-User-Id is missing) and demo_username (set after a real
// login against the backend, cleared on logout). Anonymous visitors get a random id, or ?user=<id>.
export const USER_ID_COOKIE = "demo_user_id";
export const USERNAME_COOKIE = "demo_username";
const ID = /^[A-Za-z0-9_.@:+-]{1,128}$/;

/** The Sentry user of a server request (SvelteKit cookies), or null. */
export function userFromCookies(cookies) {
  const id = cookies.get(USER_ID_COOKIE);
  if (!id || !ID.test(id)) return null;
  const username = cookies.get(USERNAME_COOKIE);
  return username && ID.test(username) ? { id, username } : { id };
}
