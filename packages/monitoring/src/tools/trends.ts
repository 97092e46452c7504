// analyze_performance_trends: one KPI over whole local days of the organization (today, partial,
// left out), its robust slope (Theil–Sen, with the Mann–Kendall test saying whether it is a trend
// at all), its day-of-week profile (robust decomposition, Kruskal–Wallis across weekdays) and a
// forecast whose method is chosen by a rolling-origin backtest against seasonal naive (MASE),
// with 80% and 95% bands. Counts and money cannot go below 0, ratios stay in 0–1: bands are
// clipped there, and the answer says so.
import { defineTool, lines } from "@marketsage/core";
import { formatMoney, money, roundTo } from "@marketsage/domain";
import { z } from "zod";
import { KPI_DEFS, kpiSeries, type KpiName } from "../kpi/index.ts";
import { KpiEnum } from "../kpi/range.ts";
import { addDays, dailySeries, localDayWindow } from "../series.ts";
import { dayOfWeekProfile, forecastSeries, mannKendall, seriesTrend } from "../stats/index.ts";

const Num = z.number().nullable();

/** Rounds a KPI value for the answer: ratios to 4 decimals, money to 2, counts to 2 (forecasts are fractional). */
export function kpiRound(kpi: KpiName, x: number): number;
export function kpiRound(kpi: KpiName, x: number | null): number | null;
export function kpiRound(kpi: KpiName, x: number | null): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  return roundTo(x, KPI_DEFS[kpi].unit === "ratio" ? 4 : 2);
}

/** A KPI value as text: ratios in percent, money with its currency. */
export function kpiText(kpi: KpiName, x: number | null, currency: string): string {
  if (x === null) return "n/a";
  const unit = KPI_DEFS[kpi].unit;
  if (unit === "ratio") return `${roundTo(x * 100, 2)}%`;
  if (unit === "money") return formatMoney(money(x, currency));
  return x.toLocaleString("en", { maximumFractionDigits: 2 });
}

export const unitOf = (kpi: KpiName, currency: string): string => (KPI_DEFS[kpi].unit === "money" ? currency : KPI_DEFS[kpi].unit === "ratio" ? "ratio (0–1)" : "count");

