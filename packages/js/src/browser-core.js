// The browser side, for any @sentry/* browser SDK (browser, react, sveltekit, nextjs): Sentry.init from the
// config the server handed the page at run time, with tracing, Session Replay at the replay rates, and the user.
import { ConfigError, GLOBAL_NAME, browserUser, fromPublic, sdkOptions, userInfo } from "./config.js";

export { browserUser };

/** The config the page got from its server (window.__SENTRY_STACKS_CONFIG__), checked. */
export function pageConfig() {
  const given = typeof window === "undefined" ? undefined : window[GLOBAL_NAME];
  if (given === undefined) {
    console.error(`Sentry disabled: no window.${GLOBAL_NAME} (the server's public config script is missing)`);
  }
  return fromPublic(given);
}

/**
 * Sentry.init in the browser. `config` is a public config (see pageConfig, or the SvelteKit wrapper's reading of
 * $env/dynamic/public). App options: `user` (an object, or a function returning one) and any Sentry.init option,
 * which win; `integrations` are added to the package's (browserTracing, and replay when a replay rate is above 0).
 */
export function initBrowserWith(Sentry, config, appOptions = {}) {
  const { user, integrations = [], ...app } = appOptions;
  const collectsUser = userInfo(config);
  const own = [Sentry.browserTracingIntegration()];
  if ((config.replaysSessionSampleRate > 0 || config.replaysOnErrorSampleRate > 0) && Sentry.replayIntegration) {
    own.push(Sentry.replayIntegration({ maskAllText: !collectsUser, blockAllMedia: true }));
  }
  const names = new Set(integrations.map((i) => i.name));
  Sentry.init({
    ...sdkOptions(config, Sentry.SDK_VERSION),
    replaysSessionSampleRate: config.replaysSessionSampleRate,
    replaysOnErrorSampleRate: config.replaysOnErrorSampleRate,
    ...app,
    integrations: [...own.filter((i) => !names.has(i.name)), ...integrations],
  });
  const resolved = typeof user === "function" ? user() : user;
  if (resolved) Sentry.setUser(browserUser(resolved, config));
  if (typeof window !== "undefined") window[GLOBAL_NAME] = config;  // for support: what this page uses
  return config;
}

/** A config that disables Sentry, after a ConfigError (logged, naming the variable). */
export function disabledConfig(error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`Sentry disabled: ${error.message}`);
  return { ...fromPublic({}), dsn: null, configError: error.message };
}
