// get_kpi_dashboard: every KPI of kpi/definitions.ts over a range of the organization's local
// days against the equal-length range before, with a sparkline series; get_real_time_metrics:
// live counts over the last N minutes against the N minutes before.
import { defineTool, lines, type OrgInfo } from "@marketsage/core";
import { formatMoney, minorUnits, roundMoney, roundRate } from "@marketsage/domain";
import { z } from "zod";
import { KpiSubset } from "../kpi/range.ts";
import { computeKpis, KPI_DEFS, KPI_NAMES, KpiRangeInput, realTimeMetrics, REALTIME_METRICS, resolveKpiRange, type KpiName } from "../kpi/index.ts";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const Num = z.number().nullable();

const KpiOut = z.object({
  kpi: z.enum(KPI_NAMES),
  label: z.string(),
  unit: z.enum(["count", "ratio", "money"]),
  currency: z.string().nullable().describe("Money KPIs: the reporting currency"),
  value: Num,
  previous: Num.describe("Over the previous range of equal length"),
  change: Num.describe("value − previous"),
  change_ratio: Num.describe("change / previous; null when previous is 0"),
  series: z.array(Num).describe("One point per bucket from series_first_day"),
});
type KpiOut = z.infer<typeof KpiOut>;

const DashboardOut = z.object({
  range: z.object({
    from: z.string(),
    to: z.string().describe("Exclusive"),
    previous_from: z.string(),
    first_day: z.string(),
    last_day: z.string(),
    days: z.number().int(),
    time_zone: z.string(),
    period: z.string().nullable(),
  }),
  series_granularity: z.enum(["day", "week"]),
  kpis: z.array(KpiOut),
  fx_missing: z.number().int().describe("Amounts without an FX rate, left out"),
});

const round = (k: KpiName, x: number | null, currency: string): number | null => {
  if (x === null) return null;
  const unit = KPI_DEFS[k].unit;
  return unit === "money" ? roundMoney(x, currency) : unit === "ratio" ? roundRate(x) : Math.round(x);
};

function kpiOut(k: KpiName, value: number | null, previous: number | null, series: Array<number | null>, org: OrgInfo): KpiOut {
  const d = KPI_DEFS[k];
  const change = value === null || previous === null ? null : round(k, value - previous, org.reportingCurrency);
  return {
    kpi: k, label: d.label, unit: d.unit, currency: d.unit === "money" ? org.reportingCurrency : null, value, previous, change,
    change_ratio: change === null || !previous ? null : roundRate(change / Math.abs(previous)),
    series,
  };
}

const count = new Intl.NumberFormat("en-US");
const signed = (s: string, x: number) => (x > 0 ? `+${s}` : s);
function show(o: KpiOut, x: number | null, withCurrency = true): string {
  if (x === null) return "n/a";
  if (o.unit === "ratio") return `${(x * 100).toFixed(2)}%`;
  if (o.unit === "money") {
    if (withCurrency) return formatMoney({ amount: x, currency: o.currency! });
    const d = minorUnits(o.currency!);
    return x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  return count.format(x);
}

export const getKpiDashboard = defineTool({
  name: "get_kpi_dashboard",
  title: "KPI dashboard",
  description:
    "Every KPI (contacts, active contacts, messages by channel, delivery/open/click rates, conversions, revenue, cost, ROI, visitors, visitor conversion rate) " +
      "over your local days vs the previous equal range, with a sparkline. Money in the reporting currency at each day's FX; messages: those created in the range.",
  scopes: ["monitoring:read"],
  annotations: READ_ONLY,
  input: z.object({
    ...KpiRangeInput,
    kpis: KpiSubset.optional().describe("KPI names; default all"),
  }),
  output: DashboardOut,
  handler: async (i, ctx) => {
    const r = await resolveKpiRange(ctx.db, ctx.org, i, ctx.now());
    const kpis = i.kpis ? KPI_NAMES.filter((k) => i.kpis!.includes(k)) : KPI_NAMES;
    const [cur, prev] = await Promise.all([
      computeKpis(ctx.db, ctx.org, kpis, { from: r.from, to: r.to, granularity: r.granularity }),
      computeKpis(ctx.db, ctx.org, kpis, { from: r.previousFrom, to: r.from, granularity: null }),
    ]);
    return {
      range: {
        from: r.from.toISOString(), to: r.to.toISOString(), previous_from: r.previousFrom.toISOString(), first_day: r.firstDay, last_day: r.lastDay, days: r.days,
        time_zone: ctx.org.timeZone, period: r.period,
      },
      series_granularity: r.granularity,
      kpis: kpis.map((k) => kpiOut(k, cur.total.get(k) ?? null, prev.total.get(k) ?? null, cur.buckets.map((b) => b.values.get(k) ?? null), ctx.org)),
      fx_missing: cur.revenueNoFx + cur.costNoFx,
    };
  },
  render: (o) =>
    lines(
      `KPIs for ${o.range.first_day} to ${o.range.last_day} (${o.range.days} local days in ${o.range.time_zone}${o.range.period ? `, ${o.range.period}` : ""}; ${o.range.from} – ${o.range.to}) ` +
        `vs the previous equal range from ${o.range.previous_from}. Each: value vs previous: absolute change, relative change; then the ${o.series_granularity === "day" ? "daily" : "weekly (7-day blocks)"} series from ${o.range.first_day}.`,
      o.kpis.map((k) => {
        const ch = k.change === null ? "n/a" : signed(show(k, k.change), k.change);
        const rel = k.change_ratio === null ? "n/a" : signed(`${(k.change_ratio * 100).toFixed(2)}%`, k.change_ratio);
        return `- ${k.label} (${k.kpi}, ${k.unit}${k.currency ? ` ${k.currency}` : ""}): ${show(k, k.value)} vs ${show(k, k.previous)}: ${ch} abs, ${rel} rel | ${k.series.map((x) => (x === null ? "–" : show(k, x, false))).join(" ")}`;
      }),
      `Amounts without a stored FX rate, left out of revenue and cost: ${o.fx_missing}.`,
    ),
});

const RealTimeOut = z.object({
  minutes: z.number().int(),
  from: z.string(),
  to: z.string(),
  previous_from: z.string(),
  metrics: z.array(z.object({ metric: z.enum(REALTIME_METRICS), value: z.number().int(), previous: z.number().int(), change: z.number().int() })),
});

export const getRealTimeMetrics = defineTool({
  name: "get_real_time_metrics",
  title: "Real-time metrics",
  description: "Live counts over the last N minutes vs the N before: tool calls (audit log), sends, deliveries, failures (FAILED or BOUNCED), website visitors (no bots), conversions.",
  scopes: ["monitoring:read"],
  annotations: READ_ONLY,
  input: z.object({ minutes: z.number().int().min(1).max(1440).default(60) }),
  output: RealTimeOut,
  handler: async (i, ctx) => {
    const r = await realTimeMetrics(ctx.db, ctx.org, { minutes: i.minutes, now: ctx.now() });
    return { minutes: i.minutes, from: r.from.toISOString(), to: r.to.toISOString(), previous_from: r.previousFrom.toISOString(), metrics: r.metrics };
  },
  render: (o) =>
    lines(
      `Last ${o.minutes} minutes (${o.from} – ${o.to}) vs the ${o.minutes} before (from ${o.previous_from}):`,
      o.metrics.map((m) => `- ${m.metric}: ${count.format(m.value)} vs ${count.format(m.previous)} (${m.change > 0 ? "+" : ""}${count.format(m.change)})`),
    ),
});

export const kpiTools = [getKpiDashboard, getRealTimeMetrics] as const;
