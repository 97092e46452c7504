// monitoring in the harness (pnpm harness, pnpm start): arguments for every tool, the reads whose
// answers do not move with the clock, and this server's part of the story — a weekly review as an
// agent would run it: the dashboard, what was unusual, where a KPI is heading, an alert rule on it.
import { randomUUID } from "node:crypto";
import { expectThat, firstRow as first, type ArgBuilder, type BuilderContext, type HarnessSpec, type StoryStep } from "@marketsage/core";
import { formatMoney } from "@marketsage/domain";

/**
 * 28 whole local days of the demo data ending two days before its latest conversion (UTC dates):
 * a fixed past range, so the same call answers the same whatever the clock or the harness's own
 * sends (made now) do.
 */
async function pastRange(ctx: BuilderContext): Promise<{ from: string; to: string }> {
  const r = first(
    await ctx.q<{ from: string | null; to: string | null }>(
      `select to_char(m::date - 29, 'YYYY-MM-DD') as from, to_char(m::date - 2, 'YYYY-MM-DD') as to
         from (select max(occurred_at) m from conversions where organization_id = $1::uuid) x`,
      [ctx.orgId],
    ),
    "conversion",
  );
  expectThat(r.to !== null, "the demo data has no conversions (is the database seeded? run `pnpm db:setup`)");
  return { from: r.from!, to: r.to! };
}

const ruleName = () => `harness rule ${randomUUID().slice(0, 8)}`;

const builders: Record<string, ArgBuilder> = {
  get_kpi_dashboard: async (ctx) => ({ ...(await pastRange(ctx)), kpis: ["messages_sent", "delivery_rate", "conversions", "revenue", "cost", "roi"] }),
  get_real_time_metrics: async () => ({ minutes: 60 }),
  analyze_performance_trends: async () => ({ kpi: "conversions", days: 90, horizon_days: 14 }),
  get_anomaly_detection: async () => ({ days: 90, limit: 10 }),
  set_alert_threshold: async () => ({ name: ruleName(), metric: "delivery_rate", operator: "below", value: 0.8, window_minutes: 1440, severity: "WARNING" }),
  list_alert_thresholds: async () => ({}),
  // The harness's own rule (the builder for set_alert_threshold made it): never a user's.
  delete_alert_threshold: async (ctx) => {
    const r = await ctx.q<{ id: string }>(`select id::text from alert_thresholds where organization_id = $1::uuid and name like 'harness rule %' order by created_at desc limit 1`, [ctx.orgId]);
    if (r[0]) return { id: r[0].id };
    return { id: randomUUID() };
  },
  get_alerts: async () => ({ status: "all", limit: 10 }),
  generate_performance_report: async (ctx) => ({ kind: "executive", ...(await pastRange(ctx)) }),
  get_system_health: async () => ({ minutes: 60 }),
  query_audit_log: async () => ({ limit: 10 }),
  verify_audit_log: async () => ({}),
};

interface Dashboard {
  range: { first_day: string; last_day: string; time_zone: string };
  kpis: Array<{ kpi: string; label: string; unit: string; currency: string | null; value: number | null; previous: number | null; change_ratio: number | null }>;
}
interface Anomalies {
  total: number;
  anomalies: Array<{ day: string; kpi: string; severity: string; value: number; expected: number; z: number }>;
}
interface Trend {
  slope: { direction: string };
  forecast: { method: string; beats_seasonal_naive: boolean | null; points: Array<{ day: string; mean: number; lower80: number; upper80: number }> };
}

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);

