// Next.js (app router): a server component for the root layout that hands the page the public config of the
// running server (NEXT_PUBLIC_SENTRY_* read at request time: Next.js inlines NEXT_PUBLIC_* into bundles at build
// time, so the bundles never carry them). It renders an inline script, which the browser runs while it parses the
// page; the package's instrumentation-client init waits for the parsed document when it runs earlier.
//   // app/layout.js
//   import { SentryStacksConfig } from "@sentry-stacks/runtime/nextjs/config";
//   export default function RootLayout({ children }) {
//     return <html><body><SentryStacksConfig />{children}</body></html>;
//   }
import { connection } from "next/server";
import { createElement } from "react";
import { publicConfig, publicScript } from "./config.js";

export const PREFIX = "NEXT_PUBLIC_";

export async function SentryStacksConfig() {
  await connection(); // rendered per request: a rotated DSN is in the next page, no rebuild
  const script = publicScript(publicConfig(process.env, PREFIX));
  return createElement("script", { id: "sentry-stacks-config", dangerouslySetInnerHTML: { __html: script } });
}
