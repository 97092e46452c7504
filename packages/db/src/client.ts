import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;

export interface OpenOptions {
  /** Pool size per process. Five servers share one database, so keep it small. */
  max?: number;
}

/** One Prisma client (Rust-free, over node-postgres) for a connection string. */
export function openDb(url: string, opts: OpenOptions = {}): Db {
  // Sessions run in UTC: the adapter sends and reads timestamps without an offset, so any
  // other session time zone would shift every time comparison.
  // work_mem: segment rules and analytics hash sets of contacts (hundreds of thousands at bench
  // scale); with the 4 MB default PostgreSQL spills them to disk or falls back to per-row plans.
  const adapter = new PrismaPg({
    connectionString: url,
    max: opts.max ?? 5,
    idleTimeoutMillis: 10_000,
    // jit=off: the analytics here are sub-second; on PostgreSQL builds with JIT, compiling their
    // expressions cost ~100 ms a query (measured at bench scale) and never paid back.
    options: "-c timezone=UTC -c work_mem=64MB -c jit=off",
  });
  return new PrismaClient({ adapter });
}
