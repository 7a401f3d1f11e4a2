// The configuration both sides read at run time, checked; no Node or framework import, so it runs in a browser
// bundle of any framework and under `node --test`.
//
//   readConfig(env, { prefix, side })  the server's config from process.env (prefix ""), or the browser's from an
//                                      env object of public variables (prefix "PUBLIC_", "NEXT_PUBLIC_", ...)
//   publicConfig(env, prefix)          what the browser may get: parsed from the public list only (a secret never)
//   fromPublic(object)                 the browser's check of a config the server handed the page
//   sdkOptions(config, sdkVersion)     Sentry.init options for the running @sentry/* major
import { CONTRACT } from "./contract.js";

export { CONTRACT };
export const GLOBAL_NAME = "__SENTRY_STACKS_CONFIG__";
export const PUBLIC_PREFIXES = CONTRACT.publicPrefixes;
export const DEVELOPMENT_ENVIRONMENTS = new Set(CONTRACT.developmentEnvironments);
export const HEALTH_PATHS = [...CONTRACT.healthPaths];
const TRUE_WORDS = new Set(CONTRACT.booleans.true);
const FALSE_WORDS = new Set(CONTRACT.booleans.false);
const VARIABLES = Object.fromEntries(CONTRACT.variables.map((v) => [v.name, v]));
/** The JavaScript SDK 11's dataCollection keys (@sentry/core types/datacollection.d.ts). */
export const DATA_COLLECTION_KEYS = [
  "userInfo", "cookies", "httpHeaders", "httpBodies", "urlQueryParams", "graphQL", "genAI", "mcp",
  "databaseQueryData", "queues", "stackFrameVariables", "frameContextLines",
];
const BODY_TARGETS = ["incomingRequest", "outgoingRequest", "incomingResponse", "outgoingResponse"];
/** config key -> variable (without prefix) */
const RATE_KEYS = {
  sampleRate: "SENTRY_SAMPLE_RATE",
  tracesSampleRate: "SENTRY_TRACES_SAMPLE_RATE",
  replaysSessionSampleRate: "SENTRY_REPLAYS_SESSION_SAMPLE_RATE",
  replaysOnErrorSampleRate: "SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE",
};
/** The keys of a public config: what the browser is ever handed. */
export const PUBLIC_KEYS = ["dsn", "environment", "release", ...Object.keys(RATE_KEYS), "dataCollection", "debug", "sendDefaultPii"];

