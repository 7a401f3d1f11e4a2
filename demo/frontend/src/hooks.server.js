// Server hooks: every request runs in Sentry's request isolation (sentryHandle), gets the Sentry user of
// the demo login (cookies set by the page after the backend's login), and errors of load functions,
// actions and endpoints are captured by handleErrorWithSentry. Sentry.init is in instrumentation.server.js.
import * as Sentry from "@sentry/sveltekit";
import { sequence } from "@sveltejs/kit/hooks";
import { runtimeConfig } from "$lib/sentry-config.js";
import { sentryUser, userFromCookies } from "$lib/user.js";

const config = runtimeConfig(process.env); // checked at start by instrumentation.server.js

/** @type {import('@sveltejs/kit').Handle} */
const sentryUserHandle = async ({ event, resolve }) => {
  const user = userFromCookies(event.cookies);
  event.locals.user = user;
  Sentry.setUser(sentryUser(user, config));
  return resolve(event);
};

export const handle = sequence(Sentry.sentryHandle(), sentryUserHandle);

export const handleError = Sentry.handleErrorWithSentry();
