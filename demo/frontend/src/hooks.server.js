// Server hooks: Sentry's request isolation and the request's user (the demo login's cookies), and errors of
// load functions, actions and endpoints captured (handleError).
import { createHandle, handleError } from "@sentry-stacks/runtime/sveltekit/server";
import { userFromCookies } from "$lib/user.js";

export const handle = createHandle({ user: (event) => userFromCookies(event.cookies) });
export { handleError };
