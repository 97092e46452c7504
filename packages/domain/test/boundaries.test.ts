// Package boundaries (DESIGN.md): no server package imports another server package (what two
// servers share lives in @marketsage/domain); core is the seam and imports neither domain nor any
// server; domain serves every server and imports none. A server package is one whose package.json
// says `"marketsage": { "server": true }` (the catalog's test holds the catalog to the same marker;
// the HTTP host has a src/main.ts but is no server). Checked on the source and on package.json
// dependencies, so neither a stray import nor a declared dependency slips through.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

interface Pkg {
  dir: string;
  folder: string;
  name: string;
  server: boolean;
  deps: string[];
}

const SOURCE = /\.(c|m)?(t|j)sx?$/;
const SKIP = new Set(["node_modules", "dist", "test", "generated", ".turbo"]);
// import … from "x", export … from "x", import "x", import("x"), require("x")
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;

function packagesUnder(root: string): Pkg[] {
  const base = join(root, "packages");
  return readdirSync(base)
    .filter((f) => existsSync(join(base, f, "package.json")))
    .map((folder) => {
      const dir = join(base, folder);
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      return {
        dir,
        folder,
        name: json.name as string,
        server: json.marketsage?.server === true,
        deps: Object.keys({ ...json.dependencies, ...json.devDependencies, ...json.peerDependencies, ...json.optionalDependencies }),
      };
    });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    if (SKIP.has(f)) continue;
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (SOURCE.test(f) && !/\.(test|spec)\./.test(f)) out.push(p);
  }
  return out;
}

/** Every package boundary crossed, as "file: reason" lines. */
function boundaryViolations(root: string): string[] {
  const pkgs = packagesUnder(root);
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const servers = new Set(pkgs.filter((p) => p.server).map((p) => p.name));
  const core = pkgs.find((p) => p.folder === "core")?.name;
  const domain = pkgs.find((p) => p.folder === "domain")?.name;
  const forbidden = (from: Pkg, to: string): string | null => {
    if (to === from.name) return null;
    if (from.server && servers.has(to)) return `server package ${from.name} uses server package ${to}`;
    if ((from.name === core || from.name === domain) && servers.has(to)) return `${from.name} uses server package ${to}`;
    if (from.name === core && to === domain) return `core uses ${domain}`;
    return null;
  };
  const found: string[] = [];
  for (const pkg of pkgs) {
    for (const dep of pkg.deps) {
      const why = forbidden(pkg, dep);
      if (why) found.push(`${relative(root, join(pkg.dir, "package.json"))}: ${why} (dependency)`);
    }
    for (const file of sourceFiles(pkg.dir)) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(SPECIFIER)) {
        const spec = m[1]!;
        const at = relative(root, file);
        if (spec.startsWith(".")) {
          // a relative import must stay inside its own package
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(pkg.dir + sep)) found.push(`${at}: relative import "${spec}" leaves ${pkg.name}`);
          continue;
        }
        const parts = spec.split("/");
        const name = spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
        if (!byName.has(name)) continue;
        const why = forbidden(pkg, name);
        if (why) found.push(`${at}: ${why} ("${spec}")`);
        if (name !== pkg.name && /\/src(\/|$)/.test(spec.slice(name.length))) found.push(`${at}: deep import "${spec}" into another package's src/`);
      }
    }
  }
  return found;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("package boundaries", () => {
  it("hold in this repository: servers import no other server, core imports no domain, domain no server", () => {
    const pkgs = packagesUnder(repoRoot);
    const servers = pkgs.filter((p) => p.server).map((p) => p.name);
    expect(servers).toContain("@marketsage/customer-data");
    expect(servers).not.toContain("@marketsage/core");
    expect(pkgs.map((p) => p.name)).toEqual(expect.arrayContaining(["@marketsage/core", "@marketsage/domain"]));
    expect(boundaryViolations(repoRoot)).toEqual([]);
  });

  describe("the check itself finds each kind of crossing", () => {
    const root = mkdtempSync(join(tmpdir(), "ms-boundaries-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const pkg = (folder: string, json: object, files: Record<string, string>) => {
      mkdirSync(join(root, "packages", folder, "src"), { recursive: true });
      writeFileSync(join(root, "packages", folder, "package.json"), JSON.stringify({ name: `@x/${folder}`, ...json }));
      for (const [f, body] of Object.entries(files)) {
        mkdirSync(dirname(join(root, "packages", folder, f)), { recursive: true });
        writeFileSync(join(root, "packages", folder, f), body);
      }
    };
    pkg("core", {}, { "src/index.ts": `import { money } from "@x/domain";\n` });
    pkg("domain", { dependencies: { "@x/core": "workspace:*" } }, { "src/index.ts": `export const x = 1;\n` });
    pkg("alpha", { marketsage: { server: true }, dependencies: { "@x/beta": "workspace:*" } }, {
      "src/main.ts": `import { beta } from "@x/beta";\nimport "../../beta/src/tools.ts";\n`,
      "src/tools/a.ts": `const b = await import("@x/beta/src/queries.ts");\nimport { x } from "@x/domain";\nimport { y } from "./b.ts";\n`,
    });
    pkg("beta", { marketsage: { server: true } }, { "src/index.ts": `export const beta = 1;\n`, "test/a.test.ts": `import "@x/alpha";\n` });
    pkg("client", { dependencies: { "@x/alpha": "workspace:*" } }, { "src/index.ts": `import { alpha } from "@x/alpha";\n` });
    pkg("host", { dependencies: { "@x/alpha": "workspace:*" } }, { "src/main.ts": `import { alpha } from "@x/alpha";\n` });

    it("reports them all, and nothing allowed", () => {
      const v = boundaryViolations(root);
      expect(v).toEqual(
        expect.arrayContaining([
          "packages/core/src/index.ts: core uses @x/domain (\"@x/domain\")",
          "packages/alpha/package.json: server package @x/alpha uses server package @x/beta (dependency)",
          "packages/alpha/src/main.ts: server package @x/alpha uses server package @x/beta (\"@x/beta\")",
          "packages/alpha/src/main.ts: relative import \"../../beta/src/tools.ts\" leaves @x/alpha",
          "packages/alpha/src/tools/a.ts: server package @x/alpha uses server package @x/beta (\"@x/beta/src/queries.ts\")",
          "packages/alpha/src/tools/a.ts: deep import \"@x/beta/src/queries.ts\" into another package's src/",
        ]),
      );
      // allowed: domain from a server, relative imports inside a package, a client or host using a server, tests
      expect(v).toHaveLength(6);
    });
  });
});
