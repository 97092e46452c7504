// Rate limits in PostgreSQL, so every process and replica shares one count: fixed windows in the
// rate_limits table (key, points, expire in epoch ms; the layout rate-limiter-flexible used).
// Calls are limited per principal and server by role; sends also per minute and per day per
// principal. Sends fail closed when the store cannot be reached; other calls fail open.
//
// Calls do not pay a round trip each: a process reserves a block of points from the shared row
// (all or nothing, never past the limit) and spends it locally; a process never grants more than
// it reserved. Blocks start at 1 point and double while a key is busy, up to maxBlock(limit)
// (limit/20, at most 50; 1 for limits under 40, so small limits stay exact), and halve after a
// window that ended with points unspent. The documented slack is on the generous side only: per
// window, at most `limit` calls pass across all processes, and a caller may be refused while other
// processes still hold reserved, unspent points: at most maxBlock(limit) − 1 per process that
// called with that key in the window (e.g. limit 120: 5 per process). A refusal is remembered
// locally until the window ends (the count of a window never goes down). Sends reserve one point
// at a time: the send caps are exact.
import type { Role } from "@marketsage/db";
import type pg from "pg";
import type { RateLimitPolicy, ServerName } from "./config.ts";
import { RateLimitedError, UnavailableError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { Principal } from "./auth.ts";
import type { RateLimitClass } from "./tool.ts";

/** Calls per minute per principal and server, by role (MCP_RATE_LIMIT_PER_MINUTE overrides). */
export const ROLE_CALLS_PER_MINUTE: Record<Role, number> = {
  USER: 120,
  AI_AGENT: 300,
  ADMIN: 600,
  IT_ADMIN: 600,
  SUPER_ADMIN: 1200,
};

export interface RateLimiter {
  consume(principal: Principal, server: ServerName, kind: RateLimitClass): Promise<void>;
}

/** The largest block of points one process reserves at once for a limit. */
export function maxBlock(limit: number): number {
  return Math.max(1, Math.min(50, Math.floor(limit / 20)));
}

// Reserve $2 points of key $1 (limit $3, window $4 ms) if all of them fit, in one statement;
// otherwise change nothing and return the row as it is (granted = false) for the retry time.
// The window's clock is the database's, so replicas on different hosts share one window.
const RESERVE_SQL = `
with clock as (select (extract(epoch from clock_timestamp()) * 1000)::bigint as t),
up as (
  insert into rate_limits as r (key, points, expire)
  select $1::varchar, $2::int, t + $4::bigint from clock
  on conflict (key) do update
     set points = case when r.expire is null or r.expire <= (select t from clock) then $2::int else r.points + $2::int end,
         expire = case when r.expire is null or r.expire <= (select t from clock) then excluded.expire else r.expire end
   where r.expire is null or r.expire <= (select t from clock) or r.points + $2::int <= $3::int
  returning r.points, r.expire
)
select true as granted, points, expire::float8 as expire, (select t from clock)::float8 as now_ms from up
union all
select false, points, expire::float8, (select t from clock)::float8 from rate_limits where key = $1::varchar and not exists (select 1 from up)`;

interface ReserveRow {
  granted: boolean;
  points: number;
  expire: number | null;
  now_ms: number;
}

/** What this process holds for one key in the current window. */
interface Bucket {
  /** Local clock (ms) when the window ends. */
  until: number;
  /** Reserved and not yet spent. */
  points: number;
  /** The store had no point left for this window. */
  exhausted: boolean;
  /** The next block to ask for. */
  next: number;
  reserving?: Promise<void>;
}

class Exhausted {
  constructor(public readonly msBeforeNext: number) {}
}

const MAX_BUCKETS = 10_000;

/** Points of keys from the shared store (rate_limits), reserved in blocks per process. */
function blockStore(pool: pg.Pool) {
  const buckets = new Map<string, Bucket>();

  /** Forget keys whose window is over (an HTTP host sees many principals). */
  function sweep(): void {
    const now = Date.now();
    for (const [k, b] of buckets) if (b.until <= now && !b.reserving) buckets.delete(k);
  }

  async function reserve(key: string, limit: number, windowMs: number, b: Bucket, largest: number): Promise<void> {
    let want = Math.min(b.next, largest, limit);
    for (let attempt = 0; attempt < 4; attempt++) {
      const { rows } = await pool.query<ReserveRow>(RESERVE_SQL, [key, want, limit, windowMs]);
      const row = rows[0];
      const now = Date.now();
      if (row?.granted) {
        b.until = now + Math.max(0, (row.expire ?? 0) - row.now_ms);
        b.points += want;
        b.exhausted = false;
        b.next = Math.min(largest, want * 2);
        return;
      }
      if (!row) {
        // Another process created the row after this statement's snapshot: ask again.
        want = 1;
        continue;
      }
      const left = limit - row.points;
      if (left <= 0) {
        b.until = now + Math.max(0, (row.expire ?? 0) - row.now_ms);
        b.exhausted = true;
        return;
      }
      // Fewer points are left than asked for: ask for what is left (others may take it first).
      want = Math.max(1, Math.min(want, left));
    }
    // Four races lost in a row: report the window as full for now rather than loop.
    b.until = Date.now() + 1000;
    b.exhausted = true;
  }

  /** One point of key from the shared store, through this process's bucket. */
  async function take(key: string, limit: number, windowMs: number, largest: number): Promise<void> {
    // A limit under one allows nothing (asking the store for zero points would be granted forever).
    if (limit < 1) throw new Exhausted(windowMs);
    let b = buckets.get(key);
    if (!b) {
      if (buckets.size >= MAX_BUCKETS) sweep();
      buckets.set(key, (b = { until: 0, points: 0, exhausted: false, next: 1 }));
    }
    for (;;) {
      const now = Date.now();
      if (b.until <= now && !b.reserving) {
        // The window is over: unspent points are void, and a key that left points unspent asks
        // for smaller blocks next time.
        if (b.points > 0) b.next = Math.max(1, Math.ceil(b.next / 2));
        b.points = 0;
        b.exhausted = false;
      }
      if (b.points > 0) {
        b.points--;
        return;
      }
      if (b.exhausted) throw new Exhausted(b.until - now);
      b.reserving ??= reserve(key, limit, windowMs, b, largest).finally(() => (b.reserving = undefined));
      await b.reserving;
    }
  }

  return { take };
}

/** Per-key limits for anything that is not a tool call (e.g. the website collector per site key):
 *  the same shared store and block reservation as the tools' limits. */
export interface KeyedLimiter {
  /** One point of `key` (at most `limit` per `windowMs`): null when granted, else seconds to wait. */
  consume(key: string, limit: number, windowMs?: number): Promise<number | null>;
}

export function createKeyedLimiter(pool: pg.Pool): KeyedLimiter {
  const store = blockStore(pool);
  return {
    async consume(key, limit, windowMs = 60_000) {
      try {
        await store.take(key, limit, windowMs, maxBlock(limit));
        return null;
      } catch (e) {
        if (e instanceof Exhausted) return Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        throw e;
      }
    },
  };
}

export function createRateLimiter(pool: pg.Pool, policy: RateLimitPolicy, log: Logger): RateLimiter {
  const { take } = blockStore(pool);

  async function check(key: string, limit: number, windowMs: number, largest: number, what: string, failClosed: boolean): Promise<void> {
    try {
      await take(key, limit, windowMs, largest);
    } catch (e) {
      if (e instanceof Exhausted) throw new RateLimitedError(Math.max(1, Math.ceil(e.msBeforeNext / 1000)), what);
      log.error({ err: e }, "rate limiter store unavailable");
      if (failClosed) throw new UnavailableError("Sending is paused: the rate-limit store cannot be reached, and sends fail closed. Try again shortly.");
    }
  }

  return {
    async consume(principal, server, kind) {
      const who = `${principal.org.id}:${principal.userId}`;
      const calls = policy.callsPerMinute || ROLE_CALLS_PER_MINUTE[principal.role];
      await check(`call_${principal.role.toLowerCase()}:${who}:${server}`, calls, 60_000, maxBlock(calls), `${server} calls (per minute)`, kind === "send");
      if (kind === "send") {
        await check(`send_min:${who}`, policy.sendsPerMinute, 60_000, 1, "sends per minute", true);
        await check(`send_day:${who}`, policy.sendsPerDay, 86_400_000, 1, "sends per day", true);
      }
    },
  };
}
