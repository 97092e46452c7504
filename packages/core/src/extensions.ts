// What a server package adds besides its tools, for the catalog to pick up: the harness's
// arguments and story, the benchmarks, the work after a seed. Types only: the code lives in each
// server's package (src/harness.ts, bench/), so nothing outside the catalog entry and the package
// is written per server.
import type { IncomingHttpHeaders } from "node:http";
import type { Logger } from "./logger.ts";
import type { Runtime } from "./runtime.ts";

/** Reading the demo data: a parameterised query bound to one organization's database. */
export interface BuilderContext {
  q<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  orgId: string;
}

/** Arguments for one tool, drawn from the demo data (never hand-typed ids). */
export type ArgBuilder = (ctx: BuilderContext) => Promise<Record<string, unknown>>;

/** One step of a server's story, run over MCP as the AI agent would. */
export interface StoryStep {
  name: string;
  /** Returns a one-line detail; throws (with what went wrong) to fail the step. */
  run(s: StoryContext): Promise<string>;
}

export interface StoryContext {
  ctx: BuilderContext;
  /** Call a tool of this server over MCP; returns its structured content, throws on an error result. */
  call<T = Record<string, unknown>>(tool: string, args: Record<string, unknown>): Promise<T>;
  /** Call a tool of another catalog server (the story crosses servers as an agent does). */
  callOn<T = Record<string, unknown>>(server: string, tool: string, args: Record<string, unknown>): Promise<T>;
  /** What the story has found so far, shared between steps. */
  state: Record<string, unknown>;
  /** A sentence for the tour. */
  say(line: string): void;
}

export interface HarnessSpec {
  /** Every tool needs one: a listed tool without a builder fails the harness. */
  builders: Readonly<Record<string, ArgBuilder>>;
  /** Read tools whose answers do not depend on the clock: MCP and direct must agree exactly. */
  stableProbes: readonly string[];
  /** The server's part of the story (each call it makes must leave its audit row). */
  story?: { title: string; steps: readonly StoryStep[] };
  /** A cheap read whose arguments differ per call (`tag`), for the concurrency benchmark. */
  cheapRead?: { tool: string; args(tag: string): Record<string, unknown> };
}

/** Work after demo data is loaded (e.g. predictions), run by db:seed, db:setup, start and tests. */
export type AfterSeed = (databaseUrl: string, now: Date, log: (m: string) => void) => Promise<unknown>;

export interface BenchSample {
  name: string;
  ms: number[];
  reference?: { name: string; ms: number[] };
  note?: string;
}

export interface BenchContext {
  runtime: Runtime;
  databaseUrl: string;
  apiKey: string;
  orgId: string;
  n: number;
  log: Logger;
  /** Times `fn` n times after a warm-up; milliseconds per run. */
  time(n: number, fn: (i: number) => Promise<unknown>, warmup?: number): Promise<number[]>;
}

/** Named benchmark parts (`pnpm bench --only <part>`); each prints samples or free lines. */
export type BenchSpec = Readonly<Record<string, (b: BenchContext) => Promise<{ samples?: BenchSample[]; lines?: string[] }>>>;

// HTTP routes a server adds to the HTTP host (the website collector, provider webhooks).

export interface HttpRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body (at most the route's bodyLimitBytes). */
  body: Buffer;
  /** The client's address (the socket's; X-Forwarded-For only when MCP_HTTP_TRUST_PROXY is on). */
  ip: string;
  /** The full URL as the client sent it (for signature checks such as Twilio's). */
  url: string;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
}

export interface RouteContext {
  runtime: Runtime;
  log: Logger;
}

export interface HttpRoute {
  method: "GET" | "POST" | "OPTIONS";
  /** Exact, or ending in "/*" for every path under it (the handler reads the rest of req.path). */
  path: string;
  /** Largest body accepted (413 above it); default 64 KiB. */
  bodyLimitBytes?: number;
  /** Requests per minute per client address, shared by every replica (429 above it); 0 = none. */
  rateLimitPerMinute?: number;
  handle(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse>;
  /** Lines for the operator when the host starts (e.g. how to include the website snippet). */
  banner?(baseUrl: string, ctx: RouteContext): Promise<string[]>;
}

