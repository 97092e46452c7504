// Everything the pipeline needs, built once per process (or per test) and passed down.
import { openDb, type Db } from "@marketsage/db";
import pg from "pg";
import type { Config, Flags, RateLimitPolicy } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createRateLimiter, type RateLimiter } from "./rate-limit.ts";

export interface Runtime {
  db: Db;
  limiter: RateLimiter;
  log: Logger;
  flags: Flags;
  now: () => Date;
  /** statement_timeout on every connection (ms; 0 = none); write tools with a longer transaction limit raise it for theirs. */
  statementTimeoutMs: number;
  /** Closes every connection this runtime opened. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  databaseUrl: string;
  flags: Flags;
  rateLimits: RateLimitPolicy;
  log?: Logger;
  logLevel?: string;
  now?: () => Date;
  /** Connections for tool queries (per process). */
  poolSize?: number;
  /** Swap the limiter (tests of fail-closed behaviour). */
  limiter?: RateLimiter;
  /** MCP_STATEMENT_TIMEOUT_MS (default 15 s; 0 = none). */
  statementTimeoutMs?: number;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;

/**
 * Opening a connection, or waiting for a free one, gives up after this long: a database host
 * that does not answer (no refusal, no reply) then fails the call as UNAVAILABLE instead of
 * holding it for as long as the network stalls.
 */
export const CONNECT_TIMEOUT_MS = 10_000;

export function createRuntime(opts: RuntimeOptions): Runtime {
  const log = opts.log ?? createLogger({ level: opts.logLevel ?? "info" });
  const statementTimeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const db = openDb(opts.databaseUrl, { max: opts.poolSize ?? 5, statementTimeoutMs, connectTimeoutMs: CONNECT_TIMEOUT_MS });
  // The limiter keeps its own small pool so a slow tool query never delays a refusal.
  const limiterPool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: 2,
    idleTimeoutMillis: 10_000,
    statement_timeout: statementTimeoutMs || undefined,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  limiterPool.on("error", (err) => log.warn({ err }, "rate-limit pool error"));
  return {
    db,
    limiter: opts.limiter ?? createRateLimiter(limiterPool, opts.rateLimits, log),
    log,
    flags: opts.flags,
    now: opts.now ?? (() => new Date()),
    statementTimeoutMs,
    async close() {
      await Promise.allSettled([db.$disconnect(), limiterPool.end()]);
    },
  };
}

export function configToRuntimeOptions(config: Config, databaseUrl: string): RuntimeOptions {
  return { databaseUrl, flags: config.flags, rateLimits: config.rateLimits, logLevel: config.logLevel, statementTimeoutMs: config.statementTimeoutMs };
}
