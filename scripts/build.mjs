// Builds each server's entry (packages/<server>/src/main.ts) into one plain JS file
// (packages/<server>/dist/main.js): MCP clients spawn these, and a bundle starts fastest.
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const servers = fs
  .readdirSync(path.join(root, "packages"))
  .filter((d) => fs.existsSync(path.join(root, "packages", d, "src", "main.ts")));

const started = Date.now();
await Promise.all(
  servers.map((name) =>
    build({
      entryPoints: [path.join(root, "packages", name, "src", "main.ts")],
      outfile: path.join(root, "packages", name, "dist", "main.js"),
      bundle: true,
      platform: "node",
      target: "node20",
      format: "esm",
      sourcemap: "linked",
      logLevel: "warning",
      // Bundled CommonJS dependencies still call require() for Node built-ins.
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    }),
  ),
);
process.stderr.write(`built ${servers.length} server(s) in ${Date.now() - started} ms: ${servers.join(", ")}\n`);
