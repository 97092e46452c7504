import { defineTool, UserError } from "@marketsage/core";
import { CHANNELS, ChannelEnum, money, resolveRange, ResolvedRange, roundMoney, roundRate, roundTo, type ChannelName } from "@marketsage/domain";
import { z } from "zod";
import { RATE_KEYS, RATES, rateApplies, type CountKey, type RateKey } from "../metrics/definitions.ts";
import { AttributionDays, RANGE, rangeInput } from "./inputs.ts";
import { bucketsOf, campaignSeries, type Granularity, type Tallies } from "../queries/series.ts";
import { theilSen } from "../stats/index.ts";
import { at, lines, money as fmtMoney, pct } from "../render.ts";

const METRICS = [...RATE_KEYS, "sent", "revenue"] as const;
type Metric = (typeof METRICS)[number];
const MAX_BUCKETS = 120;
const DAY = 86_400_000;

const BASIS =
  "by campaign date: each bucket holds the campaigns dated in it (sent, else scheduled, else created), with their messages' " +
  "events and attributed conversions up to now (the figures of get_campaign_metrics, summed), so recent buckets can still grow";

const isRate = (m: Metric): m is RateKey => m !== "sent" && m !== "revenue";

/** day up to 31 days, week up to 180, month beyond. */
const defaultGranularity = (ms: number): Granularity => (ms <= 31 * DAY ? "day" : ms <= 180 * DAY ? "week" : "month");

function measure(metric: Metric, t: Tallies): { num: number; den: number | null } {
  const count = (k: CountKey): number => t.counts[k];
  if (metric === "revenue") return { num: t.revenue, den: null };
  if (metric === "sent") return { num: t.counts.sent, den: null };
  return { num: count(RATES[metric].numerator), den: count(RATES[metric].denominator) };
}

const Num = z.number().nullable();

