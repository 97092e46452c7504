// pnpm build: bundles each catalog server's stdio entry (packages/catalog/src/stdio-main.ts with
// the server's name compiled in) into packages/<server>/dist/server.cjs, started by a small
// packages/<server>/dist/main.js through V8's code cache (see LOADER), and the HTTP host into
// packages/http/dist/main.js (ESM; code splitting keeps the servers' code it loads lazily in their
// own chunks). MCP clients spawn these with plain `node`; a bundle starts fastest.
import fs from "node:fs";
import path from "node:path";
import { build, type BuildOptions, type Plugin } from "esbuild";
import { serverNames } from "@marketsage/catalog";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));

/**
 * Prisma's query compiler ships as a 2.6 MB base64 string in a JS module; bundled, V8 must scan
 * that source and keep it and the decoded string for the life of the process. Here that module
 * reads the .wasm bytes from a file written next to its chunk instead (the generated client still
 * gets its base64 string; the module is loaded only when Prisma runs its first query). Measured on
 * customer-data after its first call: 7 MB less RSS.
 */
const prismaWasmFile: Plugin = {
  name: "prisma-wasm-file",
  setup(b) {
    const file = "prisma-query-compiler.wasm";
    let source: string | undefined;
    b.onResolve({ filter: /query_compiler_bg\.postgresql\.wasm-base64\.mjs$/ }, async (args) => {
      if (args.pluginData === "inner") return undefined;
      source = (await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "inner" })).path;
      return { path: source, namespace: "prisma-wasm" };
    });
    b.onLoad({ filter: /.*/, namespace: "prisma-wasm" }, () => ({
      contents: `import { readFileSync } from "node:fs";\nexport const wasm = readFileSync(new URL("./${file}", import.meta.url)).toString("base64");\n`,
      loader: "js",
    }));
    b.onEnd(async (result) => {
      if (!source || !result.metafile) return;
      const { wasm } = (await import(source)) as { wasm: string };
      for (const [out, o] of Object.entries(result.metafile.outputs)) {
        if (Object.keys(o.inputs).some((i) => i.startsWith("prisma-wasm:"))) fs.writeFileSync(path.join(path.dirname(out), file), Buffer.from(wasm, "base64"));
      }
    });
  },
};

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
  // Whitespace and syntax only (names stay, stack traces stay readable; the linked source map has
  // the rest). It drops comments, whose few non-ASCII characters made V8 hold each chunk's source
  // as a two-byte string: 6 MB less idle RSS on customer-data. Full minification was measured:
  // no faster to compile (V8 pre-parses denser code no quicker) and names are lost.
  minifyWhitespace: true,
  minifySyntax: true,
  // pg asks "is this a Cloudflare Worker?" when it loads: with no `navigator` (Node 20; Node 21+
  // has one) it constructs a fetch Response to find out, which loads Node's whole fetch stack
  // (undici) at start-up for nothing. Every use in the bundle only asks whether it is Cloudflare.
  define: { navigator: JSON.stringify({ userAgent: "Node.js" }) },
  metafile: true,
  plugins: [prismaWasmFile],
  // A native addon (the report charts' PNG renderer): loaded from node_modules at run time.
  external: ["@resvg/resvg-js"],
  // Bundled CommonJS dependencies still call require() for Node built-ins.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};

/**
 * The stdio servers start through V8's code cache: one CommonJS bundle (dist/server.cjs, run by
 * the dist/main.js below through vm.Script) whose compiled code V8 saves beside it after the first
 * start and reuses after that. Compiling the bundle's functions is most of a cold start: measured
 * spawn → tools/list 1.69× → 1.20× the bare SDK server on Node 20, 2.02× → 1.23× on Node 24. (ESM
 * has no code cache on Node 20; Node 22's module.enableCompileCache was measured: no gain, it keeps
 * only the eagerly compiled top level.)
 */
const LOADER = `#!/usr/bin/env node
// Runs server.cjs through V8's code cache (server.<node version>.v8cache beside it), written once
// per build and Node version a second after start-up, so it holds what a start compiles. V8 rejects
// a cache that does not match the source or itself; the next start then writes a fresh one. Only
// this directory is used: a code cache is code, so it never goes where another user could write.
import fs from "node:fs";
import Module from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const dir = path.dirname(fileURLToPath(import.meta.url));
const file = path.join(dir, "server.cjs");
const cacheFile = path.join(dir, \`server.\${process.version}.v8cache\`);
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {}
// The entry's "#!" line becomes a comment (same length: stack positions stay right).
const source = fs.readFileSync(file, "utf8").replace(/^#!/, "//");
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (!cachedData || script.cachedDataRejected) {
  setTimeout(() => {
    try {
      const tmp = \`\${cacheFile}.\${process.pid}\`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {}
  }, 1000).unref();
}
const module = { exports: {} };
script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, dir);
`;

const codeCached = (t: { name: string; entry: string; define: Record<string, string> }) => async (outdir: string) => {
  await build({
    ...common,
    format: "cjs",
    splitting: false,
    entryNames: undefined,
    chunkNames: undefined,
    outdir: undefined,
    entryPoints: [t.entry],
    outfile: path.join(outdir, "server.cjs"),
    // import() stays out of the bundle: a vm.Script restored from a code cache has no loader for it.
    supported: { "dynamic-import": false },
    define: { ...common.define, ...t.define, "import.meta.url": "__importMetaUrl" },
    banner: { js: "var __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  fs.writeFileSync(path.join(outdir, "main.js"), LOADER, { mode: 0o755 });
};

const targets = [
  ...serverNames().map((name) => ({ name, entry: path.join(root, "packages", "catalog", "src", "stdio-main.ts"), define: { MARKETSAGE_SERVER: JSON.stringify(name) }, cached: true })),
  ...(fs.existsSync(path.join(root, "packages", "http", "src", "main.ts")) ? [{ name: "http", entry: path.join(root, "packages", "http", "src", "main.ts"), define: {}, cached: false }] : []),
];

const started = Date.now();
await Promise.all(
  targets.map((t) => {
    const outdir = path.join(root, "packages", t.name, "dist");
    // No clean first: a test or client may be spawning the previous build right now.
    if (t.cached) return codeCached(t)(outdir);
    return build({ ...common, entryPoints: [t.entry], outdir, define: { ...common.define, ...t.define } });
  }),
);
process.stderr.write(`built ${targets.length} entr${targets.length === 1 ? "y" : "ies"} in ${Date.now() - started} ms: ${targets.map((t) => t.name).join(", ")}\n`);
