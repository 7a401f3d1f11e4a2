import adapter from "@sveltejs/adapter-node";

/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    // build/ holds the server (node build/index.js) and the client assets; see demo/README.md
    adapter: adapter({ out: "build", precompress: false }),
    experimental: {
      // SvelteKit >= 2.31: src/instrumentation.server.js runs before the app is imported (Sentry.init
      // there), and SvelteKit emits OpenTelemetry spans for handle, load and actions that Sentry records
      instrumentation: { server: true },
      tracing: { server: true },
    },
  },
};

export default config;
