import { defineConfig } from "vite";

// JSX with React's automatic runtime; nothing of the environment is inlined (the page's Sentry config is written
// by the container at start, see ../Dockerfile)
export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
});
