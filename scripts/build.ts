// pnpm build: bundles each catalog server's stdio entry (packages/catalog/src/stdio-main.ts with
// the server's name compiled in) into packages/<server>/dist/main.js, and the HTTP host into
// packages/http/dist/main.js. MCP clients spawn these with plain `node`; a bundle starts fastest.
// Code splitting keeps the other servers' code (loaded only to check MCP_TOOLS) out of the
// entry's own file.
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
    return build({ ...common, entryPoints: [t.entry], outdir, define: { ...common.define, ...t.define } });
  }),
);
process.stderr.write(`built ${targets.length} entr${targets.length === 1 ? "y" : "ies"} in ${Date.now() - started} ms: ${targets.map((t) => t.name).join(", ")}\n`);
