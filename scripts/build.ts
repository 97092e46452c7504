// pnpm build: bundles each catalog server's stdio entry (packages/catalog/src/stdio-main.ts with
// the server's name compiled in) into packages/<server>/dist/main.js, and the HTTP host into
// packages/http/dist/main.js. MCP clients spawn these with plain `node`; a bundle starts fastest.
// Code splitting keeps the other servers' code (loaded only to check MCP_TOOLS) out of the
// entry's own file.
import fs from "node:fs";
import path from "node:path";
import { build, type BuildOptions } from "esbuild";
import { serverNames } from "@marketsage/catalog";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));

const common: BuildOptions = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  splitting: true,
  sourcemap: "linked",
  logLevel: "warning",
  entryNames: "main",
  chunkNames: "chunks/[name]-[hash]",
  // Bundled CommonJS dependencies still call require() for Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};

const targets = [
  ...serverNames().map((name) => ({ name, entry: path.join(root, "packages", "catalog", "src", "stdio-main.ts"), define: { MARKETSAGE_SERVER: JSON.stringify(name) } })),
  ...(fs.existsSync(path.join(root, "packages", "http", "src", "main.ts")) ? [{ name: "http", entry: path.join(root, "packages", "http", "src", "main.ts"), define: {} }] : []),
];

const started = Date.now();
await Promise.all(
  targets.map((t) => {
    const outdir = path.join(root, "packages", t.name, "dist");
    // No clean first: a test or client may be spawning the previous build right now.
    return build({ ...common, entryPoints: [t.entry], outdir, define: t.define });
  }),
);
process.stderr.write(`built ${targets.length} entr${targets.length === 1 ? "y" : "ies"} in ${Date.now() - started} ms: ${targets.map((t) => t.name).join(", ")}\n`);
