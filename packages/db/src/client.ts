import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;

export interface OpenOptions {
  /** Pool size per process. Five servers share one database, so keep it small. */
  max?: number;
  /** Close a connection idle this long (ms), down to `min`; the pool reopens them on demand. */
  idleTimeoutMillis?: number;
  /** Connections kept open however long they sit idle (default 1; see openDb). */
  min?: number;
  /** statement_timeout for every session (ms; 0 or unset = none): a slow or blocked query ends. */
  statementTimeoutMs?: number;
  /** Give up opening a connection (or waiting for a free one) after this long (ms; unset = never). */
  connectTimeoutMs?: number;
}

// Sessions run in UTC: the adapter sends and reads timestamps without an offset, so any other
// session time zone would shift every time comparison.
// work_mem: segment rules and analytics hash sets of contacts (hundreds of thousands at bench
// scale); with the 4 MB default PostgreSQL spills them to disk or falls back to per-row plans.
// jit=off: the analytics here are sub-second; on PostgreSQL builds with JIT, compiling their
// expressions cost ~100 ms a query (measured at bench scale) and never paid back.
export const SESSION_OPTIONS = "-c timezone=UTC -c work_mem=64MB -c jit=off";

const pools = new WeakMap<object, pg.Pool>();

/**
 * One Prisma client (Rust-free, over node-postgres) for a connection string, on a pool this
 * function creates (and the client's $disconnect ends).
 *
 * Nothing connects here: the pool opens connections on first use, and Prisma loads its query
 * compiler (a 1.9 MB WebAssembly module; measured 110 ms and ~30 MB RSS in a fresh process) only
 * on its first query. Code that needs a plain SQL round trip on every call (authentication,
 * heartbeats) can use `poolOf(db)` and so never pay for Prisma in a process that has not run a
 * Prisma query yet.
 */
export function openDb(url: string, opts: OpenOptions = {}): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 5,
    idleTimeoutMillis: opts.idleTimeoutMillis ?? 10_000,
    // One connection stays open once made: a stdio server waits far longer than 10 s between a
    // model's calls, and reopening costs a backend start on every call after a pause (5–13 ms
    // measured here; more with TLS or a remote server). allowExitOnIdle: that connection never
    // keeps a finished script alive.
    min: opts.min ?? 1,
    allowExitOnIdle: true,
    options: SESSION_OPTIONS,
    statement_timeout: opts.statementTimeoutMs || undefined,
    connectionTimeoutMillis: opts.connectTimeoutMs,
  });
  // An idle connection that the server closes (restart, admin shutdown) emits here; without a
  // listener it would crash the process. The pool replaces it on the next checkout.
  pool.on("error", () => undefined);
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/**
 * The node-postgres pool under a client made by openDb (same connections, same session settings),
 * or undefined for any other handle (a transaction, a foreign client) or once $disconnect ended it.
 */
export function poolOf(db: object): pg.Pool | undefined {
  const pool = pools.get(db);
  return pool && !pool.ending && !pool.ended ? pool : undefined;
}
