// How a server is spawned: `node packages/<server>/dist/main.js` with its API key, the resolved
// database URL and the deployment's MCP_* flags — the same for the client, the harness and
// what `pnpm mcp:config` writes for Claude Desktop.
import type { ServerName } from "@marketsage/core";
import { findRepoRoot } from "@marketsage/db";
import type { LaunchSpec } from "./connection.ts";
import { builtEntry } from "./registry.ts";

/** The environment a spawned server gets: its key, the database, every MCP_* flag, and the bulk
 * worker's switch and settings (MARKETSAGE_WORKER, BULK_*). */
export function serverEnv(env: Record<string, string | undefined>, apiKey: string, databaseUrl: string): Record<string, string> {
  const out: Record<string, string> = { MARKETSAGE_API_KEY: apiKey, DATABASE_URL: databaseUrl, LOG_LEVEL: env.LOG_LEVEL ?? "warn" };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (k.startsWith("MCP_") || k.startsWith("BULK_") || k === "MARKETSAGE_DATA_DIR" || k === "MARKETSAGE_WORKER")) out[k] = v;
  return out;
}

export function stdioLaunch(
  name: ServerName,
  opts: { apiKey: string; databaseUrl: string; env?: Record<string, string | undefined>; repoRoot?: string; command?: string; args?: string[] },
): LaunchSpec {
  const repoRoot = opts.repoRoot ?? findRepoRoot();
  return {
    kind: "stdio",
    command: opts.command ?? process.execPath,
    args: opts.args ?? [builtEntry(name, repoRoot)],
    env: serverEnv(opts.env ?? {}, opts.apiKey, opts.databaseUrl),
    cwd: repoRoot,
  };
}