const steps: StoryStep[] = [
  {
    name: "the dashboard over the last four weeks of the demo data",
    async run(s) {
      const d = await s.call<Dashboard>("get_kpi_dashboard", await builders.get_kpi_dashboard!(s.ctx));
      const by = new Map(d.kpis.map((k) => [k.kpi, k]));
      const sent = by.get("messages_sent")!;
      expectThat(sent.value !== null && sent.value > 0, "no message was sent in the range: the dashboard has nothing to show");
      const rev = by.get("revenue")!;
      s.say(
        `  ${d.range.first_day} to ${d.range.last_day} (${d.range.time_zone}): ${sent.value!.toLocaleString("en-US")} messages sent (${pct(sent.change_ratio)} vs the weeks before), ` +
          `delivery rate ${pct(by.get("delivery_rate")!.value)}, ${by.get("conversions")!.value} conversions, revenue ${rev.value === null ? "n/a" : formatMoney({ amount: rev.value, currency: rev.currency! })}.`,
      );
      return `${sent.value} sent`;
    },
  },
  {
    name: "what was unusual in the last 90 days",
    async run(s) {
      const a = await s.call<Anomalies>("get_anomaly_detection", { days: 90, limit: 5 });
      const top = a.anomalies[0];
      s.say(top ? `  ${a.total} anomalies; the most severe: ${top.kpi} on ${top.day} at ${top.value} against the expected ${top.expected} (z ${top.z}, ${top.severity}).` : "  Nothing unusual in the last 90 days.");
      return `${a.total} anomalies`;
    },
  },
  {
    name: "where conversions are heading",
    async run(s) {
      const t = await s.call<Trend>("analyze_performance_trends", { kpi: "conversions", days: 90, horizon_days: 14 });
      expectThat(t.forecast.points.length === 14, `a 14-day forecast came back with ${t.forecast.points.length} points`);
      const last = t.forecast.points.at(-1)!;
      s.say(
        `  Conversions: ${t.slope.direction}; forecast by ${t.forecast.method} (${t.forecast.beats_seasonal_naive === false ? "it does not beat seasonal naive" : "chosen by backtest"}): ` +
          `${last.mean.toFixed(1)} a day by ${last.day} (80% band ${last.lower80.toFixed(1)}–${last.upper80.toFixed(1)}).`,
      );
      return t.forecast.method;
    },
  },
  {
    name: "the executive report, with its charts",
    async run(s) {
      const r = await s.call<{ title: string; charts: Array<{ title: string }>; images: boolean; figures: Array<{ kpi: string; value: number | null }> }>(
        "generate_performance_report",
        { kind: "executive", ...(await pastRange(s.ctx)) },
      );
      expectThat(r.images && r.charts.length > 0, "the report came back without its charts");
      s.say(`  "${r.title}": ${r.figures.length} key figures and ${r.charts.length} charts (${r.charts.map((c) => c.title).join("; ")}), as PNG images.`);
      return `${r.charts.length} charts`;
    },
  },
  {
    // Alert rules are an administrator's (monitoring:admin); the agent reads what fired.
    name: "the open alerts, evaluated now",
    async run(s) {
      const a = await s.call<{ evaluated: { rules: number; fired: number } | null; open: number; alerts: Array<{ metric: string; message: string; severity: string }> }>("get_alerts", { status: "open", limit: 5 });
      expectThat(a.evaluated !== null, "get_alerts did not evaluate the rules");
      s.say(`  ${a.evaluated!.rules} alert rule(s) evaluated, ${a.evaluated!.fired} fired now; ${a.open} open${a.alerts[0] ? `, e.g. ${a.alerts[0].severity} on ${a.alerts[0].metric}: ${a.alerts[0].message}` : ""}.`);
      return `${a.open} open`;
    },
  },
];

export const harness: HarnessSpec = {
  builders,
  // A fixed past range: its messages, conversions and contacts are settled demo data.
  stableProbes: ["get_kpi_dashboard"],
  story: { title: "An AI agent runs a weekly review: the dashboard, what was unusual, where conversions are heading, the report, the open alerts", steps },
  cheapRead: { tool: "get_real_time_metrics", args: (tag) => ({ minutes: 1 + (Number.parseInt(tag.replace(/\D/g, "").slice(-3) || "0", 10) % 1440) }) },
};
