import { defineTool, UserError } from "@marketsage/core";
import { roundRate } from "@marketsage/domain";
import { z } from "zod";
import { RATES } from "../metrics/definitions.ts";
import { binomialOf, inconsistency, metricWords, requireApplies, roundP } from "../metrics/select.ts";
import { campaignTallies, emptyTally, tallyKey } from "../queries/campaign-counts.ts";
import { loadCampaigns, loadVariants } from "../queries/campaigns.ts";
import { AttributionDays, rateMetric } from "./inputs.ts";
import { holmAdjust, probabilityToBeBest, sampleSizePerVariant, twoProportionTest, wilsonInterval } from "../stats/index.ts";
import { lines, pct } from "../render.ts";

const ALPHA = 0.05;
const POWER = 0.8;
const Interval = z.object({ low: z.number(), high: z.number() }).nullable();

export const getAbTestResults = defineTool({
  name: "get_ab_test_results",
  title: "A/B test results",
  description:
    "A campaign's A/B test on one rate: per variant successes, trials, rate (Wilson 95% interval), probability to be best (Beta " +
    "posteriors), z-test vs the control (Holm). A winner only when significant at α 0.05 with each variant's sample enough to detect " +
    "min_effect at 80% power; else more_needed_per_variant.",
  scopes: ["campaigns:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().describe("From list_campaigns."),
    metric: rateMetric("click_rate"),
    min_effect: z.number().gt(0).max(10).default(0.1).describe("Smallest relative change to detect (0.1 = 10%)."),
    attribution_days: AttributionDays,
  }),
  output: z.object({
    campaign_id: z.string(),
    campaign_name: z.string(),
    metric: z.string(),
    definition: z.string(),
    variants: z.array(
      z.object({
        id: z.string().nullable(),
        name: z.string(),
        is_control: z.boolean(),
        successes: z.number().int(),
        trials: z.number().int(),
        rate: z.number().nullable(),
        interval: Interval,
        probability_to_be_best: z.number(),
        difference: z.number().nullable(),
        difference_interval: Interval,
        relative_lift: z.number().nullable(),
        p_value: z.number().nullable(),
        p_adjusted: z.number().nullable(),
      }),
    ),
    required_per_variant: z.number().int().nullable(),
    more_needed_per_variant: z.number().int().nullable(),
    significant: z.boolean(),
    winner: z.object({ id: z.string().nullable(), name: z.string() }).nullable(),
    verdict: z.string(),
    method: z.string(),
  }),
  handler: async (input, ctx) => {
    const [campaign] = await loadCampaigns(ctx.db, ctx.org, [input.id]);
    const c = campaign!;
    requireApplies(input.metric, c.channel, `campaign "${c.name}" is ${c.channel}`);
    const variants = (await loadVariants(ctx.db, ctx.org, [c.id])).get(c.id)!;
    const tallies = await campaignTallies(ctx.db, ctx.org, [c.id], { variants: variants.length > 0, attributionDays: input.attribution_days });
    const arms = variants.length
      ? variants.map((v) => ({ id: v.id as string | null, name: v.name, control: v.is_control, b: binomialOf(tallies.get(tallyKey(c.id, v.id)) ?? emptyTally(), input.metric, c.channel)! }))
      : [{ id: null, name: "(whole campaign)", control: true, b: binomialOf(tallies.get(tallyKey(c.id)) ?? emptyTally(), input.metric, c.channel)! }];
    for (const a of arms) {
      const why = inconsistency(a.b, input.metric);
      if (why) throw new UserError(`Variant ${a.name} cannot be tested on ${input.metric}: ${why}. Try another rate (e.g. click_rate).`);
    }
    // The control: the variant marked so, else the first by name.
    const control = arms.find((a) => a.control) ?? arms[0]!;
    for (const a of arms) a.control = a === control;
    // "Best" is the lowest rate for unsubscribes, bounces and failures: their failures' rate is then
    // the highest (exact under the symmetric Beta(1, 1) prior).
    const lowerBetter = RATES[input.metric].lowerIsBetter;
    const p2b = probabilityToBeBest(arms.map((a) => (lowerBetter ? { successes: a.b.trials - a.b.successes, trials: a.b.trials } : a.b)));
    const rivals = arms.filter((a) => a !== control);
    const tests = rivals.map((a) => twoProportionTest(control.b, a.b, { minTrials: 1 }));
    const adjusted = holmAdjust(tests.map((t) => (t.sufficient ? t.p_value : null)));
    const baseRate = control.b.trials ? control.b.successes / control.b.trials : null;
    const target = baseRate === null ? null : lowerBetter ? baseRate * (1 - input.min_effect) : baseRate * (1 + input.min_effect);
    const required = baseRate !== null && target !== null && target > 0 && target < 1 ? sampleSizePerVariant(baseRate, target, { alpha: ALPHA, power: POWER }) : null;
    const fewest = Math.min(...arms.map((a) => a.b.trials));
    const more = required === null ? null : Math.max(0, required - fewest);
    const better = (d: number | null) => d !== null && (lowerBetter ? d < 0 : d > 0);
    const significantIdx = rivals.map((_, i) => adjusted[i] !== null && adjusted[i]! < ALPHA);
    const significant = significantIdx.some(Boolean);
    let winner: { id: string | null; name: string } | null = null;
    let verdict: string;
    if (!rivals.length) verdict = "Not an A/B test: the campaign has one variant.";
    else if (required === null) verdict = `Cannot plan the sample: the control's ${input.metric} is ${baseRate === null ? "unknown (no trials)" : pct(baseRate)}.`;
    else if (more! > 0) verdict = `No winner yet: each variant needs ${required} trials to detect a ${pct(input.min_effect)} relative change; ${more} more on the smallest.`;
    else if (!significant) verdict = "No winner: the planned sample is reached and no variant differs significantly from the control.";
    else {
      // The best variant among the significant challengers that beat the control, else the control if all are significantly worse.
      const winners = rivals.filter((a, i) => significantIdx[i] && better(tests[i]!.difference));
      const pick = winners.length ? winners.reduce((x, y) => (p2b[arms.indexOf(y)]! > p2b[arms.indexOf(x)]! ? y : x)) : rivals.every((_, i) => significantIdx[i]) ? control : null;
      winner = pick && { id: pick.id, name: pick.name };
      verdict = winner ? `Winner: ${winner.name}.` : "No single winner: the significant differences do not favour one variant over all others.";
    }
    return {
      campaign_id: c.id,
      campaign_name: c.name,
      metric: input.metric,
      definition: metricWords(input.metric),
      variants: arms.map((a, k) => {
        const i = rivals.indexOf(a);
        const t = i >= 0 ? tests[i]! : null;
        const w = wilsonInterval(a.b);
        return {
          id: a.id,
          name: a.name,
          is_control: a.control,
          successes: a.b.successes,
          trials: a.b.trials,
          rate: roundRate(a.b.trials ? a.b.successes / a.b.trials : null),
          interval: w && { low: roundRate(w.low), high: roundRate(w.high) },
          probability_to_be_best: roundRate(p2b[k]!),
          difference: roundRate(t?.difference ?? null),
          difference_interval: t?.interval ? { low: roundRate(t.interval.low), high: roundRate(t.interval.high) } : null,
          relative_lift: roundRate(t?.relative_lift ?? null),
          p_value: roundP(t?.p_value),
          p_adjusted: i >= 0 ? roundP(adjusted[i]) : null,
        };
      }),
      required_per_variant: required,
      more_needed_per_variant: more,
      significant,
      winner,
      verdict,
      method:
        `Two-sided pooled z-test against the control at α ${ALPHA} (Holm over the ${adjusted.filter((p) => p !== null).length} comparison(s) with enough data); Wilson and Newcombe 95% intervals; ` +
        `probability to be best from Beta(1 + successes, 1 + failures) posteriors by numerical integration; sample size as R's power.prop.test at power ${POWER}.`,
    };
  },
  render: (o) =>
    lines(
      `A/B test of ${o.campaign_name} (id ${o.campaign_id}) on ${o.definition}:`,
      o.variants.map(
        (v) =>
          `- ${v.name}${v.id ? ` (id ${v.id})` : ""}${v.is_control ? " [control]" : ""}: ${v.successes}/${v.trials} = ${pct(v.rate)}` +
          `${v.interval ? ` [${pct(v.interval.low)}, ${pct(v.interval.high)}]` : ""}, P(best) ${pct(v.probability_to_be_best)}` +
          (v.difference !== null ? `; vs control ${pct(v.difference)}${v.difference_interval ? ` [${pct(v.difference_interval.low)}, ${pct(v.difference_interval.high)}]` : ""}` : "") +
          (v.relative_lift !== null ? `, lift ${pct(v.relative_lift)}` : "") +
          (v.p_value !== null ? `, p ${v.p_value}${v.p_adjusted !== null ? ` (Holm ${v.p_adjusted})` : ""}` : ""),
      ),
      `Sample: ${o.required_per_variant === null ? "cannot be planned" : `${o.required_per_variant} per variant needed, ${o.more_needed_per_variant} more`}; ` +
        `${o.significant ? "a significant difference" : "no significant difference"}.`,
      o.verdict,
      o.method,
    ),
});
