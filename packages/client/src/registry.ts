// The servers the client, the manager and the harness know about. Adding a server is one entry
// here: its module (tool list, name, words), its tools keyed by method name (the typed client
// derives its methods and types from this object) and a cheap read call for health checks.
import path from "node:path";
import type { AnyTool, ServerModule, ServerName } from "@marketsage/core";
import { findRepoRoot } from "@marketsage/db";
import { customerDataServer, customerDataTools } from "@marketsage/customer-data";

export interface ServerEntry<T extends Record<string, AnyTool> = Record<string, AnyTool>> {
  module: ServerModule;
  tools: T;
  /** A cheap read-only call that proves the server can reach its data (health = initialize + ping + this). */
  healthCheck: { tool: string; args: Record<string, unknown> };
}

function entry<T extends Record<string, AnyTool>>(e: ServerEntry<T>): ServerEntry<T> {
  return e;
}

export const SERVERS = {
  customerData: entry({ module: customerDataServer, tools: customerDataTools, healthCheck: { tool: "search_customers", args: { limit: 1 } } }),
} as const;

export type ServerKey = keyof typeof SERVERS;

export const SERVER_KEYS = Object.keys(SERVERS) as ServerKey[];

export function serverEntry(name: ServerName): ServerEntry | undefined {
  return Object.values(SERVERS).find((e) => e.module.name === name);
}

export function serverKeyOf(name: ServerName): ServerKey | undefined {
  return SERVER_KEYS.find((k) => SERVERS[k].module.name === name);
}

/** The built entry an MCP client spawns: a bundle starts in ~150 ms, tsx in ~700 ms. */
export function builtEntry(name: ServerName, repoRoot = findRepoRoot()): string {
  return path.join(repoRoot, "packages", name, "dist", "main.js");
}