export const analyzePerformanceTrends = defineTool({
  name: "analyze_performance_trends",
  title: "KPI trend and forecast",
  description:
    "One KPI by day or week in your time zone: Theil–Sen slope with Mann–Kendall p, weekday effects, and a 7–28 day forecast with 80%/95% bands " +
    "by the method that won a backtest against seasonal naive (MASE); it says when nothing beat it.",
  scopes: ["monitoring:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    kpi: KpiEnum,
    days: z.number().int().min(28).max(365).default(90).describe("History before today"),
    horizon_days: z.number().int().min(7).max(28).default(14),
    granularity: z.enum(["day", "week"]).default("day").describe("Forecast is daily"),
  }),
  output: z.object({
    kpi: z.string(),
    definition: z.string(),
    unit: z.string(),
    time_zone: z.string(),
    from: z.string(),
    to: z.string(),
    granularity: z.string(),
    series: z.array(z.object({ start: z.string(), value: Num })),
    filled_days: z.number().int().describe("Days without a value, filled from the same weekday"),
    slope: z.object({
      per: z.string(),
      theil_sen: Num,
      ols: Num,
      mann_kendall_p: Num,
      direction: z.enum(["rising", "falling", "no clear trend", "not enough data"]),
    }),
    seasonality: z
      .object({
        meaningful: z.boolean(),
        reason: z.string(),
        strength: z.number(),
        kruskal_wallis_p: z.number(),
        weekdays: z.array(z.object({ day: z.string(), effect: z.number() })),
      })
      .nullable(),
    forecast: z.object({
      method: z.string(),
      reason: z.string(),
      beats_seasonal_naive: z.boolean().nullable(),
      criterion: z.string().nullable(),
      backtest: z.array(z.object({ method: z.string(), mase: Num, mape: Num, mae: z.number() })),
      points: z.array(z.object({ day: z.string(), mean: z.number(), lower80: z.number(), upper80: z.number(), lower95: z.number(), upper95: z.number() })),
      clipped: z.boolean().describe("Bands were clipped to the KPI's possible values"),
      intervals: z.string(),
    }),
  }),
  handler: async (i, ctx) => {
    const kpi = i.kpi as KpiName;
    const def = KPI_DEFS[kpi];
    const { series: [d] } = await dailySeries(ctx.db, ctx.org, [kpi], ctx.now(), i.days);
    const shown =
      i.granularity === "day"
        ? d!.days.map((start, k) => ({ start, value: d!.raw[k]! }))
        : await (async () => {
            const w = await localDayWindow(ctx.db, ctx.org.timeZone, ctx.now(), i.days);
            return (await kpiSeries(ctx.db, ctx.org, { kpis: [kpi], from: w.from, to: w.to, granularity: "week" })).get(kpi) ?? [];
          })();
    const trendValues = i.granularity === "day" ? d!.values : shown.filter((p) => p.value !== null).map((p) => p.value!);
    const t = trendValues.length >= 2 ? seriesTrend(trendValues) : { theilSen: null, ols: null };
    const mk = mannKendall(trendValues);
    const direction: "rising" | "falling" | "no clear trend" | "not enough data" = !t.theilSen || !mk ? "not enough data" : mk.pValue < 0.05 && t.theilSen.slope > 0 ? "rising" : mk.pValue < 0.05 && t.theilSen.slope < 0 ? "falling" : "no clear trend";

    const dow = d!.values.length ? dayOfWeekProfile(d!.values, d!.firstWeekday) : null;
    const f = forecastSeries(d!.values.length ? d!.values : [0], { horizon: i.horizon_days, period: 7 });
    // ROI is a ratio without bounds above, and −1 at worst (no revenue); the other ratios are shares.
    const lo = kpi === "roi" ? -1 : 0;
    const hi = def.unit === "ratio" && kpi !== "roi" ? 1 : Infinity;
    let clipped = false;
    const clip = (x: number) => {
      const y = Math.min(hi, Math.max(lo, x));
      if (y !== x) clipped = true;
      return y;
    };
    const last = d!.days.at(-1) ?? addDays(d!.days[0] ?? "1970-01-01", -1);
    const r = (x: number) => kpiRound(kpi, x);
    return {
      kpi,
      definition: def.description,
      unit: unitOf(kpi, ctx.org.reportingCurrency),
      time_zone: ctx.org.timeZone,
      from: d!.days[0] ?? "",
      to: last,
      granularity: i.granularity,
      series: shown.map((p) => ({ start: p.start, value: kpiRound(kpi, p.value) })),
      filled_days: d!.filled,
      slope: {
        per: `per ${i.granularity}`,
        theil_sen: t.theilSen ? roundTo(t.theilSen.slope, 6) : null,
        ols: t.ols ? roundTo(t.ols.slope, 6) : null,
        mann_kendall_p: mk ? roundTo(mk.pValue, 4) : null,
        direction,
      },
      seasonality: dow
        ? { meaningful: dow.meaningful, reason: dow.reason, strength: roundTo(dow.strength, 3), kruskal_wallis_p: roundTo(dow.test.pValue, 6), weekdays: dow.days.map((x) => ({ day: x.name, effect: r(x.effect) })) }
        : null,
      forecast: {
        method: f.method,
        reason: f.reason,
        beats_seasonal_naive: f.backtest ? f.backtest.beatsSeasonalNaive : null,
        criterion: f.backtest?.criterion ?? null,
        backtest: (f.backtest?.candidates ?? []).map((c) => ({ method: c.method, mase: c.mase === null ? null : roundTo(c.mase, 3), mape: c.mape === null ? null : roundTo(c.mape, 1), mae: roundTo(c.mae, 4) })),
        points: f.points.map((p) => ({ day: addDays(last, p.step), mean: r(clip(p.mean)), lower80: r(clip(p.lower80)), upper80: r(clip(p.upper80)), lower95: r(clip(p.lower95)), upper95: r(clip(p.upper95)) })),
        clipped,
        intervals: f.intervals,
      },
    };
  },
  render: (o) => {
    const kpi = o.kpi as KpiName;
    const cur = o.unit === "count" || o.unit === "ratio (0–1)" ? "" : o.unit;
    const v = (x: number | null) => kpiText(kpi, x, cur);
    const s = o.slope;
    const f = o.forecast;
    return lines(
      `${o.kpi} (${o.definition}; unit ${o.unit}) by ${o.granularity} in ${o.time_zone}, ${o.from} → ${o.to}${o.filled_days ? `; ${o.filled_days} day(s) without a value filled from the same weekday` : ""}.`,
      `Trend ${s.per}: Theil–Sen ${s.theil_sen ?? "n/a"} (OLS ${s.ols ?? "n/a"}), Mann–Kendall p ${s.mann_kendall_p ?? "n/a"}: ${s.direction}.`,
      o.seasonality
        ? `Day of week: ${o.seasonality.meaningful ? "a meaningful weekly pattern" : "no meaningful weekly pattern"} (${o.seasonality.reason}; strength ${o.seasonality.strength}, Kruskal–Wallis p ${o.seasonality.kruskal_wallis_p}); effects ${o.seasonality.weekdays.map((w) => `${w.day} ${w.effect > 0 ? "+" : ""}${w.effect}`).join(", ")}.`
        : "Day of week: not enough data (two full weeks needed).",
      `Forecast (${f.method}): ${f.reason}.${f.beats_seasonal_naive === false ? " The model does not beat seasonal naive: treat the forecast as 'like the same weekday recently'." : ""}`,
      f.backtest.length ? `Backtest (${f.criterion}): ${f.backtest.map((c) => `${c.method} MASE ${c.mase ?? "n/a"}, MAPE ${c.mape === null ? "n/a" : `${c.mape}%`}, MAE ${c.mae}`).join("; ")}.` : "",
      `Bands: ${f.intervals}${f.clipped ? "; clipped to the KPI's possible values" : ""}.`,
      `Forecast by day (mean, 80% band, 95% band):`,
      f.points.map((p) => `- ${p.day}: ${v(p.mean)} (80% ${v(p.lower80)}–${v(p.upper80)}; 95% ${v(p.lower95)}–${v(p.upper95)})`),
      `Series (${o.granularity}, local start: value):`,
      o.series.map((p) => `- ${p.start}: ${v(p.value)}`),
    );
  },
});
