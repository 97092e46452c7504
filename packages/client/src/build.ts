// The built entries (esbuild bundles, scripts/build.ts): built when missing or older than any source.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { ServerName } from "@marketsage/core";
import { findRepoRoot } from "@marketsage/db";
import { builtEntry } from "./registry.ts";

function newestMtime(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the bundles need building, or undefined when every one is fresh. */
export function staleBuild(servers: readonly ServerName[], repoRoot = findRepoRoot()): string | undefined {
  const pkgs = fs.readdirSync(path.join(repoRoot, "packages"));
  const sources = Math.max(...pkgs.map((p) => newestMtime(path.join(repoRoot, "packages", p, "src"))));
  for (const s of [...servers, "http"]) {
    const entry = builtEntry(s, repoRoot);
    if (!fs.existsSync(entry)) return `${path.relative(repoRoot, entry)} is missing`;
    if (fs.statSync(entry).mtimeMs < sources) return `${path.relative(repoRoot, entry)} is older than the sources`;
  }
  return undefined;
}

/** Runs scripts/build.ts when needed; returns what was stale (undefined: nothing to do). */
export function ensureBuilt(servers: readonly ServerName[], opts: { repoRoot?: string; quiet?: boolean } = {}): string | undefined {
  const repoRoot = opts.repoRoot ?? findRepoRoot();
  const why = staleBuild(servers, repoRoot);
  if (why) {
    execFileSync(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts", "build.ts")], {
      cwd: repoRoot,
      stdio: opts.quiet ? "ignore" : ["ignore", "inherit", "inherit"],
    });
  }
  return why;
}
