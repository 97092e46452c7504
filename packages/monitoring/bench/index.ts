// monitoring's parts of `pnpm bench` (the catalog entry points here): each tool at the current
// scale through the production seam (the real SDK client), the dashboard beside hand-written SQL
// over the base tables for its message figures (what the KPI read did before message_kpi_slots),
// and the cost of the trigger-kept slots on ingestion.
import pg from "pg";
import { createRuntime, type BenchContext, type BenchSample as Sample } from "@marketsage/core";
import { ALL_ON, connectTestClient } from "@marketsage/core/testing";
import { monitoringServer } from "../src/server.ts";
import { benchKpiIngestion } from "./ingestion.ts";

// The dashboard's message figures by hand for the 30 local days and the 30 before (per-message
// EXISTS over message_events, grouped by UTC day and channel), as the KPI read did before the slots.
const MESSAGES_SQL = `
  select m.created_at::date d, m.channel,
         count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type not in ('QUEUED', 'FAILED'))) sent,
         count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type in ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED'))) delivered,
         count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type in ('OPENED', 'CLICKED'))) opened,
         count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type = 'CLICKED')) clicked,
         sum(m.cost) cost
    from messages m
   where m.organization_id = $1 and m.direction = 'OUTBOUND' and m.created_at >= $2::timestamptz - interval '60 days' and m.created_at < $2::timestamptz
   group by 1, 2`;

async function benchTools(b: BenchContext): Promise<Sample[]> {
  const { orgId, n, time } = b;
  const runtime = createRuntime({ databaseUrl: b.databaseUrl, flags: ALL_ON, rateLimits: { callsPerMinute: 10_000_000, sendsPerMinute: 60, sendsPerDay: 5000 }, log: b.log });
  const t = await connectTestClient({ server: "monitoring", tools: [...monitoringServer.tools], runtime, apiKey: b.apiKey });
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: 2, options: "-c jit=off -c work_mem=64MB -c timezone=UTC" });
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await t.client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return r;
  };
  const k = Math.min(n, 20);
  const out: Sample[] = [];
  try {
    out.push({
      name: "get_kpi_dashboard (30d vs the 30 before, every KPI)",
      ms: await time(k, () => call("get_kpi_dashboard", { period: "30d" })),
      reference: { name: "SQL: message figures by hand, 60 days (per-message EXISTS)", ms: await time(Math.min(k, 5), () => pool.query(MESSAGES_SQL, [orgId, new Date()]), 1) },
    });
    out.push({ name: "get_kpi_dashboard (90d, weekly series)", ms: await time(k, () => call("get_kpi_dashboard", { period: "90d" })) });
    out.push({ name: "analyze_performance_trends (conversions, 90 days, 14-day forecast)", ms: await time(k, () => call("analyze_performance_trends", { kpi: "conversions", days: 90 })) });
    out.push({ name: "analyze_performance_trends (delivery_rate, 90 days)", ms: await time(k, () => call("analyze_performance_trends", { kpi: "delivery_rate", days: 90 })) });
    out.push({ name: "get_anomaly_detection (all KPIs, 90 days)", ms: await time(k, () => call("get_anomaly_detection", { days: 90 })) });
    out.push({ name: "generate_performance_report (executive, 30d, 4 PNG charts)", ms: await time(k, () => call("generate_performance_report", { kind: "executive", period: "30d" })) });
    out.push({ name: "generate_performance_report (technical, 30d, no charts)", ms: await time(k, () => call("generate_performance_report", { kind: "technical", period: "30d", charts: false })) });
    out.push({ name: "get_system_health (last hour)", ms: await time(k, () => call("get_system_health", { minutes: 60 })) });
    out.push({ name: "get_real_time_metrics (last hour)", ms: await time(k, () => call("get_real_time_metrics", { minutes: 60 })) });
  } finally {
    await t.close();
    await runtime.close();
    await pool.end();
  }
  return out;
}

export const bench = {
  monitoring: async (b: BenchContext) => ({ samples: await benchTools(b) }),
  // What message_kpi_slots' triggers cost the writers (messages and their events written as the
  // send path writes them), by PostgreSQL's own function timing.
  "monitoring-ingestion": async (b: BenchContext) => benchKpiIngestion(b),
};
