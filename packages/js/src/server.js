// The server side, for any @sentry/* server SDK (node, sveltekit, nextjs): read process.env (and the mounted env
// file of `dsnReload: file`, whose SENTRY_* values win), check it, and call Sentry.init once with the app's own
// options on top. A bad value prints one line naming the variable and exits 2 (like the Python package's check).
import { readFileSync } from "node:fs";
import { ConfigError, browserUser, masked, readConfig, sdkOptions } from "./config.js";

export const ENV_FILE_VAR = "SENTRY_STACKS_ENV_FILE";
const UNESCAPE = { "\\": "\\", '"': '"', n: "\n", r: "\r", t: "\t", $: "$" };

/** The variables of a rendered env file (KEY='literal' or KEY="escaped" lines, comments, blank lines). */
export function parseEnvFile(text) {
  const out = {};
  text.split("\n").forEach((line, index) => {
    if (!line.trim() || line.trimStart().startsWith("#")) return;
    const eq = line.indexOf("=");
    const key = eq > 0 ? line.slice(0, eq) : "";
    const rest = eq > 0 ? line.slice(eq + 1) : "";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new ConfigError(`line ${index + 1}: expected KEY='value' or KEY="value"`);
    if (rest.length >= 2 && rest[0] === "'" && rest.at(-1) === "'") {
      out[key] = rest.slice(1, -1);
    } else if (rest.length >= 2 && rest[0] === '"' && rest.at(-1) === '"') {
      out[key] = rest.slice(1, -1).replace(/\\(.)/g, (m, c) => UNESCAPE[c] ?? m);
    } else {
      throw new ConfigError(`line ${index + 1}: the value of ${key} is not quoted`);
    }
  });
  return out;
}

/** `env` with the SENTRY_* values of SENTRY_STACKS_ENV_FILE on top (just `env` without it). */
export function effectiveEnv(env = process.env) {
  const path = String(env[ENV_FILE_VAR] ?? "").trim();
  if (!path) return { ...env };
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`${ENV_FILE_VAR}=${path} cannot be read: ${error.code ?? error.message}`);
  }
  let values;
  try {
    values = parseEnvFile(text);
  } catch (error) {
    throw new ConfigError(`${ENV_FILE_VAR}=${path}: ${error.message}`);
  }
  return { ...env, ...Object.fromEntries(Object.entries(values).filter(([k]) => k.startsWith("SENTRY_"))) };
}

function summary(envelope) {
  const [, items] = envelope;
  return items.map(([header, payload]) => {
    const type = header?.type ?? "item";
    if (type === "event" && payload) {
      const exception = payload.exception?.values?.at(-1);
      const what = exception ? `${exception.type}: ${exception.value}` : (payload.message ?? payload.logentry?.message ?? "");
      return `${payload.level ?? "error"} event ${payload.event_id}: ${String(what).slice(0, 200)}`;
    }
    if (type === "transaction" && payload) return `transaction ${JSON.stringify(payload.transaction)}`;
    return type;
  });
}

/** A transport that logs each envelope item instead of sending it (development, SENTRY_STACKS_LOG_EVENTS). */
export function logTransport(write = (line) => console.warn(line)) {
  return () => ({
    send: async (envelope) => {
      for (const line of summary(envelope)) write(`not sent (SENTRY_STACKS_LOG_EVENTS): ${line}`);
      return {};
    },
    flush: async () => true,
  });
}

/** The server's Sentry.init options: the environment's, then the app's on top. */
export function serverOptions(Sentry, config, appOptions = {}, { healthPaths } = {}) {
  const options = sdkOptions(config, Sentry.SDK_VERSION, { healthPaths });
  const app = { ...appOptions };
  if ("tracesSampleRate" in app && !("tracesSampler" in app)) {
    const rate = app.tracesSampleRate;
    delete app.tracesSampleRate;
    if (rate === undefined || rate === null) delete options.tracesSampler;
    else options.tracesSampler = sdkOptions({ ...config, tracesSampleRate: rate }, Sentry.SDK_VERSION, { healthPaths }).tracesSampler;
  }
  if (config.logEvents && !("transport" in app)) options.transport = logTransport();
  return { ...options, ...app };
}

let started = null;

/** The config in effect after initServer (or read now from process.env, before it). */
export function currentConfig() {
  return started ?? readConfig(effectiveEnv(process.env), { side: "server" });
}

/** What Sentry gets of a request's user on the server (Sentry.setUser(serverUser(req.user))): the id, and the
 * username and email only when the environment's dataCollection collects user info; null without an id. */
export function serverUser(user, config = currentConfig()) {
  return browserUser(user, config);
}

/**
 * Sentry.init on the server from process.env, once per process (later calls return the config in effect).
 * `options.env` replaces process.env; `options.exit` false throws ConfigError instead of exiting 2.
 */
export function initServer(Sentry, appOptions = {}, { env = process.env, exit = true, healthPaths } = {}) {
  if (started) return started;
  let config;
  try {
    config = readConfig(effectiveEnv(env), { side: "server" });
  } catch (error) {
    if (!(error instanceof ConfigError) || !exit) throw error;
    console.error(`configuration error: ${error.message}`);
    process.exit(2);
  }
  Sentry.init(serverOptions(Sentry, config, appOptions, { healthPaths }));
  const state = config.dsn ? `enabled, ${config.logEvents ? "logging events instead of sending them" : "sending"}` : "disabled (no SENTRY_DSN)";
  console.error(`sentry-stacks: Sentry ${state} ${JSON.stringify(masked(config))}`);
  started = config;
  return config;
}
