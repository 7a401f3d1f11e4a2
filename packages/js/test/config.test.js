// node --test: the configuration both sides read at run time (src/config.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConfigError, DATA_COLLECTION_KEYS, PUBLIC_KEYS, PUBLIC_PREFIXES, fromPublic, masked, publicConfig, publicNames,
  publicScript, readConfig, sdkOptions, tracesSampler,
} from "../src/config.js";

const DSN = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/42";
const SECRETS = { SENTRY_AUTH_TOKEN: "sntrys_secret_token", DJANGO_SECRET_KEY: "django-secret" };

test("the server reads its own names, with the toolkit's defaults", () => {
  const config = readConfig({ SENTRY_DSN: ` ${DSN} `, SENTRY_RELEASE: "shop@2", SENTRY_TRACES_SAMPLE_RATE: "0.25", PUBLIC_SENTRY_DSN: "x" });
  assert.equal(config.dsn, DSN);
  assert.equal(config.environment, "development");
  assert.deepEqual([config.sampleRate, config.tracesSampleRate, config.replaysSessionSampleRate], [1, 0.25, 0]);
  assert.equal(config.logEvents, true, "development: events are logged unless asked otherwise");
  assert.equal(readConfig({ SENTRY_ENVIRONMENT: "production" }).logEvents, false);
  assert.equal(readConfig({ SENTRY_ENVIRONMENT: "dev", SENTRY_STACKS_LOG_EVENTS: "false" }).logEvents, false);
  assert.equal(readConfig({ SENTRY_ENVIRONMENT: "prod", SENTRY_STACKS_LOG_EVENTS: "yes" }).logEvents, true);
});

test("the browser's config comes from the public copies of its framework", () => {
  for (const [framework, prefix] of Object.entries(PUBLIC_PREFIXES)) {
    if (!prefix) continue;
    const env = {
      [`${prefix}SENTRY_DSN`]: DSN, [`${prefix}SENTRY_ENVIRONMENT`]: "prod", [`${prefix}SENTRY_RELEASE`]: "shop@2",
      [`${prefix}SENTRY_TRACES_SAMPLE_RATE`]: "0.1", [`${prefix}SENTRY_REPLAYS_SESSION_SAMPLE_RATE`]: "0.05",
      [`${prefix}SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE`]: "1", [`${prefix}SENTRY_DATA_COLLECTION`]: '{"userInfo":false}',
      SENTRY_DSN: "http://server@127.0.0.1:9/1",
    };
    assert.deepEqual(publicConfig(env, prefix), {
      dsn: DSN, environment: "prod", release: "shop@2", sampleRate: 1, tracesSampleRate: 0.1,
      replaysSessionSampleRate: 0.05, replaysOnErrorSampleRate: 1, dataCollection: { userInfo: false }, debug: false,
      sendDefaultPii: null,
    }, framework);
  }
});

test("a secret never becomes public, whatever its name or prefix", () => {
  for (const prefix of Object.values(PUBLIC_PREFIXES).filter(Boolean)) {
    const env = { ...SECRETS, [`${prefix}SENTRY_AUTH_TOKEN`]: "sntrys_prefixed", [`${prefix}SENTRY_DSN`]: DSN,
      [`${prefix}SENTRY_PROFILES_SAMPLE_RATE`]: "0.5", [`${prefix}OTHER`]: "x" };
    const text = publicScript(publicConfig(env, prefix)) + JSON.stringify(publicConfig(env, prefix));
    for (const secret of ["sntrys_secret_token", "sntrys_prefixed", "django-secret"]) assert.ok(!text.includes(secret), prefix);
    assert.deepEqual(Object.keys(publicConfig(env, prefix)), PUBLIC_KEYS);
    assert.ok(publicNames(prefix).every((n) => n.startsWith(`${prefix}SENTRY_`) && !/TOKEN|SECRET|PROFILE|STACKS_/.test(n)));
  }
});

for (const [name, value] of [
  ["PUBLIC_SENTRY_REPLAYS_SESSION_SAMPLE_RATE", "2"],
  ["PUBLIC_SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE", "x"],
  ["PUBLIC_SENTRY_TRACES_SAMPLE_RATE", "-1"],
  ["PUBLIC_SENTRY_SAMPLE_RATE", "50%"],
  ["PUBLIC_SENTRY_DEBUG", "perhaps"],
  ["PUBLIC_SENTRY_DATA_COLLECTION", "[1]"],
  ["PUBLIC_SENTRY_DATA_COLLECTION", '{"user_info": true}'],
  ["PUBLIC_SENTRY_DATA_COLLECTION", '{"cookies": "yes"}'],
  ["PUBLIC_SENTRY_DATA_COLLECTION", '{"httpBodies": ["incoming_request"]}'],
  ["PUBLIC_SENTRY_DATA_COLLECTION", '{"frameContextLines": -1}'],
]) {
  test(`a bad ${name} (${value}) is refused, naming it`, () => {
    assert.throws(() => publicConfig({ [name]: value }, "PUBLIC_"), (error) => error instanceof ConfigError && error.message.includes(name));
  });
}

