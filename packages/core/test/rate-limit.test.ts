import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { createLogger, createRateLimiter, RateLimitedError, type Principal } from "../src/index.ts";
import { maxBlock } from "../src/rate-limit.ts";
import { connectTestClient, testRuntime, useTestDatabase } from "../src/testing/index.ts";
import { testTools } from "./fixtures/tools.ts";
import { key, text } from "./helpers.ts";

const run = promisify(execFile);
const tdb = useTestDatabase();

describe("rate limits", () => {
  it("two processes share one limit, and a refusal says when to retry", async () => {
    const script = path.join(import.meta.dirname, "fixtures", "consume.ts");
    const limit = 10;
    const child = () => run(process.execPath, ["--import", "tsx", script, tdb.url, key("USER"), "8", String(limit)], { timeout: 60_000 });
    const [a, b] = await Promise.all([child(), child()]);
    const ra = JSON.parse(a.stdout) as { allowed: number; limited: number; retryAfter: number };
    const rb = JSON.parse(b.stdout) as { allowed: number; limited: number; retryAfter: number };
    // 16 calls against one shared limit of 10: exactly 10 pass, whichever process made them.
    expect(ra.allowed + rb.allowed).toBe(limit);
    expect(ra.limited + rb.limited).toBe(6);
    const retry = Math.max(ra.retryAfter, rb.retryAfter);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    const audited = new pg.Client({ connectionString: tdb.url });
    await audited.connect();
    const r = await audited.query(`select count(*)::int n from audit_events where server = 'monitoring' and outcome = 'RATE_LIMITED'`);
    expect(r.rows[0].n).toBe(6);
    await audited.end();
  });

  it("with blocks (limit 100), two processes pass at most the limit and lose at most maxBlock − 1 each", async () => {
    const script = path.join(import.meta.dirname, "fixtures", "consume.ts");
    const limit = 100;
    const perProcess = 80;
    const child = () => run(process.execPath, ["--import", "tsx", script, tdb.url, key("ADMIN"), String(perProcess), String(limit)], { timeout: 120_000 });
    const [a, b] = await Promise.all([child(), child()]);
    const ra = JSON.parse(a.stdout) as { allowed: number; limited: number };
    const rb = JSON.parse(b.stdout) as { allowed: number; limited: number };
    const allowed = ra.allowed + rb.allowed;
    expect(allowed).toBeLessThanOrEqual(limit);
    expect(allowed).toBeGreaterThanOrEqual(limit - 2 * (maxBlock(limit) - 1));
    expect(allowed + ra.limited + rb.limited).toBe(2 * perProcess);
  });

  it("a process spends only what it reserved, and pays far fewer round trips than calls", async () => {
    const pool = new pg.Pool({ connectionString: tdb.url, max: 2 });
    let queries = 0;
    const counting = { query: (...args: unknown[]) => (queries++, (pool.query as (...a: unknown[]) => unknown)(...args)) } as unknown as pg.Pool;
    const limiter = createRateLimiter(counting, { callsPerMinute: 1_000_000, sendsPerMinute: 60, sendsPerDay: 5000 }, createLogger({ level: "silent" }));
    const p = principal("ADMIN");
    const calls = 120;
    for (let i = 0; i < calls; i++) await limiter.consume(p, "monitoring", "call");
    const row = await pool.query(`select points from rate_limits where key = $1`, [`call_admin:${p.org.id}:${p.userId}:monitoring`]);
    const reserved = row.rows[0].points as number;
    expect(reserved).toBeGreaterThanOrEqual(calls);
    expect(reserved - calls).toBeLessThan(maxBlock(1_000_000));
    expect(queries).toBeLessThan(calls / 10);
    await pool.end();
  });

  it("in one process, concurrent calls past the limit: exactly the limit passes, and refusals stay local", async () => {
    const pool = new pg.Pool({ connectionString: tdb.url, max: 2 });
    let queries = 0;
    const counting = { query: (...args: unknown[]) => (queries++, (pool.query as (...a: unknown[]) => unknown)(...args)) } as unknown as pg.Pool;
    const limit = 400;
    const limiter = createRateLimiter(counting, { callsPerMinute: limit, sendsPerMinute: 60, sendsPerDay: 5000 }, createLogger({ level: "silent" }));
    const p = principal("USER");
    const results = await Promise.allSettled(Array.from({ length: 500 }, () => limiter.consume(p, "leadpulse", "call")));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(limit);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);
    expect(refused).toHaveLength(100);
    expect(refused.every((e) => e instanceof RateLimitedError && e.retryAfterSeconds >= 1 && e.retryAfterSeconds <= 60)).toBe(true);
    const before = queries;
    await expect(limiter.consume(p, "leadpulse", "call")).rejects.toBeInstanceOf(RateLimitedError);
    expect(queries).toBe(before);
    await pool.end();
  });

  it("sends fail closed when the limiter store is unreachable; reads fail open", async () => {
    const dead = new pg.Pool({ connectionString: "postgresql://postgres@127.0.0.1:1/nowhere", connectionTimeoutMillis: 500 });
    dead.on("error", () => undefined);
    const log = createLogger({ level: "silent" });
    const limiter = createRateLimiter(dead, { callsPerMinute: 0, sendsPerMinute: 60, sendsPerDay: 5000 }, log);
    const runtime = testRuntime(tdb.url, { limiter });
    const t = await connectTestClient({ server: "external-services", tools: testTools, runtime, apiKey: key("ADMIN") });
    const send = await t.client.callTool({ name: "send_test_thing", arguments: {} });
    expect(send.isError).toBe(true);
    expect(text(send)).toMatch(/UNAVAILABLE: Sending is paused/);
    const read = await t.client.callTool({ name: "echo_message", arguments: { message: "x" } });
    expect(read.isError).toBeFalsy();
    await t.close();
    await runtime.close();
    await dead.end();
  });

  it("send caps apply on top of the call limit", async () => {
    const runtime = testRuntime(tdb.url, { rateLimits: { callsPerMinute: 0, sendsPerMinute: 3, sendsPerDay: 5000 } });
    const t = await connectTestClient({ server: "external-services", tools: testTools, runtime, apiKey: key("SUPER_ADMIN") });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await t.client.callTool({ name: "send_test_thing", arguments: {} }));
    expect(results.filter((r) => !r.isError)).toHaveLength(3);
    expect(text(results[4]!)).toMatch(/RATE_LIMITED: Rate limit reached for sends per minute/);
    await t.close();
    await runtime.close();
  });
});

/** A principal of its own per test: rate-limit keys never collide between tests. */
function principal(role: Principal["role"]): Principal {
  return {
    userId: randomUUID(),
    apiKeyId: randomUUID(),
    role,
    scopes: new Set(),
    org: { id: randomUUID(), name: "test", reportingCurrency: "USD", defaultCountry: "NG", timeZone: "UTC" },
  };
}
