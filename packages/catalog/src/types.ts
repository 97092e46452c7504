// The shape of a catalog entry: what a server is, loaded lazily, so a stdio process evaluates only
// its own server's code (and the others' only to check MCP_TOOLS).
import type { AfterSeed, AnyTool, BenchSpec, HarnessSpec, HttpRoute, ServerModule } from "@marketsage/core";

/** What a server package exports for the catalog. */
export interface ServerPackage<T extends Record<string, AnyTool> = Record<string, AnyTool>> {
  module: ServerModule;
  /** The tools by method name: the typed client's methods and types come from this object. */
  tools: T;
  /** A cheap read-only call that proves the server can reach its data (health = initialize + ping + this). */
  healthCheck: { tool: string; args: Record<string, unknown> };
}

export interface EntrySpec<T extends Record<string, AnyTool> = Record<string, AnyTool>> {
  /** A few words for people (README, tour, mcp:config). */
  title: string;
  load(): Promise<ServerPackage<T>>;
  /** Arguments for every tool, stable probes and the server's part of the story. */
  harness(): Promise<HarnessSpec>;
  /** Work after a seed (e.g. predictions). */
  afterSeed?(): Promise<AfterSeed>;
  /** `pnpm bench` parts. */
  bench?(): Promise<BenchSpec>;
  /**
   * Background work the server needs (the bulk-send worker): run by `pnpm worker`, and inside the
   * HTTP host when MARKETSAGE_WORKER=1. Started on the process's database client.
   */
  worker?(): Promise<BackgroundWorker>;
  /** Routes the server adds to the HTTP host (the collector, webhooks), served while it is enabled. */
  routes?(env: Readonly<Record<string, string | undefined>>): Promise<readonly HttpRoute[]>;
}

export type BackgroundWorker = (o: { db: import("@marketsage/db").Db; databaseUrl: string; env: Readonly<Record<string, string | undefined>>; log: import("@marketsage/core").Logger }) => Promise<{ stop(): Promise<void> }>;

export interface CatalogEntry<T extends Record<string, AnyTool> = Record<string, AnyTool>> extends EntrySpec<T> {
  /** The server's name: `packages/<name>`, `MCP_<NAME>_ENABLED`, `/mcp/<name>`, `marketsage-<name>`. */
  name: string;
  /** The typed client's namespace (camelCase of the name). */
  key: string;
}

export type Catalog = readonly CatalogEntry[];

/** customer-data → customerData */
export type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
