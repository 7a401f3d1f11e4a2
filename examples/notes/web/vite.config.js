import { defineConfig } from "vite";

// JSX with React's automatic runtime; nothing of the environment is inlined (the page's Sentry config is written
// by the container at start, see ./Dockerfile). Source maps for Sentry, hidden (no sourceMappingURL in the files):
// ../build runs scripts/build-frontend, which injects debug ids and moves every map out of dist/ into
// ../dist/sourcemaps/web; the stack uploads them (services.web.sentry.sourceMaps in ../Pulumi.yaml)
export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: "hidden", chunkSizeWarningLimit: 1000 },
});
