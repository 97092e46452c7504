// Rate limits in PostgreSQL (rate-limiter-flexible), so every process and replica shares one
// count. Calls are limited per principal and server by role; sends also per minute and per day
// per principal. Sends fail closed when the store cannot be reached; other calls fail open.
import type { Role } from "@marketsage/db";
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
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

function limiter(pool: pg.Pool, keyPrefix: string, points: number, duration: number): RateLimiterPostgres {
  return new RateLimiterPostgres({
    storeClient: pool,
    storeType: "pool",
    tableName: "rate_limits",
    tableCreated: true,
    keyPrefix,
    points,
    duration,
  });
}

export function createRateLimiter(pool: pg.Pool, policy: RateLimitPolicy, log: Logger): RateLimiter {
  const calls = new Map<Role, RateLimiterPostgres>();
  const callLimiter = (role: Role) => {
    let l = calls.get(role);
    if (!l) {
      l = limiter(pool, `call_${role.toLowerCase()}`, policy.callsPerMinute || ROLE_CALLS_PER_MINUTE[role], 60);
      calls.set(role, l);
    }
    return l;
  };
  const sendsPerMinute = limiter(pool, "send_min", policy.sendsPerMinute, 60);
  const sendsPerDay = limiter(pool, "send_day", policy.sendsPerDay, 86_400);

  async function take(l: RateLimiterPostgres, key: string, what: string, failClosed: boolean): Promise<void> {
    try {
      await l.consume(key, 1);
    } catch (e) {
      if (e instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(e.msBeforeNext / 1000)), what);
      log.error({ err: e }, "rate limiter store unavailable");
      if (failClosed) throw new UnavailableError("Sending is paused: the rate-limit store cannot be reached, and sends fail closed. Try again shortly.");
    }
  }

  return {
    async consume(principal, server, kind) {
      const who = `${principal.org.id}:${principal.userId}`;
      await take(callLimiter(principal.role), `${who}:${server}`, `${server} calls (per minute)`, kind === "send");
      if (kind === "send") {
        await take(sendsPerMinute, who, "sends per minute", true);
        await take(sendsPerDay, who, "sends per day", true);
      }
    },
  };
}
