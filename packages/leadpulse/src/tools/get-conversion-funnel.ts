import { ratio, resolveRange, PeriodOut, periodOut, roundTo } from "@marketsage/domain";
import { RANGE, rangeInput } from "./inputs.ts";
import { z } from "zod";
import { FUNNEL_SYNTAX, FunnelSteps, stepLabel } from "../funnel/steps.ts";
import { funnelTally, type StepTally } from "../queries/funnel.ts";
import { at, defineTool, lines, pct } from "@marketsage/core";

const DAY_MS = 86_400_000;
const Int = z.number().int();
const Secs = z.number().nullable();

const Step = z.object({
  index: Int,
  name: z.string(),
  entered: Int,
  converted: Int.nullable().describe("Reached the next step; null on the last"),
  step_conversion: z.number().nullable().describe("converted / entered"),
  overall_conversion: z.number().nullable().describe("entered / step 1's entered"),
  drop_off: Int.nullable(),
  median_seconds_to_next: Secs,
  p90_seconds_to_next: Secs.describe("Nearest rank"),
});
type Step = z.infer<typeof Step>;

const BASIS =
  "a unit enters at its first step-1 touchpoint inside the range; later steps may fall after the range's end, within the window. Bots excluded.";

function stepsOf(names: string[], t: StepTally): Step[] {
  const e = t.entered;
  return names.map((name, k) => {
    const last = k === names.length - 1;
    const next = last ? null : e[k + 1]!;
    return {
      index: k + 1,
      name,
      entered: e[k]!,
      converted: next,
      step_conversion: next === null ? null : ratio(next, e[k]!),
      overall_conversion: ratio(e[k]!, e[0]!),
      drop_off: next === null ? null : e[k]! - next,
      median_seconds_to_next: last ? null : roundTo(t.median[k] ?? null, 4),
      p90_seconds_to_next: last ? null : roundTo(t.p90[k] ?? null, 4),
    };
  });
}

export const getConversionFunnel = defineTool({
  name: "get_conversion_funnel",
  title: "Conversion funnel",
  description:
    `Website funnel, per step: entered, converted, conversion, drop-off, median/p90 s to next. ${FUNNEL_SYNTAX}`,
  scopes: ["leadpulse:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    steps: FunnelSteps,
    range: rangeInput(`Step 1 in it. ${RANGE}; default 30d.`),
    window_days: z.number().int().min(1).max(90).default(7).describe("Days after step 1."),
    unit: z.enum(["visitor", "session"]).default("visitor"),
    breakdown: z.enum(["device", "country", "source", "new_vs_returning"]).optional(),
    max_groups: z.number().int().min(1).max(20).default(8),
  }),
  output: z.object({
    range: PeriodOut,
    window_days: Int,
    unit: z.string(),
    basis: z.string(),
    steps: z.array(Step),
    totals: z.object({ entered: Int, completed: Int, conversion: z.number().nullable() }),
    breakdown: z.string().nullable(),
    groups: z
      .array(z.object({ value: z.string().nullable().describe("null: unknown, or the merged rest"), other: z.boolean(), values: Int, steps: z.array(Step) }))
      .nullable(),
    groups_total: Int.nullable(),
  }),
  handler: async (input, ctx) => {
    const range = resolveRange(input.range, ctx.now(), "30d");
    const names = input.steps.map(stepLabel);
    const t = await funnelTally(ctx.db, ctx.org, {
      from: range.from,
      to: range.to,
      windowMs: input.window_days * DAY_MS,
      unit: input.unit,
      steps: input.steps,
      breakdown: input.breakdown,
      maxGroups: input.max_groups,
    });
    const e = t.total.entered;
    return {
      range: periodOut(range),
      window_days: input.window_days,
      unit: input.unit,
      basis: BASIS,
      steps: stepsOf(names, t.total),
      totals: { entered: e[0]!, completed: e[e.length - 1]!, conversion: ratio(e[e.length - 1]!, e[0]!) },
      breakdown: input.breakdown ?? null,
      groups: input.breakdown ? t.groups.map((g) => ({ value: g.value, other: g.other, values: g.values, steps: stepsOf(names, g) })) : null,
      groups_total: input.breakdown ? t.groupsTotal : null,
    };
  },
  render: (o) => {
    const secs = (s: number | null) => (s === null ? "n/a" : `${s}s`);
    const figures = (s: Step) =>
      `${s.entered} entered (${pct(s.overall_conversion)} of step 1)` +
      (s.converted === null ? "" : `, ${s.converted} on (${pct(s.step_conversion)}), ${s.drop_off} dropped, median ${secs(s.median_seconds_to_next)}, p90 ${secs(s.p90_seconds_to_next)} to next`);
    const r = o.range;
    return lines(
      `Funnel per ${o.unit}, step 1 in ${at(r.from)} → ${at(r.to)}${r.preset ? ` (${r.preset})` : ""}, window ${o.window_days} days; ${o.basis}`,
      o.steps.map((s) => `${s.index}. ${s.name}: ${figures(s)}`),
      `Total: ${o.totals.entered} entered, ${o.totals.completed} completed (${pct(o.totals.conversion)}).`,
      o.groups ? `By ${o.breakdown} (${o.groups_total} values; steps by number):` : "",
      (o.groups ?? []).map((g) => `- ${g.other ? `other (${g.values} values)` : (g.value ?? "unknown")}: ${g.steps.map((s) => `[${s.index}] ${figures(s)}`).join("; ")}`),
    );
  },
});
