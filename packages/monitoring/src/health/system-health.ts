// System health (issue 14, get_system_health): what an operator checks first. Process-wide: the
// database's round trip, every server process's heartbeat (server_heartbeats, written every 15 s by
// core's startHeartbeat; a process killed without stopping leaves its row, which goes stale) and
// the providers' circuit breakers (provider_circuits: one per provider for every organization).
// The organization's own: per-tool calls, errors and latency percentiles and the rate-limit
// refusals from its audit log, its observed delivery rate per provider, its bulk-send backlog.
// Every read is bounded: the audit log and messages through their (organization, time) indexes
// over the window only; heartbeats and circuits are a few rows; bulk sends are the organization's
// unfinished ones and their recipients through the (bulk_send_id, chunk, state) index.
import { performance } from "node:perf_hooks";
import type { DbHandle, OrgInfo } from "@marketsage/core";

/** core's HEARTBEAT_INTERVAL_MS (not exported by the package; the test checks they agree). */
export const HEARTBEAT_INTERVAL_MS = 15_000;
/** A heartbeat older than three beats is stale (the bulk worker's status uses the same 45 s). */
export const STALE_AFTER_MS = HEARTBEAT_INTERVAL_MS * 3;
/** Also external-services' CIRCUIT_POLICY.openMs: an open circuit past it lets a trial through (half open). */
export const CIRCUIT_OPEN_MS = 30_000;
/** The server name of bulk-send worker heartbeats (external-services' WORKER_SERVER). */
export const BULK_WORKER_SERVER = "bulk-worker";
export const TOP_TOOLS = 20;

/** When the status turns degraded (any one of them), besides stale servers and open circuits. */
export const HEALTH_LIMITS = {
  /** Database round trip of `select 1`. */
  dbLatencyMs: 250,
  /** A tool's FAILED share of its calls, once it has minCalls calls in the window. */
  errorRate: 0.05,
  minCalls: 20,
  /** delivered / (delivered + failed) of a provider, once it has minOutcomes outcomes. */
  deliveryRate: 0.8,
  minOutcomes: 20,
} as const;

/** Providers every deployment has (external-services), with their channel. */
const KNOWN_PROVIDERS: Record<string, string> = { africastalking: "SMS", twilio: "SMS", smtp: "EMAIL", whatsapp: "WHATSAPP" };

/** Recipients not yet done (external-services bulk: pending, deferred for a retry, claimed by a worker). */
const WAITING_STATES = ["pending", "deferred", "claimed"];

export type HealthStatus = "ok" | "degraded" | "down";

export interface ServerBeat {
  server: string;
  instance: string;
  host: string;
  pid: number;
  version: string;
  last_beat_at: string;
  age_s: number;
  stale: boolean;
}

