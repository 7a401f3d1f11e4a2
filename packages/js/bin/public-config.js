#!/usr/bin/env node
// sentry-stacks-public-config: write the browser's Sentry config from this process's environment (a container's
// start step, for a static SPA whose bundle cannot read the environment: Vite inlines VITE_* at build time).
//   sentry-stacks-public-config --framework vite --out dist/sentry-config.js      # then serve dist/
//   <script src="/sentry-config.js"></script>  before the app's module script in index.html
// Options: --framework vite|nextjs|sveltekit|nuxt (its public prefix) or --prefix PREFIX; --format js|json
// (default: from the file name); --out FILE (default stdout). Only the contract's public list is read; a bad value
// exits 2 naming the variable. The file is written atomically, mode 0644 (a DSN is public; nothing else is in it).
import { renameSync, writeFileSync } from "node:fs";
import { ConfigError, PUBLIC_PREFIXES, publicConfig, publicScript } from "../src/config.js";

function fail(message, code = 2) {
  console.error(`sentry-stacks-public-config: ${message}`);
  process.exit(code);
}

const args = process.argv.slice(2);
const opts = {};
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i];
  if (arg === "-h" || arg === "--help") {
    console.log("usage: sentry-stacks-public-config (--framework NAME | --prefix PREFIX) [--out FILE] [--format js|json]");
    process.exit(0);
  }
  const [key, inline] = arg.startsWith("--") ? arg.slice(2).split("=", 2) : [null, null];
  if (!["framework", "prefix", "out", "format"].includes(key)) fail(`unknown argument ${arg}`, 1);
  opts[key] = inline ?? args[++i];
  if (opts[key] === undefined) fail(`--${key} needs a value`, 1);
}
let prefix = opts.prefix;
if (prefix === undefined) {
  if (!opts.framework) fail("give --framework (vite, nextjs, sveltekit, nuxt) or --prefix", 1);
  prefix = PUBLIC_PREFIXES[opts.framework];
  if (typeof prefix !== "string") fail(`--framework must be one of ${Object.keys(PUBLIC_PREFIXES).filter((k) => PUBLIC_PREFIXES[k]).join(", ")}`, 1);
}
const format = opts.format ?? (opts.out?.endsWith(".json") ? "json" : "js");
if (!["js", "json"].includes(format)) fail("--format must be js or json", 1);
let config;
try {
  config = publicConfig(process.env, prefix);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const text = format === "json" ? `${JSON.stringify(config)}\n` : publicScript(config);
if (!opts.out) {
  process.stdout.write(text);
} else {
  const tmp = `${opts.out}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, opts.out);
  console.error(`sentry-stacks-public-config: wrote ${opts.out} (Sentry ${config.dsn ? "enabled" : "disabled: no " + prefix + "SENTRY_DSN"})`);
}
