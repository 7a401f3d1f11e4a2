// The page's user (browser only): after a login the backend's user, else ?user=<id> (remembered), else the
// remembered id, else a new random demo id. Mirrored into cookies so the SvelteKit server (hooks.server.js)
// and the backend (demo_user_id) set the same Sentry user.
import { USER_ID_COOKIE, USERNAME_COOKIE } from "./user.js";

const ID_KEY = "demo_user_id";
const LOGIN_KEY = "demo_login";

function setCookie(name, value) {
  document.cookie = value === null
    ? `${name}=; path=/; max-age=0; SameSite=Lax`
    : `${name}=${encodeURIComponent(value)}; path=/; SameSite=Lax`;
}

function anonymousId() {
  const fromUrl = new URLSearchParams(window.location.search).get("user");
  let id = fromUrl || window.localStorage.getItem(ID_KEY);
  if (!id) id = `demo-${Math.random().toString(36).slice(2, 10)}`;
  window.localStorage.setItem(ID_KEY, id);
  return id;
}

/** The Sentry user of this page: {id, username?}. */
export function browserUser() {
  let user = null;
  try {
    user = JSON.parse(window.localStorage.getItem(LOGIN_KEY) || "null");
  } catch {
    user = null;
  }
  if (!user || !user.id) user = { id: anonymousId() };
  setCookie(USER_ID_COOKIE, user.id);
  setCookie(USERNAME_COOKIE, user.username ?? null);
  return user;
}

/** Remember a logged-in user ({id, username, email}) or, with null, forget it. */
export function rememberLogin(user) {
  if (user) window.localStorage.setItem(LOGIN_KEY, JSON.stringify({ id: String(user.id), username: user.username }));
  else window.localStorage.removeItem(LOGIN_KEY);
  return browserUser();
}
