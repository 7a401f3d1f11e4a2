import adapter from "@sveltejs/adapter-node";
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

/** @type {import('@sveltejs/kit').Config} */
const config = {
  kit: {
    // build/ holds the server (node build/index.js) and the client assets; see demo/README.md
    adapter: adapter({ out: "build", precompress: false }),
    // a fixed app version (SvelteKit's default is the build time) keeps the build reproducible, so
    // scripts/build-images finds the image current when nothing changed
    version: { name: process.env.APP_VERSION || pkg.version },
    experimental: {
      // SvelteKit >= 2.31: src/instrumentation.server.js runs before the app is imported (Sentry.init
      // there), and SvelteKit emits OpenTelemetry spans for handle, load and actions that Sentry records
      instrumentation: { server: true },
      tracing: { server: true },
    },
  },
};

export default config;
