import { defineTool, UserError } from "@marketsage/core";
import { roundRate } from "@marketsage/domain";
import { z } from "zod";
import { RATES } from "../metrics/definitions.ts";
import { binomialOf, inconsistency, metricWords, roundP } from "../metrics/select.ts";
import { campaignTallies, emptyTally, tallyKey } from "../queries/campaign-counts.ts";
import { loadCampaigns } from "../queries/campaigns.ts";
import { AttributionDays, rateMetric } from "./inputs.ts";
import { holmAdjust, twoProportionTest, wilsonInterval } from "../stats/index.ts";
import { lines, pct } from "../render.ts";

const Interval = z.object({ low: z.number(), high: z.number() }).nullable();
const ALPHA = 0.05;

export const compareCampaigns = defineTool({
  name: "compare_campaigns",
  title: "Compare campaigns",
  description:
    "2–5 campaigns on one rate (Wilson 95% intervals), each against the first or the best: two-sided two-proportion " +
    "z-test, difference (Newcombe 95% interval), relative lift, Holm-adjusted p. 'not enough data' under min_volume trials or 5 expected successes/failures.",
  scopes: ["campaigns:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    ids: z.array(z.uuid()).min(2).max(5),
    metric: rateMetric("click_rate"),
    against: z.enum(["first", "best"]).default("first"),
    min_volume: z.number().int().min(1).default(100),
    attribution_days: AttributionDays,
  }),
  output: z.object({
    metric: z.string(),
    definition: z.string(),
    baseline_id: z.string(),
    campaigns: z.array(
      z.object({ id: z.string(), name: z.string(), channel: z.string(), successes: z.number().int().nullable(), trials: z.number().int().nullable(), rate: z.number().nullable(), interval: Interval }),
    ),
    comparisons: z.array(
      z.object({
        id: z.string(),
        verdict: z.enum(["better", "worse", "no significant difference", "not enough data", "not applicable"]),
        difference: z.number().nullable().describe("rate − baseline rate"),
        interval: Interval,
        relative_lift: z.number().nullable(),
        p_value: z.number().nullable(),
        p_adjusted: z.number().nullable().describe("Holm-adjusted"),
        reason: z.string().nullable(),
      }),
    ),
    method: z.string(),
  }),
  handler: async (input, ctx) => {
    if (new Set(input.ids).size !== input.ids.length) throw new UserError("Each campaign may appear once in ids.");
    const campaigns = await loadCampaigns(ctx.db, ctx.org, input.ids);
    const tallies = await campaignTallies(ctx.db, ctx.org, input.ids, { variants: false, attributionDays: input.attribution_days });
    const def = RATES[input.metric];
    const arms = campaigns.map((c) => {
      const b = binomialOf(tallies.get(tallyKey(c.id)) ?? emptyTally(), input.metric, c.channel);
      const broken = b && inconsistency(b, input.metric);
      return { c, b, broken, rate: b && b.trials && !broken ? b.successes / b.trials : null };
    });
    let base = arms[0]!;
    if (input.against === "best") {
      const eligible = arms.filter((a) => a.rate !== null && a.b!.trials >= input.min_volume);
      if (!eligible.length) throw new UserError(`No campaign has ${input.min_volume} or more trials for ${input.metric}: there is no best to compare against. Lower min_volume or use against "first".`);
      base = eligible.reduce((x, y) => ((def.lowerIsBetter ? y.rate! < x.rate! : y.rate! > x.rate!) ? y : x));
    }
    if (!base.b) throw new UserError(`${input.metric} does not exist on ${base.c.channel}, the baseline campaign's channel; pick a rate that does (e.g. click_rate).`);
    if (base.broken) throw new UserError(`The baseline campaign cannot be tested on ${input.metric}: ${base.broken}.`);
    const others = arms.filter((a) => a !== base);
    const tests = others.map((a) => (a.b && !a.broken ? twoProportionTest(base.b!, a.b, { minTrials: input.min_volume }) : null));
    const adjusted = holmAdjust(tests.map((t) => (t?.sufficient ? t.p_value : null)));
    return {
      metric: input.metric,
      definition: metricWords(input.metric),
      baseline_id: base.c.id,
      campaigns: arms.map((a) => {
        const w = a.b && !a.broken ? wilsonInterval(a.b) : null;
        return {
          id: a.c.id,
          name: a.c.name,
          channel: a.c.channel,
          successes: a.b?.successes ?? null,
          trials: a.b?.trials ?? null,
          rate: roundRate(a.rate),
          interval: w && { low: roundRate(w.low), high: roundRate(w.high) },
        };
      }),
      comparisons: others.map((a, i) => {
        const t = tests[i];
        if (!t) {
          const reason = a.broken ?? `${input.metric} does not exist on ${a.c.channel}`;
          return { id: a.c.id, verdict: a.broken ? ("not enough data" as const) : ("not applicable" as const), difference: null, interval: null, relative_lift: null, p_value: null, p_adjusted: null, reason };
        }
        const p = adjusted[i] ?? null;
        const better = (t.difference ?? 0) > 0 !== def.lowerIsBetter;
        const verdict = !t.sufficient ? ("not enough data" as const) : p !== null && p < ALPHA ? (better ? ("better" as const) : ("worse" as const)) : ("no significant difference" as const);
        return {
          id: a.c.id,
          verdict,
          difference: roundRate(t.difference),
          interval: t.interval && { low: roundRate(t.interval.low), high: roundRate(t.interval.high) },
          relative_lift: roundRate(t.relative_lift),
          p_value: roundP(t.p_value),
          p_adjusted: roundP(p),
          reason: t.reason,
        };
      }),
      method: `Two-sided pooled two-proportion z-test at α ${ALPHA}, Holm-adjusted over the ${adjusted.filter((p) => p !== null).length} comparison(s) with enough data; Wilson and Newcombe 95% intervals.`,
    };
  },
  render: (o) => {
    const name = new Map(o.campaigns.map((c) => [c.id, c.name]));
    return lines(
      `Metric: ${o.definition}. Baseline: ${name.get(o.baseline_id)} (id ${o.baseline_id}).`,
      o.campaigns.map(
        (c) =>
          `- ${c.name} (id ${c.id}, ${c.channel}): ${c.trials === null ? "not applicable" : c.rate === null ? `${c.successes}/${c.trials} (no trials)` : `${c.successes}/${c.trials} = ${pct(c.rate)}`}` +
          `${c.interval ? ` [${pct(c.interval.low)}, ${pct(c.interval.high)}]` : ""}`,
      ),
      "Against the baseline:",
      o.comparisons.map(
        (x) =>
          `- ${name.get(x.id)} (id ${x.id}): ${x.verdict}` +
          (x.difference !== null ? `; difference ${pct(x.difference)}${x.interval ? ` [${pct(x.interval.low)}, ${pct(x.interval.high)}]` : ""}` : "") +
          (x.relative_lift !== null ? `, lift ${pct(x.relative_lift)}` : "") +
          (x.p_value !== null ? `, p ${x.p_value} (Holm ${x.p_adjusted})` : "") +
          (x.reason ? ` — ${x.reason}` : ""),
      ),
      o.method,
    );
  },
});
