import { sentrySvelteKit } from "@sentry/sveltekit";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [
    // wraps load functions and injects what the SDK needs; source maps are not uploaded from here
    // (no auth token at build time; a release pipeline would upload them with sentry-cli)
    sentrySvelteKit({ autoUploadSourceMaps: false, telemetry: false }),
    sveltekit(),
  ],
});