export class ConfigError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The names that become public under `prefix` (the contract's list): nothing else ever is. */
export function publicNames(prefix) {
  return CONTRACT.variables.filter((v) => v.public).map((v) => `${prefix}${v.name}`);
}

function raw(env, name) {
  const value = env?.[name];
  if (value === undefined || value === null) return null;
  const text = String(value).trim();
  return text === "" ? null : text;
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
  throw new ConfigError(`${name} must be true or false (${[...TRUE_WORDS, ...FALSE_WORDS].join("/")}), got ${JSON.stringify(text)}`);
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function checkCollect(name, key, value) {
  const ok = typeof value === "boolean" || (isObject(value) && Object.keys(value).length === 1 &&
    ["allow", "deny"].includes(Object.keys(value)[0]) && Array.isArray(Object.values(value)[0]) &&
    Object.values(value)[0].every((t) => typeof t === "string"));
  if (!ok) throw new ConfigError(`${name}: ${key} must be true, false, {"allow": [...]} or {"deny": [...]}`);
}

/** The SDK's dataCollection object, checked key by key. */
export function checkDataCollection(name, value) {
  if (!isObject(value)) throw new ConfigError(`${name} must be a JSON object (the SDK's dataCollection option)`);
  const unknown = Object.keys(value).filter((k) => !DATA_COLLECTION_KEYS.includes(k));
  if (unknown.length) {
    throw new ConfigError(`${name}: unknown key(s) ${unknown.join(", ")}; allowed: ${DATA_COLLECTION_KEYS.join(", ")}`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (["userInfo", "databaseQueryData", "queues"].includes(key) && typeof item !== "boolean") {
      throw new ConfigError(`${name}: ${key} must be true or false`);
    }
    if (["cookies", "urlQueryParams", "stackFrameVariables"].includes(key)) checkCollect(name, key, item);
    if (key === "httpHeaders") {
      if (isObject(item) && !("allow" in item) && !("deny" in item)) {
        for (const [side, behavior] of Object.entries(item)) {
          if (!["request", "response"].includes(side)) throw new ConfigError(`${name}: httpHeaders has request and response only`);
          checkCollect(name, `httpHeaders.${side}`, behavior);
        }
      } else checkCollect(name, key, item);
    }
    if (key === "httpBodies" && !(Array.isArray(item) && item.every((t) => BODY_TARGETS.includes(t)))) {
      throw new ConfigError(`${name}: httpBodies must be a list of ${BODY_TARGETS.join(", ")}`);
    }
    if (["graphQL", "genAI", "mcp"].includes(key) && !(isObject(item) && Object.values(item).every((b) => typeof b === "boolean"))) {
      throw new ConfigError(`${name}: ${key} must be an object of true/false flags`);
    }
    if (key === "frameContextLines" && !(Number.isInteger(item) && item >= 0)) {
      throw new ConfigError(`${name}: frameContextLines must be a whole number >= 0`);
    }
  }
  return value;
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
  return checkDataCollection(name, value);
}

/**
 * The config of one side, from an environment object. `prefix` is "" for a server's own names, or a framework's
 * public prefix for the browser copies; `side` "server" also reads the server-only variables. Throws ConfigError
 * naming the first bad variable.
 */
export function readConfig(env, { prefix = "", side = "server" } = {}) {
  const name = (n) => `${prefix}${n}`;
  const environment = raw(env, name("SENTRY_ENVIRONMENT")) ?? VARIABLES.SENTRY_ENVIRONMENT.default;
  const config = { dsn: raw(env, name("SENTRY_DSN")), environment, release: raw(env, name("SENTRY_RELEASE")) };
  for (const [key, variable] of Object.entries(RATE_KEYS)) config[key] = rate(env, name(variable), VARIABLES[variable].default);
  config.dataCollection = dataCollection(env, name("SENTRY_DATA_COLLECTION"));
  config.debug = bool(env, name("SENTRY_DEBUG"), false);
  config.sendDefaultPii = bool(env, name("SENTRY_SEND_DEFAULT_PII"), null);
  if (side === "server") {
    const logEvents = bool(env, "SENTRY_STACKS_LOG_EVENTS", null);
    config.logEvents = logEvents ?? DEVELOPMENT_ENVIRONMENTS.has(environment.toLowerCase());
  }
  return config;
}

/** The browser's config from the public copies under `prefix`: only the contract's public list is read, and only
 * the public keys come out (a secret in the same environment never does). */
export function publicConfig(env, prefix) {
  if (typeof prefix !== "string") throw new ConfigError("publicConfig needs the framework's public prefix");
  const allowed = new Set(publicNames(prefix));
  const picked = Object.fromEntries(Object.entries(env ?? {}).filter(([k]) => allowed.has(k)));
  const config = readConfig(picked, { prefix, side: "browser" });
  return Object.fromEntries(PUBLIC_KEYS.map((k) => [k, config[k]]));
}

/** The browser's check of a config object the server handed the page (window.__SENTRY_STACKS_CONFIG__). */
export function fromPublic(object) {
  if (!isObject(object)) return { ...publicConfig({}, ""), dsn: null };
  const env = {};
  const asText = (v) => (v === null || v === undefined ? undefined : typeof v === "object" ? JSON.stringify(v) : String(v));
  env.SENTRY_DSN = asText(object.dsn);
  env.SENTRY_ENVIRONMENT = asText(object.environment);
  env.SENTRY_RELEASE = asText(object.release);
  for (const [key, variable] of Object.entries(RATE_KEYS)) env[variable] = asText(object[key]);
  env.SENTRY_DATA_COLLECTION = asText(object.dataCollection);
  env.SENTRY_DEBUG = asText(object.debug);
  env.SENTRY_SEND_DEFAULT_PII = asText(object.sendDefaultPii);
  return publicConfig(env, "");
}

/** A script that hands `config` to the page: safe inside <script> (no "</script>", no "<!--"). */
export function publicScript(config) {
  const json = JSON.stringify(config).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
  return `window.${GLOBAL_NAME} = ${json};\n`;
}

/** The SDK's major version from its SDK_VERSION string. */
export function sdkMajor(version) {
  const major = Number.parseInt(String(version ?? "").split(".")[0], 10);
  return Number.isNaN(major) ? 0 : major;
}

/** Whether user details are collected: dataCollection.userInfo, else the deprecated sendDefaultPii. */
export function userInfo(config) {
  if (config.dataCollection) return config.dataCollection.userInfo === true;
  return config.sendDefaultPii === true;
}

/** What Sentry gets of a user in the browser: the id, and the username and email only with user info. */
export function browserUser(user, config) {
  if (!user || user.id === undefined || user.id === null) return null;
  const out = { id: String(user.id) };
  if (userInfo(config)) {
    if (user.username) out.username = String(user.username);
    if (user.email) out.email = String(user.email);
  }
  return out;
}

/** Never a health check; otherwise the parent's decision (inheritOrSampleWith); otherwise `rate`. */
export function tracesSampler(rate, healthPaths = HEALTH_PATHS) {
  const paths = new Set(healthPaths);
  return (context) => {
    const name = String(context?.name ?? "");
    const path = name.includes(" ") ? name.slice(name.indexOf(" ") + 1) : name;
    const target = context?.attributes?.["url.path"] ?? context?.normalizedRequest?.url;
    let targetPath = null;
    try {
      targetPath = target ? new URL(String(target), "http://x").pathname : null;
    } catch {
      targetPath = null;
    }
    if (paths.has(name) || paths.has(path) || (targetPath && paths.has(targetPath))) return 0;
    if (typeof context?.inheritOrSampleWith === "function") return context.inheritOrSampleWith(rate);
    if (typeof context?.parentSampled === "boolean") return context.parentSampled ? 1 : 0;
    return rate;
  };
}

/**
 * Sentry.init options for the running SDK (`sdkVersion`: the package's SDK_VERSION): the current major (11) gets
 * `dataCollection`; an older one (10) gets `sendDefaultPii` from dataCollection.userInfo instead. The app's own
 * options are laid on top by the callers.
 */
export function sdkOptions(config, sdkVersion, { healthPaths } = {}) {
  const options = {
    dsn: config.dsn ?? undefined,
    enabled: Boolean(config.dsn),
    environment: config.environment,
    release: config.release ?? undefined,
    sampleRate: config.sampleRate,
    tracesSampler: tracesSampler(config.tracesSampleRate, healthPaths),
    debug: config.debug,
  };
  if (sdkMajor(sdkVersion) >= 11) {
    if (config.dataCollection) options.dataCollection = config.dataCollection;
    else if (config.sendDefaultPii !== null) options.dataCollection = { userInfo: config.sendDefaultPii };
  } else {
    options.sendDefaultPii = userInfo(config);
  }
  return options;
}

/** The config for a log line: the DSN without its key. */
export function masked(config) {
  if (!config.dsn) return { ...config };
  try {
    const url = new URL(config.dsn);
    return { ...config, dsn: `${url.protocol}//***@${url.host}${url.pathname}` };
  } catch {
    return { ...config, dsn: "***" };
  }
}