test("a server-side bad value names the server's variable", () => {
  assert.throws(() => readConfig({ SENTRY_STACKS_LOG_EVENTS: "maybe" }), /SENTRY_STACKS_LOG_EVENTS must be true or false/);
  assert.throws(() => readConfig({ SENTRY_SAMPLE_RATE: "nan" }), /SENTRY_SAMPLE_RATE must be a number between 0 and 1/);
});

test("the toolkit's rendered dataCollection shape passes", () => {
  const rendered = { userInfo: false, cookies: false, httpHeaders: { request: { deny: ["forwarded", "-ip"] }, response: true },
    httpBodies: ["incomingRequest", "incomingResponse"], urlQueryParams: true, graphQL: { document: false, variables: false },
    genAI: { inputs: false, outputs: false }, databaseQueryData: false, queues: false, stackFrameVariables: { allow: ["x"] },
    frameContextLines: 5 };
  assert.deepEqual(readConfig({ SENTRY_DATA_COLLECTION: JSON.stringify(rendered) }).dataCollection, rendered);
  assert.ok(DATA_COLLECTION_KEYS.includes("mcp"));
});

test("SDK 11 gets dataCollection; SDK 10 gets sendDefaultPii from userInfo", () => {
  const config = readConfig({ SENTRY_DSN: DSN, SENTRY_DATA_COLLECTION: '{"userInfo":true,"cookies":false}', SENTRY_SEND_DEFAULT_PII: "false" });
  const v11 = sdkOptions(config, "11.17.0");
  assert.deepEqual(v11.dataCollection, { userInfo: true, cookies: false });
  assert.ok(!("sendDefaultPii" in v11));
  assert.equal(sdkOptions(config, "10.75.2").sendDefaultPii, true);
  assert.equal(sdkOptions(readConfig({ SENTRY_DATA_COLLECTION: '{"userInfo":false}', SENTRY_SEND_DEFAULT_PII: "true" }), "10.75.2").sendDefaultPii, false);
  assert.deepEqual(sdkOptions(readConfig({ SENTRY_SEND_DEFAULT_PII: "true" }), "11.0.0").dataCollection, { userInfo: true });
  assert.equal(sdkOptions(readConfig({}), "11.1.0").enabled, false);
  assert.equal(sdkOptions(config, "11.1.0").enabled, true);
});

test("the sampler never traces a health check and honours the parent", () => {
  const sampler = tracesSampler(0.4);
  const inherit = (parent) => (rate) => (parent === undefined ? rate : parent ? 1 : 0);
  assert.equal(sampler({ name: "GET /health", inheritOrSampleWith: inherit(true) }), 0);
  assert.equal(sampler({ name: "GET /api/x", attributes: { "url.path": "/healthz" }, inheritOrSampleWith: inherit(true) }), 0);
  assert.equal(sampler({ name: "GET /orders", inheritOrSampleWith: inherit(undefined) }), 0.4);
  assert.equal(sampler({ name: "GET /orders", inheritOrSampleWith: inherit(false) }), 0);
  assert.equal(sampler({ name: "/", parentSampled: true }), 1);
  assert.equal(tracesSampler(1, ["/ping"])({ name: "GET /health" }), 1);
});

test("the page script cannot break out of its <script> element", () => {
  const script = publicScript({ release: "</script><script>alert(1)</script>", environment: "<!--" });
  assert.ok(!script.includes("</script>") && !script.includes("<!--"));
  assert.match(script, /^window\.__SENTRY_STACKS_CONFIG__ = \{/);
});

test("the browser checks what the server handed it", () => {
  assert.equal(fromPublic(undefined).dsn, null);
  assert.deepEqual(fromPublic({ dsn: DSN, tracesSampleRate: 0.5, dataCollection: { userInfo: true }, token: "x" }).dataCollection, { userInfo: true });
  assert.ok(!("token" in fromPublic({ dsn: DSN, token: "x" })));
  assert.throws(() => fromPublic({ tracesSampleRate: 3 }), /SENTRY_TRACES_SAMPLE_RATE must be a number between 0 and 1/);
});

test("logs show the DSN without its key", () => {
  assert.equal(masked(readConfig({ SENTRY_DSN: DSN })).dsn, "http://***@127.0.0.1:9/42");
});
