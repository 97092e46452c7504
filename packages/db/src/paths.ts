import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The repository root: the nearest ancestor (of this file, then of cwd) with pnpm-workspace.yaml. */
export function findRepoRoot(): string {
  if (cached) return cached;
  for (const start of [path.dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    let d = start;
    for (;;) {
      if (fs.existsSync(path.join(d, "pnpm-workspace.yaml"))) return (cached = d);
      const parent = path.dirname(d);
      if (parent === d) break;
      d = parent;
    }
  }
  return (cached = process.cwd());
}

export function migrationsDir(): string {
  return path.join(findRepoRoot(), "prisma", "migrations");
}
