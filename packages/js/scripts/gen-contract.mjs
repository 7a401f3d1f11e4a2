// Writes src/contract.js from ../contract.json (the one contract of both runtime packages), so the browser
// bundles of every framework import plain JavaScript. `node scripts/gen-contract.mjs --check` exits 1 when the
// file is stale (test/contract.test.js runs it).
import { readFileSync, writeFileSync } from "node:fs";

const source = new URL("../../contract.json", import.meta.url);
const target = new URL("../src/contract.js", import.meta.url);
const contract = JSON.parse(readFileSync(source, "utf8"));
const text = `// Generated from packages/contract.json by scripts/gen-contract.mjs: do not edit.
export const CONTRACT = ${JSON.stringify(contract, null, 2)};
`;
if (process.argv.includes("--check")) {
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    current = "";
  }
  if (current !== text) {
    console.error("src/contract.js is stale: run node scripts/gen-contract.mjs");
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
