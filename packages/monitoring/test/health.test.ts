// get_system_health through the production seam (the real SDK client) over rows written by SQL
// into a fresh database: a server process whose heartbeat stopped is named stale and degrades the
// status; per-tool calls, errors and p50/p95 latency equal a plain computation of PostgreSQL's
// percentile_cont (linear interpolation between closest ranks) in JS; rate-limit refusals; a
// provider circuit opened by failures through external-services' own breaker code (recordOutcome,
// no network: it only writes provider_circuits); observed delivery rates; the bulk backlog; the
// organization's figures are its own; strict input; the text carries every value.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import { createLogger, startHeartbeat, type Runtime } from "@marketsage/core";
import { healthTools } from "../src/tools/health.ts";
import { CIRCUIT_OPEN_MS, HEARTBEAT_INTERVAL_MS, STALE_AFTER_MS, BULK_WORKER_SERVER, systemHealth } from "../src/health/index.ts";
import { mulberry32 } from "./prng.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
// external-services' breaker and constants, by path (monitoring does not depend on the package).
import { CIRCUIT_POLICY, recordOutcome, resetCircuit } from "../../external-services/src/providers/circuit.ts";
import { WORKER_SERVER, WORKER_STALE_MS } from "../../external-services/src/bulk/status.ts";
import { HEARTBEAT_INTERVAL_MS as CORE_HEARTBEAT_INTERVAL_MS } from "../../core/src/heartbeat.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const B = DEMO_ORGS[1]!;
const MIN = 60_000;
let runtime: Runtime;
let sql: pg.Client;
/** The test's start: seeded rows are placed before it, well inside the default 60-minute window. */
let t0: Date;
const clients = new Map<string, TestClient>();
const q = async <T = Record<string, unknown>>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];
const Out = healthTools[0].output;

beforeAll(async () => {
  // The real clock: the fresh heartbeat is core's own (beat_at = the database's now()).
  runtime = testRuntime(tdb.url);
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  t0 = new Date();
  await q(`delete from server_heartbeats`);
  await q(`delete from provider_circuits`);
});
afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await sql?.end();
  await runtime?.close();
});

