import { Prisma } from "@marketsage/db";
import { defineTool } from "@marketsage/core";
import { ChannelEnum, money, resolveRange, ResolvedRange, roundRate } from "@marketsage/domain";
import { z } from "zod";
import { RATE_KEYS, RATES, rateApplies, type RateKey } from "../metrics/definitions.ts";
import { binomialOf, inconsistency, metricWords } from "../metrics/select.ts";
import { campaignTallies, emptyTally, tallyKey } from "../queries/campaign-counts.ts";
import { CAMPAIGN_COLUMNS, type CampaignRow } from "../queries/campaigns.ts";
import { AttributionDays, RANGE, rangeInput } from "./inputs.ts";
import { wilsonInterval } from "../stats/index.ts";
import { at, lines, money as fmt, pct } from "../render.ts";

const METRICS = [...RATE_KEYS, "revenue", "roi"] as const;

export const getTopPerformingCampaigns = defineTool({
  name: "get_top_performing_campaigns",
  title: "Top performing campaigns",
  description:
    "Campaigns dated in the range, best first by a rate (Wilson 95% interval; lowest first for unsubscribe, bounce, failure), " +
    "revenue or ROI (reporting currency). Under min_volume trials (the rate's denominator; delivered for revenue/ROI) or " +
    "without a value (ROI without cost): counted in left_out.",
  scopes: ["campaigns:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    metric: z.enum(METRICS).default("conversion_rate"),
    channel: ChannelEnum.optional(),
    range: rangeInput(`${RANGE}; default 90d.`),
    min_volume: z.number().int().min(1).default(100),
    limit: z.number().int().min(1).max(25).default(10),
    attribution_days: AttributionDays,
  }),
  output: z.object({
    metric: z.string(),
    definition: z.string(),
    range: ResolvedRange,
    min_volume: z.number().int(),
    considered: z.number().int(),
    left_out: z.number().int(),
    campaigns: z.array(
      z.object({
        rank: z.number().int(),
        id: z.string(),
        name: z.string(),
        channel: z.string(),
        date: z.string(),
        value: z.number(),
        successes: z.number().int().nullable(),
        trials: z.number().int(),
        interval: z.object({ low: z.number(), high: z.number() }).nullable(),
        revenue: z.object({ amount: z.number(), currency: z.string() }),
      }),
    ),
  }),
  handler: async (input, ctx) => {
    const range = resolveRange(input.range, ctx.now(), "90d");
    const date = Prisma.sql`coalesce(c.sent_at, c.scheduled_at, c.created_at)`;
    const rows = await ctx.db.$queryRaw<CampaignRow[]>`
      select ${CAMPAIGN_COLUMNS} from campaigns c
       where c.organization_id = ${ctx.org.id}::uuid and ${date} >= ${range.from} and ${date} < ${range.to}
         ${input.channel ? Prisma.sql`and c.channel = ${input.channel}::"Channel"` : Prisma.empty}`;
    const isRate = (RATE_KEYS as readonly string[]).includes(input.metric);
    const rate = isRate ? (input.metric as RateKey) : null;
    const applicable = rows.filter((c) => !rate || rateApplies(rate, c.channel));
    const tallies = await campaignTallies(ctx.db, ctx.org, applicable.map((c) => c.id), { variants: false, attributionDays: input.attribution_days });
    const rc = ctx.org.reportingCurrency;
    const scored = applicable.map((c) => {
      const t = tallies.get(tallyKey(c.id)) ?? emptyTally();
      if (rate) {
        const b = binomialOf(t, rate, c.channel)!;
        // A campaign whose events are inconsistent (more successes than trials) has no value to rank.
        const value = b.trials && !inconsistency(b, rate) ? b.successes / b.trials : b.trials ? null : 0;
        return { c, t, successes: b.successes as number | null, trials: b.trials, value };
      }
      const value = input.metric === "revenue" ? t.revenue.total : t.cost.total > 0 ? (t.revenue.total - t.cost.total) / t.cost.total : null;
      return { c, t, successes: null, trials: t.counts.delivered, value };
    });
    const ranked = scored.filter((s) => s.trials >= input.min_volume && s.value !== null) as Array<(typeof scored)[number] & { value: number }>;
    const lowerBetter = rate ? RATES[rate].lowerIsBetter : false;
    ranked.sort((a, b) => (lowerBetter ? a.value - b.value : b.value - a.value) || b.trials - a.trials || a.c.id.localeCompare(b.c.id));
    return {
      metric: input.metric,
      definition: rate ? metricWords(rate) : input.metric === "revenue" ? "revenue = attributed conversions' value, reporting currency" : "roi = (revenue − cost) / cost",
      range: range.json,
      min_volume: input.min_volume,
      considered: applicable.length,
      left_out: scored.length - ranked.length,
      campaigns: ranked.slice(0, input.limit).map((s, i) => {
        const w = rate && s.successes !== null ? wilsonInterval({ successes: s.successes, trials: s.trials }) : null;
        return {
          rank: i + 1,
          id: s.c.id,
          name: s.c.name,
          channel: s.c.channel,
          date: s.c.date.toISOString(),
          value: input.metric === "revenue" ? money(s.value, rc).amount : roundRate(s.value),
          successes: s.successes,
          trials: s.trials,
          interval: w && { low: roundRate(w.low), high: roundRate(w.high) },
          revenue: money(s.t.revenue.total, rc),
        };
      }),
    };
  },
  render: (o) => {
    const value = (v: number) => (o.metric === "revenue" ? String(v) : pct(v));
    return lines(
      `Top campaigns by ${o.definition}, dated ${at(o.range.from)} → ${at(o.range.to)}${o.range.preset ? ` (${o.range.preset})` : ""} ` +
        `(previous period from ${at(o.range.previous_from)}); ` +
        `${o.considered} considered, ${o.left_out} left out under ${o.min_volume} trials or without a value.`,
      o.campaigns.length ? "" : "No campaign reaches the minimum volume.",
      o.campaigns.map(
        (c) =>
          `${c.rank}. ${c.name} (id ${c.id}, ${c.channel}, ${at(c.date)}): ${value(c.value)}` +
          `${c.successes !== null ? ` = ${c.successes}/${c.trials}` : ` over ${c.trials} delivered`}` +
          `${c.interval ? ` [${pct(c.interval.low)}, ${pct(c.interval.high)}]` : ""}, revenue ${fmt(c.revenue)}`,
      ),
    );
  },
});
