// The Sentry options of both sides, read from an environment object at run time (never at build time).
// The server calls it with process.env and prefix "" (SENTRY_DSN, ...); the browser with SvelteKit's
// $env/dynamic/public and prefix "PUBLIC_" (PUBLIC_SENTRY_DSN, ...), which the server puts into every
// page it renders; PUBLIC_BACKEND_URL is read by both. A rotated DSN or a new rate therefore needs a restart with new variables, no rebuild.
// Plain JavaScript with no SvelteKit import, so `node --test` checks it (test/sentry-config.test.js).

export const DEFAULT_BACKEND_URL = "http://127.0.0.1:8000";
const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

/** option -> [variable without prefix, default] */
export const RATES = {
  sampleRate: ["SENTRY_SAMPLE_RATE", 1.0],
  tracesSampleRate: ["SENTRY_TRACES_SAMPLE_RATE", 0.0],
  replaysSessionSampleRate: ["SENTRY_REPLAYS_SESSION_SAMPLE_RATE", 0.0],
  replaysOnErrorSampleRate: ["SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE", 0.0],
};
export const BOOLEANS = { sendDefaultPii: ["SENTRY_SEND_DEFAULT_PII", false], debug: ["SENTRY_DEBUG", false] };

export class ConfigError extends Error {}

function raw(env, name) {
  const value = String(env[name] ?? "").trim();
  return value === "" ? null : value;
}

function rate(env, name, fallback) {
  const text = raw(env, name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) || !(value >= 0 && value <= 1)) {
    throw new ConfigError(`${name} must be a number between 0 and 1, got ${JSON.stringify(text)}`);
  }
  return value;
}

function bool(env, name, fallback) {
  const text = raw(env, name);
  if (text === null) return fallback;
  if (TRUE_WORDS.has(text.toLowerCase())) return true;
  if (FALSE_WORDS.has(text.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(text)}`);
}

function dataCollection(env, name) {
  const text = raw(env, name);
  if (text === null) return null;
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError(`${name} must be a JSON object (the SDK's dataCollection option)`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`${name} must be a JSON object (the SDK's dataCollection option)`);
  }
  return value;
}

/**
 * The runtime config: {dsn, environment, release, rates, sendDefaultPii, debug, dataCollection, backendUrl,
 * tracePropagationTargets}. `prefix` is "" on the server and "PUBLIC_" in the browser. Throws ConfigError
 * naming the first bad variable.
 */
export function runtimeConfig(env, prefix = "") {
  const name = (n) => `${prefix}${n}`;
  // the backend's URL is public on both sides (the browser calls it), so it has one name
  const backendVar = "PUBLIC_BACKEND_URL";
  const backendUrl = (raw(env, backendVar) ?? DEFAULT_BACKEND_URL).replace(/\/+$/, "");
  let parsed;
  try {
    parsed = new URL(backendUrl);
  } catch {
    parsed = null;
  }
  if (!parsed || !["http:", "https:"].includes(parsed.protocol)) {
    throw new ConfigError(`${backendVar} must be an http(s) URL such as ${DEFAULT_BACKEND_URL}, got ${JSON.stringify(backendUrl)}`);
  }
  const config = {
    dsn: raw(env, name("SENTRY_DSN")),
    environment: raw(env, name("SENTRY_ENVIRONMENT")) ?? "development",
    release: raw(env, name("SENTRY_RELEASE")),
  };
  for (const [key, [variable, fallback]] of Object.entries(RATES)) config[key] = rate(env, name(variable), fallback);
  for (const [key, [variable, fallback]] of Object.entries(BOOLEANS)) config[key] = bool(env, name(variable), fallback);
  config.dataCollection = dataCollection(env, name("SENTRY_DATA_COLLECTION"));
  config.backendUrl = backendUrl;
  // sentry-trace and baggage go to the backend only, so its transactions join the caller's trace
  config.tracePropagationTargets = [backendUrl];
  return config;
}

/** The options both sides pass to Sentry.init (integrations are added by the caller). */
export function initOptions(config) {
  const options = {
    dsn: config.dsn ?? undefined,
    enabled: Boolean(config.dsn),
    environment: config.environment,
    release: config.release ?? undefined,
    sampleRate: config.sampleRate,
    tracesSampleRate: config.tracesSampleRate,
    tracePropagationTargets: config.tracePropagationTargets,
    sendDefaultPii: config.sendDefaultPii,
    debug: config.debug,
    enableLogs: true,
  };
  // the JavaScript SDK 11's dataCollection option (sentry-stacks:dataCollection); SDK 10 ignores it and
  // keeps sendDefaultPii, so userInfo=false also turns sendDefaultPii off here
  if (config.dataCollection) {
    options.dataCollection = config.dataCollection;
    if (config.dataCollection.userInfo === false) options.sendDefaultPii = false;
  }
  return options;
}

/** The config with the DSN's public key hidden, for logs. */
export function masked(config) {
  if (!config.dsn) return { ...config };
  try {
    const url = new URL(config.dsn);
    return { ...config, dsn: `${url.protocol}//***@${url.host}${url.pathname}` };
  } catch {
    return { ...config, dsn: "***" };
  }
}