async function as(org = A, role: Role = "USER"): Promise<TestClient> {
  const k = `${org.slug}:${role}`;
  let c = clients.get(k);
  if (!c) {
    c = await connectTestClient({ server: "monitoring", tools: healthTools, runtime, apiKey: demoApiKey(org, role) });
    clients.set(k, c);
  }
  return c;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function health(args: Record<string, unknown> = {}, org = A): Promise<any> {
  const r = await (await as(org)).client.callTool({ name: "get_system_health", arguments: args });
  if (r.isError) throw new Error(`get_system_health: ${JSON.stringify(r.content)}`);
  const text = (r.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("\n");
  expect(valuesMissingFromText(r.structuredContent, Out, text), text).toEqual([]);
  return r.structuredContent;
}

/** PostgreSQL's percentile_cont: the value at position p·(n−1) of the sorted values, linearly interpolated. */
function percentileCont(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

let chainSeq = 0;
/** Audit rows as the pipeline writes them (the hash chain is not what is tested here). */
async function auditRows(orgId: string, server: string, tool: string, rows: Array<{ outcome: string; ms: number; at: Date }>): Promise<void> {
  const chain = `health-test/${randomUUID()}`;
  for (const r of rows) {
    await q(
      `insert into audit_events (chain_key, seq, organization_id, occurred_at, server, tool, path, args_hash, args, outcome, duration_ms, result_bytes, correlation_id, prev_hash, hash)
       values ($1, $2, $3, $4, $5, $6, 'mcp', 'x', '{}', $7::"AuditOutcome", $8, 0, $9, 'x', 'x')`,
      [chain, ++chainSeq, orgId, r.at, server, tool, r.outcome, r.ms, randomUUID()],
    );
  }
}
const ago = (ms: number) => new Date(t0.getTime() - ms);

describe("get_system_health", () => {
  it("uses the intervals of the code it reads", () => {
    expect(HEARTBEAT_INTERVAL_MS).toBe(CORE_HEARTBEAT_INTERVAL_MS);
    expect(STALE_AFTER_MS).toBe(45_000);
    expect(STALE_AFTER_MS).toBe(WORKER_STALE_MS);
    expect(BULK_WORKER_SERVER).toBe(WORKER_SERVER);
    expect(CIRCUIT_OPEN_MS).toBe(CIRCUIT_POLICY.openMs);
  });

  it("names a stopped server's stale heartbeat and is degraded; a running one is fresh", async () => {
    const beat = startHeartbeat(runtime.db, "monitoring", "9.9.9", createLogger({ level: "silent" }));
    try {
      const deadline = Date.now() + 5000;
      while ((await q(`select 1 from server_heartbeats where instance = $1`, [beat.instance])).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // A process killed two minutes ago: its last row stays.
      const dead = randomUUID();
      await q(`insert into server_heartbeats (server, instance, pid, host, version, started_at, beat_at) values ('customer-data', $1, 4242, 'host-b', '0.1.0', now() - interval '1 hour', now() - interval '2 minutes')`, [dead]);

      const h = await health();
      expect(h.status).toBe("degraded");
      expect(h.database.ok).toBe(true);
      expect(h.database.latency_ms).toBeGreaterThan(0);
      const live = h.servers.find((s: { instance: string }) => s.instance === beat.instance);
      expect(live).toMatchObject({ server: "monitoring", pid: process.pid, version: "9.9.9", stale: false });
      expect(live.age_s).toBeLessThan(STALE_AFTER_MS / 1000);
      const old = h.servers.find((s: { instance: string }) => s.instance === dead);
      expect(old).toMatchObject({ server: "customer-data", host: "host-b", pid: 4242, stale: true });
      expect(old.age_s).toBeGreaterThanOrEqual(119);
      expect(old.age_s).toBeLessThan(180);
      expect(h.reasons.some((r: string) => r.includes("customer-data") && r.includes(dead))).toBe(true);
      expect(h.reasons.some((r: string) => r.includes("server monitoring"))).toBe(false);

      // A stale instance next to a fresh one of the same server (a restart after a crash) is listed, not a reason.
      await q(`insert into server_heartbeats (server, instance, pid, host, version, started_at, beat_at) values ('monitoring', $1, 77, 'host-a', '0.1.0', now() - interval '1 hour', now() - interval '10 minutes')`, [randomUUID()]);
      const h2 = await health();
      expect(h2.servers.filter((s: { server: string; stale: boolean }) => s.server === "monitoring" && s.stale)).toHaveLength(1);
      expect(h2.reasons.some((r: string) => r.includes("server monitoring"))).toBe(false);
    } finally {
      await beat.stop();
    }
    // A server that stops cleanly removes its row.
    expect(await q(`select 1 from server_heartbeats where instance = $1`, [beat.instance])).toHaveLength(0);
  });

  it("per-tool calls, errors, rate-limit refusals and p50/p95 equal a reference computation", async () => {
    const rnd = mulberry32(14);
    const ran: number[] = [];
    const rows: Array<{ outcome: string; ms: number; at: Date }> = [];
    for (let i = 0; i < 36; i++) {
      const outcome = i % 9 === 4 ? "FAILED" : "ALLOWED"; // 4 failures
      const ms = Math.round(rnd() * 400 * 1000) / 1000 + (i === 7 ? 2500 : 0);
      ran.push(ms);
      rows.push({ outcome, ms, at: ago((1 + (i % 50)) * MIN) });
    }
    // Refused before running: counted as calls, not in the latency percentiles.
    for (let i = 0; i < 3; i++) rows.push({ outcome: "RATE_LIMITED", ms: 0.2, at: ago(2 * MIN) });
    rows.push({ outcome: "DENIED", ms: 0.4, at: ago(3 * MIN) });
    // Outside the 60-minute window: left out.
    rows.push({ outcome: "FAILED", ms: 9999, at: ago(61 * MIN) });
    await auditRows(A.id, "campaign-analytics", "health_probe_tool", rows);
    await auditRows(A.id, "customer-data", "health_other_tool", [{ outcome: "RATE_LIMITED", ms: 0.1, at: ago(MIN) }, { outcome: "ALLOWED", ms: 12, at: ago(MIN) }]);
    // Another organization's rows, same tool.
    await auditRows(B.id, "campaign-analytics", "health_probe_tool", [{ outcome: "FAILED", ms: 50, at: ago(MIN) }, { outcome: "RATE_LIMITED", ms: 0.1, at: ago(MIN) }]);

    const h = await health();
    const t = h.tools.find((x: { tool: string }) => x.tool === "health_probe_tool");
    expect(t).toMatchObject({ server: "campaign-analytics", calls: 40, errors: 4, error_rate: 0.1 });
    // Reported to 0.01 ms.
    expect(t.p50_ms).toBe(round2(percentileCont(ran, 0.5)));
    expect(t.p95_ms).toBe(round2(percentileCont(ran, 0.95)));
    expect(h.rate_limited).toBe(4);
    // 4 of 40 failed (over 5% with at least 20 calls): a reason.
    expect(h.reasons).toContain("campaign-analytics/health_probe_tool failed 4 of 40 calls (10.00%)");
    expect(h.tools.find((x: { tool: string }) => x.tool === "health_other_tool")).toMatchObject({ calls: 2, errors: 0, p50_ms: 12, p95_ms: 12 });
    // Ordered by calls; the totals are the sums.
    expect(h.tools[0].tool).toBe("health_probe_tool");
    expect(h.calls).toBe(h.tools.reduce((n: number, x: { calls: number }) => n + x.calls, 0));

    // A 10-minute window: only the rows of the last 10 minutes.
    const recent = rows.filter((r) => r.at.getTime() >= Date.now() - 10 * MIN);
    const h10 = await health({ minutes: 10 });
    const t10 = h10.tools.find((x: { tool: string }) => x.tool === "health_probe_tool");
    expect(t10.calls).toBe(recent.length);
    const ran10 = recent.filter((r) => r.outcome === "ALLOWED" || r.outcome === "FAILED").map((r) => r.ms);
    expect(t10.p50_ms).toBe(round2(percentileCont(ran10, 0.5)));
    expect(t10.p95_ms).toBe(round2(percentileCont(ran10, 0.95)));

    // Organization B's key sees B's figures only.
    const hb = await health({}, B);
    const tb = hb.tools.find((x: { tool: string }) => x.tool === "health_probe_tool");
    expect(tb).toMatchObject({ calls: 2, errors: 1, p50_ms: 50, p95_ms: 50 });
    expect(hb.tools.some((x: { tool: string }) => x.tool === "health_other_tool")).toBe(false);
    expect(hb.rate_limited).toBe(1);
  });

  it("a provider circuit opened by failures, observed delivery rates, and the bulk backlog", async () => {
    // external-services' breaker: five provider-side failures open twilio's circuit.
    const openedAt = new Date();
    for (let i = 0; i < CIRCUIT_POLICY.failuresToOpen; i++) await recordOutcome(runtime.db, "twilio", "transient", openedAt);

    const msg = (org: string, provider: string, status: string, at: Date) =>
      q(`insert into messages (id, organization_id, channel, direction, recipient, provider, status, created_at) values (gen_random_uuid(), $1, 'SMS', 'OUTBOUND', '+2348000000000', $2, $3::"MessageStatus", $4)`, [org, provider, status, at]);
    for (let i = 0; i < 10; i++) await msg(A.id, "africastalking", "DELIVERED", ago((i + 1) * MIN));
    for (let i = 0; i < 3; i++) await msg(A.id, "africastalking", "FAILED", ago(5 * MIN));
    for (let i = 0; i < 2; i++) await msg(A.id, "africastalking", "SENT", ago(5 * MIN));
    await msg(A.id, "africastalking", "FAILED", ago(3 * 60 * MIN)); // outside the window
    for (let i = 0; i < 4; i++) await msg(B.id, "africastalking", "FAILED", ago(5 * MIN));

    // A running bulk send of A, created 10 minutes ago: 5 pending, 2 claimed, 3 sent; no worker alive.
    const send = randomUUID();
    await q(
      `insert into bulk_sends (id, organization_id, campaign_id, channel, status, spec, total, chunk_size, chunks, idempotency_key, created_at, started_at)
       values ($1::uuid, $2, gen_random_uuid(), 'SMS', 'running', '{}', 10, 10, 1, $1::text, $3, $3)`,
      [send, A.id, ago(10 * MIN)],
    );
    await q(
      `insert into bulk_send_recipients (bulk_send_id, seq, organization_id, contact_id, chunk, state)
       select $1, g, $2, gen_random_uuid(), 0, case when g <= 5 then 'pending' when g <= 7 then 'claimed' else 'sent' end from generate_series(1, 10) g`,
      [send, A.id],
    );
    await q(`insert into bulk_sends (id, organization_id, campaign_id, channel, status, spec, total, chunk_size, chunks, idempotency_key, created_at) values ($1::uuid, $2, gen_random_uuid(), 'SMS', 'queued', '{}', 0, 10, 0, $1::text, $3)`, [randomUUID(), A.id, ago(MIN)]);

    const h = await health();
    const tw = h.providers.find((p: { provider: string }) => p.provider === "twilio");
    expect(tw).toMatchObject({ channel: "SMS", circuit: "open", consecutive_failures: 5, opened_at: openedAt.toISOString(), sent: 0, delivery_rate: null });
    expect(h.status).toBe("degraded");
    expect(h.reasons.some((r: string) => r.startsWith("provider twilio circuit open") && r.includes("5 consecutive failures"))).toBe(true);
    const at = h.providers.find((p: { provider: string }) => p.provider === "africastalking");
    expect(at).toMatchObject({ channel: "SMS", circuit: "closed", sent: 15, delivered: 10, failed: 3, delivery_rate: Math.round((10 / 13) * 10_000) / 10_000 });
    expect(h.providers.map((p: { provider: string }) => p.provider)).toEqual(["africastalking", "smtp", "twilio", "whatsapp"]);
    expect(h.bulk).toMatchObject({ queued_sends: 1, running_sends: 1, pending_recipients: 7 });
    expect(h.bulk.oldest_pending_age_s).toBeGreaterThanOrEqual(600);
    expect(h.bulk.oldest_pending_age_s).toBeLessThan(700);
    expect(h.reasons).toContain("7 bulk-send recipients are waiting and no bulk worker has a fresh heartbeat");

    // The query function directly (what a report calls): 30 s after opening, the circuit is half open.
    const later = await systemHealth(runtime.db, A, { minutes: 60, now: new Date(openedAt.getTime() + CIRCUIT_OPEN_MS + 1000) });
    expect(later.providers.find((p) => p.provider === "twilio")).toMatchObject({ circuit: "half_open", consecutive_failures: 5 });

    // B: the same circuit (process-wide), its own sends, no bulk backlog.
    const hb = await health({}, B);
    expect(hb.providers.find((p: { provider: string }) => p.provider === "twilio")).toMatchObject({ circuit: "open", consecutive_failures: 5 });
    expect(hb.providers.find((p: { provider: string }) => p.provider === "africastalking")).toMatchObject({ sent: 4, delivered: 0, failed: 4, delivery_rate: 0 });
    expect(hb.bulk).toEqual({ queued_sends: 0, running_sends: 0, pending_recipients: 0, oldest_pending_age_s: null });

    // An accepted send closes the circuit (the breaker's code again): twilio is no longer a reason.
    await recordOutcome(runtime.db, "twilio", "accepted", new Date());
    const closed = await health({}, B);
    expect(closed.providers.find((p: { provider: string }) => p.provider === "twilio")).toMatchObject({ circuit: "closed", consecutive_failures: 0, opened_at: null });
    await resetCircuit(runtime.db, "twilio");
  });

  it("is ok once nothing is wrong", async () => {
    await q(`delete from server_heartbeats`);
    const beat = startHeartbeat(runtime.db, "monitoring", "9.9.9", createLogger({ level: "silent" }));
    try {
      const deadline = Date.now() + 5000;
      while ((await q(`select 1 from server_heartbeats where instance = $1`, [beat.instance])).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // B: no failing tool with 20 calls, no backlog, no open circuit, only fresh heartbeats.
      const h = await health({ minutes: 5 }, B);
      expect(h.reasons).toEqual([]);
      expect(h.status).toBe("ok");
      expect(h.window.minutes).toBe(5);
    } finally {
      await beat.stop();
    }
  });

  it("strict input: unknown keys and out-of-range minutes are refused", async () => {
    const c = await as();
    for (const args of [{ minutes: 60, extra: 1 }, { minutes: 4 }, { minutes: 1441 }, { minutes: 7.5 }, { minutes: "60" }, { org: B.id }]) {
      const r = await c.client.callTool({ name: "get_system_health", arguments: args });
      expect(r.isError, JSON.stringify(args)).toBe(true);
    }
    const bad = await c.client.callTool({ name: "get_system_health", arguments: { extra: 1 } });
    expect((bad.content as Array<{ text: string }>)[0]!.text).toMatch(/Unknown argument "extra"; accepted: minutes/);
  });
});
