// Tests that spawn real server processes need the bundles; build them when missing or stale.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

export function serverEntry(server: string): string {
  return path.join(root, "packages", server, "dist", "main.js");
}

/** Build the server bundles unless every one is newer than all package sources. */
export function ensureBuilt(servers: string[]): void {
  const sources = Math.max(...["core", "db", ...servers].map((p) => newestMtime(path.join(root, "packages", p, "src"))));
  const stale = servers.some((s) => !fs.existsSync(serverEntry(s)) || fs.statSync(serverEntry(s)).mtimeMs < sources);
  if (stale) execFileSync(process.execPath, [path.join(root, "scripts", "build.mjs")], { stdio: "inherit" });
}
