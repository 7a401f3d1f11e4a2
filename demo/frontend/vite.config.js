import { sentrySvelteKit } from "@sentry/sveltekit";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

export default defineConfig({
  // source maps for Sentry, hidden: a .map beside each file and no sourceMappingURL in it, so browsers never
  // ask for them; scripts/build-frontend injects debug ids (sentry-cli) and moves every client map out of build/
  // into dist/sourcemaps/frontend, which the stack uploads to the frontend's Sentry project for its release
  build: { sourcemap: "hidden" },
  plugins: [
    // wraps load functions and injects what the SDK needs; no upload from the build (no token at build time: the
    // stack uploads the maps, `services.frontend.sentry.sourceMaps`)
    sentrySvelteKit({ autoUploadSourceMaps: false, telemetry: false }),
    sveltekit(),
  ],
});
