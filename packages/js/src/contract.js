// Generated from packages/contract.json by scripts/gen-contract.mjs: do not edit.
export const CONTRACT = {
  "description": "The environment the Sentry Stacks toolkit renders into each service, and what its runtime packages (sentry-stacks-runtime for Python, @sentry-stacks/runtime for JavaScript) read. One source: the packages load or are generated from this file, and the toolkit renders from it (infra/contract.py). kind: dsn | text | rate (0..1) | bool | choice | json | path | seconds. server: the process reads it (sdks: only those SDKs, python and javascript being the runtime packages' and foreign any SDK without one here (Go, Ruby, Java...), whose own code reads the variable; default every SDK). public: true = also rendered with the framework's public prefix for the browser (only these ever become public). rendered: the toolkit renders it. frameworks: what a service can be (services.<name>.framework), the SDK it runs and the Sentry platforms that imply it; publicPrefixes: the prefix its browser reads.",
  "version": 1,
  "variables": [
    {
      "name": "SENTRY_DSN",
      "kind": "dsn",
      "default": null,
      "server": true,
      "public": true,
      "rendered": true,
      "doc": "where events go; unset or empty disables Sentry"
    },
    {
      "name": "SENTRY_ENVIRONMENT",
      "kind": "text",
      "default": "development",
      "server": true,
      "public": true,
      "rendered": true,
      "doc": "the environment name (not the SDKs' own default, production)"
    },
    {
      "name": "SENTRY_RELEASE",
      "kind": "text",
      "default": null,
      "server": true,
      "public": true,
      "rendered": true,
      "doc": "the release shared by all services of a stack"
    },
    {
      "name": "SENTRY_SAMPLE_RATE",
      "kind": "rate",
      "default": 1,
      "server": true,
      "public": true,
      "rendered": true,
      "doc": "share of error events sent"
    },
    {
      "name": "SENTRY_TRACES_SAMPLE_RATE",
      "kind": "rate",
      "default": 0,
      "server": true,
      "public": true,
      "rendered": true,
      "doc": "share of root traces sampled; health checks never, an incoming parent decision wins"
    },
    {
      "name": "SENTRY_PROFILES_SAMPLE_RATE",
      "kind": "rate",
      "default": 0,
      "server": true,
      "public": false,
      "rendered": true,
      "sdks": [
        "python"
      ],
      "doc": "transaction-based profiling: share of sampled transactions (Python); not together with the next one"
    },
    {
      "name": "SENTRY_PROFILE_SESSION_SAMPLE_RATE",
      "kind": "rate",
      "default": 0,
      "server": true,
      "public": false,
      "rendered": true,
      "sdks": [
        "python"
      ],
      "doc": "continuous profiling: share of processes (Python)"
    },
    {
      "name": "SENTRY_PROFILE_LIFECYCLE",
      "kind": "choice",
      "choices": [
        "trace",
        "manual"
      ],
      "default": "trace",
      "server": true,
      "public": false,
      "rendered": true,
      "sdks": [
        "python"
      ],
      "doc": "continuous profiler: trace (runs while a sampled transaction is open) or manual"
    },
    {
      "name": "SENTRY_DATA_COLLECTION",
      "kind": "json",
      "default": null,
      "server": true,
      "public": true,
      "rendered": true,
      "doc": "JSON object, the SDK's own data collection option in its own shape: sentry-python's data_collection (snake_case), the JavaScript SDK 11's dataCollection (camelCase); a foreign SDK's code gets sentry-python's to map"
    },
    {
      "name": "SENTRY_DEBUG",
      "kind": "bool",
      "default": false,
      "server": true,
      "public": true,
      "rendered": true,
      "doc": "the SDK's debug logging"
    },
    {
      "name": "SENTRY_SEND_DEFAULT_PII",
      "kind": "bool",
      "default": null,
      "server": true,
      "public": true,
      "rendered": false,
      "sdks": [
        "python",
        "javascript"
      ],
      "doc": "deprecated: send_default_pii / sendDefaultPii; ignored when SENTRY_DATA_COLLECTION is set"
    },
    {
      "name": "SENTRY_REPLAYS_SESSION_SAMPLE_RATE",
      "kind": "rate",
      "default": 0,
      "server": false,
      "public": true,
      "rendered": true,
      "doc": "browser only: share of sessions recorded by Session Replay"
    },
    {
      "name": "SENTRY_REPLAYS_ON_ERROR_SAMPLE_RATE",
      "kind": "rate",
      "default": 0,
      "server": false,
      "public": true,
      "rendered": true,
      "doc": "browser only: share of sessions with an error recorded by Session Replay"
    },
    {
      "name": "SENTRY_STACKS_ENV_FILE",
      "kind": "path",
      "default": null,
      "server": true,
      "public": false,
      "rendered": true,
      "sdks": [
        "python",
        "javascript"
      ],
      "doc": "dsnReload: file: a mounted rendered env file whose SENTRY_* values win over the environment and are re-read on change (the SDK client is swapped, no restart)"
    },
    {
      "name": "SENTRY_STACKS_RELOAD_INTERVAL",
      "kind": "seconds",
      "default": 1,
      "server": true,
      "public": false,
      "rendered": false,
      "sdks": [
        "python"
      ],
      "doc": "how often the env file is checked for a change, 0.05..3600 seconds"
    },
    {
      "name": "SENTRY_STACKS_LOG_EVENTS",
      "kind": "bool",
      "default": null,
      "server": true,
      "public": false,
      "rendered": true,
      "sdks": [
        "python",
        "javascript"
      ],
      "doc": "true: log each event instead of sending it; false: send; unset: log in a development environment (see developmentEnvironments), send elsewhere. The toolkit renders false where the default would log (a deployed stack sends), unless the service's own environment sets it"
    },
    {
      "name": "SENTRY_STACKS_CRON_MONITORS",
      "kind": "json",
      "default": null,
      "server": true,
      "public": false,
      "rendered": true,
      "doc": "the cron monitors this service runs (cronMonitors.<name>.service): a JSON object of name -> {\"slug\", \"config\"}, config being the SDK's monitor config in its own shape, exactly as the stack declares the Sentry monitor: sentry-python's monitor_config (schedule {type: crontab|interval, value, unit}, timezone, checkin_margin, max_runtime, failure_issue_threshold, recovery_threshold), the JavaScript SDK's MonitorConfig (the same in camelCase); a foreign SDK's code gets sentry-python's to map"
    }
  ],
  "publicPrefixes": {
    "sveltekit": "PUBLIC_",
    "nextjs": "NEXT_PUBLIC_",
    "vite": "VITE_",
    "nuxt": "NUXT_PUBLIC_",
    "node": null
  },
  "frameworks": {
    "sveltekit": {
      "sdk": "javascript",
      "platforms": [
        "javascript-sveltekit"
      ],
      "doc": "SvelteKit: the Node server reads SENTRY_*, the browser the PUBLIC_ copies ($env/dynamic/public, in every page at run time)"
    },
    "nextjs": {
      "sdk": "javascript",
      "platforms": [
        "javascript-nextjs"
      ],
      "doc": "Next.js: the server reads SENTRY_*, the browser the NEXT_PUBLIC_ copies (rendered per request by SentryStacksConfig, never inlined at build time)"
    },
    "vite": {
      "sdk": "javascript",
      "platforms": [],
      "doc": "a Vite SPA served as static files: the container writes the page's config from the VITE_ copies at start (sentry-stacks-public-config)"
    },
    "nuxt": {
      "sdk": "javascript",
      "platforms": [
        "javascript-nuxt"
      ],
      "doc": "Nuxt: the server reads SENTRY_*, the browser the NUXT_PUBLIC_ copies (put into each page by the Nitro plugin of @sentry-stacks/runtime/nuxt/server)"
    },
    "node": {
      "sdk": "javascript",
      "platforms": [
        "node",
        "node-connect",
        "node-express",
        "node-fastify",
        "node-hapi",
        "node-koa",
        "node-nestjs"
      ],
      "doc": "a Node server without a browser part: SENTRY_* only"
    },
    "django": {
      "sdk": "python",
      "platforms": [
        "python-django"
      ],
      "doc": "Django: SENTRY_*"
    },
    "flask": {
      "sdk": "python",
      "platforms": [
        "python-flask"
      ],
      "doc": "Flask: SENTRY_*"
    },
    "fastapi": {
      "sdk": "python",
      "platforms": [
        "python-fastapi"
      ],
      "doc": "FastAPI: SENTRY_*"
    },
    "celery": {
      "sdk": "python",
      "platforms": [
        "python-celery"
      ],
      "doc": "a Celery worker or beat: SENTRY_*, and the cron monitors it runs (SENTRY_STACKS_CRON_MONITORS)"
    },
    "other": {
      "sdk": null,
      "platforms": [],
      "doc": "a server the toolkit does not know: SENTRY_* in its platform's SDK shape (JavaScript for javascript-*, node-*, bun, deno; Python for python-*); another language (go, ruby-rails, java-spring-boot...) runs a foreign SDK: only the variables without sdks, which its own code reads, with the JSON values in Python's shape"
    }
  },
  "developmentEnvironments": [
    "development",
    "dev",
    "local"
  ],
  "healthPaths": [
    "/api/health/",
    "/api/health",
    "/health",
    "/health/",
    "/healthz",
    "/healthz/"
  ],
  "booleans": {
    "true": [
      "1",
      "true",
      "yes",
      "on"
    ],
    "false": [
      "0",
      "false",
      "no",
      "off"
    ]
  }
};