export const analyzeCampaignTrends = defineTool({
  name: "analyze_campaign_trends",
  title: "Campaign trends",
  description:
    "A rate (0–1), sent or revenue (reporting currency) per day/week/month (organization's time zone) over the campaigns " +
    "dated in each bucket; empty buckets kept; Theil–Sen slope with 95% interval; change vs the previous period.",
  scopes: ["campaigns:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    metric: z.enum(METRICS).default("click_rate"),
    channel: ChannelEnum.optional(),
    range: rangeInput(`${RANGE}; default 90d.`),
    granularity: z.enum(["day", "week", "month"]).optional().describe("Default: day to 31 days, week to 180, else month."),
    attribution_days: AttributionDays,
  }),
  output: z.object({
    metric: z.string(),
    definition: z.string(),
    unit: z.string(),
    channels: z.array(z.string()),
    range: ResolvedRange,
    granularity: z.string(),
    time_zone: z.string(),
    basis: z.string(),
    attribution_days: z.number().int(),
    buckets: z.array(
      z.object({
        label: z.string().describe("Local date of the bucket's first day (YYYY-MM for months)"),
        start: z.string().describe("The bucket's local midnight, ISO 8601 UTC"),
        partial: z.boolean().describe("The range covers only part of the bucket"),
        campaigns: z.number().int(),
        volume: z.number().int().describe("Messages of those campaigns"),
        numerator: Num,
        denominator: Num,
        value: Num.describe("Rate, count or amount; null when the denominator is 0"),
      }),
    ),
    slope: z.object({
      per: z.string(),
      value: Num,
      low: Num,
      high: Num,
      confidence: z.number(),
      n: z.number().int().describe("Buckets used"),
      direction: z.enum(["rising", "falling", "flat", "not enough data"]),
    }),
    change: z.object({ current: Num, previous: Num, absolute: Num, relative: Num.describe("absolute / previous") }),
    fx_incomplete: z.boolean(),
  }),
  handler: async (input, ctx) => {
    const metric = input.metric;
    const range = resolveRange(input.range, ctx.now(), "90d");
    const unit = input.granularity ?? defaultGranularity(range.to.getTime() - range.from.getTime());
    const only: ChannelName | undefined = input.channel;
    if (only && isRate(metric) && !rateApplies(metric, only)) {
      throw new UserError(`${metric} does not exist on ${only} (${RATES[metric].words}); pick a rate that does, e.g. click_rate or delivery_rate.`);
    }
    const channels = only ? [only] : CHANNELS.filter((c) => !isRate(metric) || rateApplies(metric, c));

    const buckets = await bucketsOf(ctx.db, ctx.org.timeZone, unit, range.from, range.to);
    if (buckets.length > MAX_BUCKETS) {
      throw new UserError(`That is ${buckets.length} ${unit} buckets (at most ${MAX_BUCKETS}): choose a coarser granularity or a shorter range.`);
    }
    const series = await campaignSeries(ctx.db, {
      org: ctx.org,
      channels,
      starts: buckets.map((b, i) => (i === 0 ? range.from : b.start)),
      to: range.to,
      previousFrom: range.previousFrom,
      conversions: metric === "revenue" || metric === "conversion_rate",
      attributionDays: input.attribution_days,
    });

    const rc = ctx.org.reportingCurrency;
    const round = (x: number | null) => (x === null ? null : metric === "revenue" ? roundMoney(x, rc) : isRate(metric) ? roundRate(x) : x);
    const valueOf = (m: { num: number; den: number | null }) => (m.den === null ? m.num : m.den > 0 ? m.num / m.den : null);
    const rows = buckets.map((b, i) => {
      const t = series.buckets[i]!;
      const m = measure(metric, t);
      return { i, b, m, partial: b.start < range.from || b.end > range.to, raw: valueOf(m), volume: t.counts.messages, campaigns: t.campaigns };
    });
    // Rates: every bucket with a basis. Counts and amounts grow with a bucket's length: whole buckets only.
    const points = rows.filter((r) => (isRate(metric) ? (r.m.den ?? 0) > 0 : !r.partial)).map((r) => ({ x: r.i, y: r.raw! }));
    const fit = theilSen(points, 0.95);
    const slopeRound = (x: number) => (metric === "revenue" ? roundMoney(x, rc) : roundTo(x, isRate(metric) ? 6 : 2));
    const low = fit?.bounded ? slopeRound(fit.low) : null;
    const high = fit?.bounded ? slopeRound(fit.high) : null;
    const direction: "rising" | "falling" | "flat" | "not enough data" = !fit ? "not enough data" : low !== null && low > 0 ? "rising" : high !== null && high < 0 ? "falling" : "flat";

    const cur = valueOf(measure(metric, series.current));
    const prev = valueOf(measure(metric, series.previous));
    const absolute = cur !== null && prev !== null ? cur - prev : null;
    return {
      metric,
      definition: isRate(metric) ? `${metric} = ${RATES[metric].words}` : metric === "sent" ? "sent: messages the provider accepted (any event other than QUEUED and FAILED)" : "revenue: attributed conversions' value, FX at each conversion's day",
      unit: isRate(metric) ? "rate (0–1)" : metric === "sent" ? "messages" : rc,
      channels,
      range: range.json,
      granularity: unit,
      time_zone: ctx.org.timeZone,
      basis: BASIS,
      attribution_days: input.attribution_days,
      buckets: rows.map((r) => ({
        label: r.b.label,
        start: r.b.start.toISOString(),
        partial: r.partial,
        campaigns: r.campaigns,
        volume: r.volume,
        numerator: r.m.den === null ? null : r.m.num,
        denominator: r.m.den,
        value: round(r.raw),
      })),
      slope: { per: `per ${unit}`, value: fit ? slopeRound(fit.slope) : null, low, high, confidence: 0.95, n: fit?.n ?? points.length, direction },
      change: {
        current: round(cur),
        previous: round(prev),
        absolute: round(absolute),
        relative: absolute !== null && prev ? roundRate(absolute / prev) : null,
      },
      fx_incomplete: series.fxIncomplete,
    };
  },
  render: (o) => {
    const v = (x: number | null) => (x === null ? "n/a" : o.unit === "rate (0–1)" ? pct(x) : o.unit === "messages" ? String(x) : fmtMoney(money(x, o.unit)));
    const raw = (x: number | null) => (x === null ? "n/a" : `${x > 0 ? "+" : ""}${x}`);
    const s = o.slope;
    const r = o.range;
    return lines(
      `${o.metric} (${o.definition}; unit ${o.unit}) by ${o.granularity} in ${o.time_zone}, ${at(r.from)} → ${at(r.to)}${r.preset ? ` (${r.preset})` : ""}` +
        `; channels ${o.channels.join(", ")}; attribution ${o.attribution_days} days.`,
      `Basis: ${o.basis}.`,
      `Slope ${s.per} (Theil–Sen over ${s.n} buckets, ${s.confidence * 100}% interval): ${raw(s.value)}` +
        (s.value === null ? "" : s.low === null ? " (interval unbounded with so few buckets)" : ` (${raw(s.low)} to ${raw(s.high)})`) +
        `: ${s.direction}.`,
      `Change vs the previous period (${at(r.previous_from)} → ${at(r.from)}): ${v(o.change.previous)} → ${v(o.change.current)}, ` +
        `${raw(o.change.absolute)}${o.change.relative === null ? " (relative n/a)" : ` (${raw(o.change.relative)} relative)`}.`,
      `Buckets (label, local start, value${o.unit === "rate (0–1)" ? " = numerator/denominator" : ""}, campaigns, volume in messages):`,
      o.buckets.map(
        (b) =>
          `- ${b.label} (${at(b.start)}${b.partial ? ", partial" : ""}): ${v(b.value)}` +
          `${b.denominator === null ? "" : ` = ${b.numerator}/${b.denominator}`}, ${b.campaigns} campaigns, volume ${b.volume}`,
      ),
      o.fx_incomplete ? "Some revenue had no FX rate and is left out." : "",
    );
  },
});