export interface ToolHealth {
  server: string;
  tool: string;
  /** Every audit row of the tool in the window (any outcome). */
  calls: number;
  /** Rows with outcome FAILED. */
  errors: number;
  error_rate: number;
  /** Over the calls that ran (ALLOWED or FAILED): PostgreSQL percentile_cont (linear interpolation). */
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface ProviderHealth {
  provider: string;
  channel: string | null;
  circuit: "closed" | "open" | "half_open";
  consecutive_failures: number;
  opened_at: string | null;
  /** The organization's outbound messages created in the window that were routed to this provider. */
  sent: number;
  delivered: number;
  failed: number;
  /** delivered / (delivered + failed); null without outcomes. */
  delivery_rate: number | null;
}

export interface SystemHealth {
  status: HealthStatus;
  reasons: string[];
  window: { minutes: number; from: string; to: string };
  database: { ok: boolean; latency_ms: number | null };
  servers: ServerBeat[];
  /** Top TOP_TOOLS by calls. */
  tools: ToolHealth[];
  /** Distinct tools called in the window (tools lists at most TOP_TOOLS). */
  tool_count: number;
  calls: number;
  errors: number;
  rate_limited: number;
  providers: ProviderHealth[];
  bulk: { queued_sends: number; running_sends: number; pending_recipients: number; oldest_pending_age_s: number | null };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
const r1 = (x: number) => Math.round(x * 10) / 10;

type BeatRow = { server: string; instance: string; host: string; pid: number; version: string; beat_at: Date };
type ToolRow = { server: string; tool: string; calls: number; errors: number; rate_limited: number; p50: number | null; p95: number | null };
type CircuitRow = { provider: string; state: string; consecutive_failures: number; opened_at: Date | null };
type SentRow = { provider: string; channel: string; sent: number; delivered: number; failed: number };
type BulkRow = { queued_sends: number; running_sends: number; pending_recipients: number; oldest: Date | null };

/** The database's round trip in ms, or null when it does not answer. */
async function probe(db: DbHandle): Promise<number | null> {
  try {
    const t = performance.now();
    await db.$queryRaw`select 1`;
    return performance.now() - t;
  } catch {
    return null;
  }
}

/** The health of the system as the organization's key sees it, over the last `minutes` before `now`. */
export async function systemHealth(db: DbHandle, org: Pick<OrgInfo, "id">, o: { minutes: number; now: Date }): Promise<SystemHealth> {
  const to = o.now;
  const from = new Date(to.getTime() - o.minutes * 60_000);
  const window = { minutes: o.minutes, from: from.toISOString(), to: to.toISOString() };
  const latency = await probe(db);
  if (latency === null) {
    return {
      status: "down", reasons: ["the database does not answer"], window, database: { ok: false, latency_ms: null },
      servers: [], tools: [], tool_count: 0, calls: 0, errors: 0, rate_limited: 0, providers: [],
      bulk: { queued_sends: 0, running_sends: 0, pending_recipients: 0, oldest_pending_age_s: null },
    };
  }

  const [beats, toolRows, circuits, sent, [bulkRow]] = await Promise.all([
    db.$queryRaw<BeatRow[]>`
      select server, instance, host, pid, version, beat_at from server_heartbeats order by server, beat_at desc, instance limit 500`,
    db.$queryRaw<ToolRow[]>`
      select server, tool, count(*)::int as calls,
             count(*) filter (where outcome = 'FAILED')::int as errors,
             count(*) filter (where outcome = 'RATE_LIMITED')::int as rate_limited,
             (percentile_cont(0.5) within group (order by duration_ms) filter (where outcome in ('ALLOWED', 'FAILED')))::float8 as p50,
             (percentile_cont(0.95) within group (order by duration_ms) filter (where outcome in ('ALLOWED', 'FAILED')))::float8 as p95
        from audit_events
       where organization_id = ${org.id}::uuid and occurred_at >= ${from} and occurred_at < ${to}
       group by server, tool`,
    db.$queryRaw<CircuitRow[]>`select provider, state, consecutive_failures, opened_at from provider_circuits order by provider limit 100`,
    db.$queryRaw<SentRow[]>`
      select provider, channel::text as channel, count(*)::int as sent,
             count(*) filter (where status = 'DELIVERED')::int as delivered,
             count(*) filter (where status = 'FAILED')::int as failed
        from messages
       where organization_id = ${org.id}::uuid and created_at >= ${from} and created_at < ${to} and direction = 'OUTBOUND' and provider is not null
       group by 1, 2`,
    db.$queryRaw<BulkRow[]>`
      with active as (select id, status, created_at from bulk_sends where organization_id = ${org.id}::uuid and status in ('queued', 'running'))
      select (select count(*) from active where status = 'queued')::int as queued_sends,
             (select count(*) from active where status = 'running')::int as running_sends,
             (select count(*) from bulk_send_recipients r join active a on a.id = r.bulk_send_id where r.state = any(${WAITING_STATES}::text[]))::int as pending_recipients,
             (select min(a.created_at) from active a
               where exists (select 1 from bulk_send_recipients r where r.bulk_send_id = a.id and r.state = any(${WAITING_STATES}::text[]))) as oldest`,
  ]);

  const reasons: string[] = [];
  if (latency > HEALTH_LIMITS.dbLatencyMs) reasons.push(`database round trip ${r2(latency)} ms (over ${HEALTH_LIMITS.dbLatencyMs} ms)`);

  const servers: ServerBeat[] = beats.map((b) => {
    const age = Math.max(0, to.getTime() - b.beat_at.getTime());
    return {
      server: b.server, instance: b.instance, host: b.host, pid: b.pid, version: b.version, last_beat_at: b.beat_at.toISOString(),
      age_s: r1(age / 1000), stale: age > STALE_AFTER_MS,
    };
  });
  // A server whose every instance is stale has stopped; a stale instance next to a fresh one of the
  // same server is a process that was replaced (killed, then restarted) and is listed, not alarming.
  const fresh = new Set(servers.filter((s) => !s.stale).map((s) => s.server));
  for (const s of servers) {
    if (s.stale && !fresh.has(s.server)) reasons.push(`server ${s.server} (instance ${s.instance} on ${s.host}, pid ${s.pid}) has not beaten for ${s.age_s} s`);
  }

  const all: ToolHealth[] = toolRows.map((t) => ({
    server: t.server, tool: t.tool, calls: t.calls, errors: t.errors, error_rate: t.calls ? r4(t.errors / t.calls) : 0,
    p50_ms: t.p50 === null ? null : r2(t.p50), p95_ms: t.p95 === null ? null : r2(t.p95),
  }));
  all.sort((a, b) => b.calls - a.calls || b.errors - a.errors || a.server.localeCompare(b.server) || a.tool.localeCompare(b.tool));
  for (const t of all) {
    if (t.calls >= HEALTH_LIMITS.minCalls && t.errors / t.calls > HEALTH_LIMITS.errorRate) {
      reasons.push(`${t.server}/${t.tool} failed ${t.errors} of ${t.calls} calls (${(t.error_rate * 100).toFixed(2)}%)`);
    }
  }

  const names = new Set([...Object.keys(KNOWN_PROVIDERS), ...circuits.map((c) => c.provider), ...sent.map((s) => s.provider)]);
  const providers: ProviderHealth[] = [];
  for (const p of [...names].sort()) {
    const c = circuits.find((x) => x.provider === p);
    const state: ProviderHealth["circuit"] =
      c?.state === "open" ? (c.opened_at && c.opened_at.getTime() + CIRCUIT_OPEN_MS <= to.getTime() ? "half_open" : "open") : c?.state === "half_open" ? "half_open" : "closed";
    const rows: Array<SentRow | undefined> = sent.filter((s) => s.provider === p);
    if (!rows.length) rows.push(undefined);
    for (const s of rows) {
      const outcomes = (s?.delivered ?? 0) + (s?.failed ?? 0);
      const h: ProviderHealth = {
        provider: p, channel: s?.channel ?? KNOWN_PROVIDERS[p] ?? null, circuit: state, consecutive_failures: c?.consecutive_failures ?? 0,
        opened_at: c?.opened_at && state !== "closed" ? c.opened_at.toISOString() : null,
        sent: s?.sent ?? 0, delivered: s?.delivered ?? 0, failed: s?.failed ?? 0, delivery_rate: outcomes ? r4(s!.delivered / outcomes) : null,
      };
      providers.push(h);
      if (outcomes >= HEALTH_LIMITS.minOutcomes && h.delivery_rate! < HEALTH_LIMITS.deliveryRate) {
        reasons.push(`${p} (${h.channel}) delivered ${h.delivered} of ${outcomes} outcomes (${(h.delivery_rate! * 100).toFixed(2)}%)`);
      }
    }
    if (state === "open") reasons.push(`provider ${p} circuit open since ${c!.opened_at?.toISOString() ?? "?"} after ${c!.consecutive_failures} consecutive failures`);
    else if (state === "half_open") reasons.push(`provider ${p} circuit half open (the next send is a trial) after ${c!.consecutive_failures} consecutive failures`);
  }

  const b = bulkRow ?? { queued_sends: 0, running_sends: 0, pending_recipients: 0, oldest: null };
  const bulk = {
    queued_sends: b.queued_sends, running_sends: b.running_sends, pending_recipients: b.pending_recipients,
    oldest_pending_age_s: b.oldest ? r1(Math.max(0, to.getTime() - b.oldest.getTime()) / 1000) : null,
  };
  if (bulk.pending_recipients > 0 && !fresh.has(BULK_WORKER_SERVER)) {
    reasons.push(`${bulk.pending_recipients} bulk-send recipients are waiting and no bulk worker has a fresh heartbeat`);
  }

  return {
    status: reasons.length ? "degraded" : "ok",
    reasons,
    window,
    database: { ok: true, latency_ms: r2(latency) },
    servers,
    tools: all.slice(0, TOP_TOOLS),
    tool_count: all.length,
    calls: all.reduce((n, t) => n + t.calls, 0),
    errors: all.reduce((n, t) => n + t.errors, 0),
    rate_limited: toolRows.reduce((n, t) => n + t.rate_limited, 0),
    providers,
    bulk,
  };
}
