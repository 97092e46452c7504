// get_system_health: health/system-health.ts for the caller's organization, with the window's end
// at the runtime's clock. Database, heartbeats and circuits are process-wide; the rest is the
// organization's.
import { defineTool, lines } from "@marketsage/core";
import { z } from "zod";
import { STALE_AFTER_MS, systemHealth, TOP_TOOLS } from "../health/index.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const Int = z.number().int();
const Ms = z.number().nullable();

const HealthOut = z.object({
  status: z.enum(["ok", "degraded", "down"]),
  reasons: z.array(z.string()),
  window: z.object({ minutes: Int, from: z.string(), to: z.string() }),
  database: z.object({ ok: z.boolean(), latency_ms: Ms }),
  servers: z.array(z.object({ server: z.string(), instance: z.string(), host: z.string(), pid: Int, version: z.string(), last_beat_at: z.string(), age_s: z.number(), stale: z.boolean() })),
  tools: z.array(z.object({ server: z.string(), tool: z.string(), calls: Int, errors: Int, error_rate: z.number(), p50_ms: Ms, p95_ms: Ms })),
  tool_count: Int,
  calls: Int,
  errors: Int,
  rate_limited: Int,
  providers: z.array(z.object({
    provider: z.string(), channel: z.string().nullable(), circuit: z.enum(["closed", "open", "half_open"]), consecutive_failures: Int, opened_at: z.string().nullable(),
    sent: Int, delivered: Int, failed: Int, delivery_rate: z.number().nullable(),
  })),
  bulk: z.object({ queued_sends: Int, running_sends: Int, pending_recipients: Int, oldest_pending_age_s: z.number().nullable() }),
});
type HealthOut = z.infer<typeof HealthOut>;

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(2)}%`);
const ms = (x: number | null) => (x === null ? "n/a" : `${x} ms`);

function render(o: HealthOut): string {
  const stale = o.servers.filter((s) => s.stale);
  return lines(
    `Status: ${o.status.toUpperCase()}${o.reasons.length ? ` — ${o.reasons.length} reason(s):` : " (nothing wrong found)."}`,
    o.reasons.map((r) => `- ${r}`),
    `Database (process-wide): ${o.database.ok ? `reachable, round trip ${ms(o.database.latency_ms)}` : "NOT reachable"}.`,
    `Server processes (all, process-wide; stale after ${STALE_AFTER_MS / 1000} s without a heartbeat): ${o.servers.length}, ${stale.length} stale.`,
    o.servers.map((s) => `- ${s.server} instance ${s.instance} on ${s.host} pid ${s.pid} v${s.version}: last beat ${s.last_beat_at}, ${s.age_s} s ago${s.stale ? " — STALE" : ""}`),
    `Your organization's tool calls, ${o.window.minutes} minutes (${o.window.from} – ${o.window.to}): ${o.calls} calls, ${o.errors} errors (FAILED), ${o.rate_limited} refused by the rate limit; ` +
      `${o.tool_count} tool(s)${o.tool_count > o.tools.length ? `, top ${TOP_TOOLS} by calls` : ""}.${o.tools.length ? " Latency percentiles over the calls that ran (PostgreSQL percentile_cont):" : ""}`,
    o.tools.map((t) => `- ${t.server}/${t.tool}: ${t.calls} calls, ${t.errors} errors (${pct(t.error_rate)}), p50 ${ms(t.p50_ms)}, p95 ${ms(t.p95_ms)}`),
    "Providers (circuit: process-wide; sends: your organization's in the window, delivery rate = delivered / (delivered + failed)):",
    o.providers.map(
      (p) =>
        `- ${p.provider}${p.channel ? ` (${p.channel})` : ""}: circuit ${p.circuit}${p.opened_at ? ` since ${p.opened_at}` : ""}, ${p.consecutive_failures} consecutive failures; ` +
        `${p.sent} sent, ${p.delivered} delivered, ${p.failed} failed, delivery rate ${pct(p.delivery_rate)}`,
    ),
    `Bulk sends (yours): ${o.bulk.queued_sends} queued, ${o.bulk.running_sends} running, ${o.bulk.pending_recipients} recipients waiting` +
      `${o.bulk.oldest_pending_age_s === null ? "" : `, the oldest waiting for ${o.bulk.oldest_pending_age_s} s`}.`,
  );
}

export const getSystemHealth = defineTool({
  name: "get_system_health",
  title: "System health",
  description:
    "Status ok/degraded/down with reasons: database latency, server heartbeats (stale named), your per-tool calls, error rate and p50/p95 ms " +
    "(audit log, last N minutes), rate-limit refusals, provider circuits and delivery rates, bulk-send backlog.",
  scopes: ["monitoring:read"],
  annotations: READ_ONLY,
  input: z.object({ minutes: z.number().int().min(5).max(1440).default(60) }),
  output: HealthOut,
  handler: async (i, ctx) => systemHealth(ctx.db, ctx.org, { minutes: i.minutes, now: ctx.now() }),
  render,
});

export const healthTools = [getSystemHealth] as const;
