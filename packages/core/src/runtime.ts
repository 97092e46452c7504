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
}

export function createRuntime(opts: RuntimeOptions): Runtime {
  const log = opts.log ?? createLogger({ level: opts.logLevel ?? "info" });
  const db = openDb(opts.databaseUrl, { max: opts.poolSize ?? 5 });
  // The limiter keeps its own small pool so a slow tool query never delays a refusal.
  const limiterPool = new pg.Pool({ connectionString: opts.databaseUrl, max: 2, idleTimeoutMillis: 10_000 });
  limiterPool.on("error", (err) => log.warn({ err }, "rate-limit pool error"));
  return {
    db,
    limiter: opts.limiter ?? createRateLimiter(limiterPool, opts.rateLimits, log),
    log,
    flags: opts.flags,
    now: opts.now ?? (() => new Date()),
    async close() {
      await Promise.allSettled([db.$disconnect(), limiterPool.end()]);
    },
  };
}

export function configToRuntimeOptions(config: Config, databaseUrl: string): RuntimeOptions {
  return { databaseUrl, flags: config.flags, rateLimits: config.rateLimits, logLevel: config.logLevel };
}
