// Time ranges: presets (1h, 24h, 7d, 30d, 90d, 1y) or explicit ISO from/to. Every result
// states the range it used, with the previous period of equal length for comparisons.
import { z } from "zod";
import { UserError } from "@marketsage/core";

export const PRESETS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000, "90d": 90 * 86_400_000, "1y": 365 * 86_400_000 } as const;
export type Preset = keyof typeof PRESETS;

export const TimeRangeInput = z
  .object({
    preset: z.enum(["1h", "24h", "7d", "30d", "90d", "1y"]).optional().describe("A window ending now."),
    from: z.iso.datetime({ offset: true }).optional().describe("Inclusive."),
    to: z.iso.datetime({ offset: true }).optional().describe("Exclusive; default now."),
  })
  .describe("Either a preset or from/to; default 30d.");

export type TimeRangeArg = z.infer<typeof TimeRangeInput>;

export const ResolvedRange = z.object({
  from: z.string().describe("ISO 8601, inclusive"),
  to: z.string().describe("ISO 8601, exclusive"),
  preset: z.string().nullable(),
  previous_from: z.string().describe("Start of the previous period of equal length"),
});
export type ResolvedRange = z.infer<typeof ResolvedRange>;

/** A resolved range for answers that compare with no previous period. */
export const PeriodOut = ResolvedRange.omit({ previous_from: true });
export const periodOut = (r: { json: ResolvedRange }): z.infer<typeof PeriodOut> => ({ from: r.json.from, to: r.json.to, preset: r.json.preset });

export interface Range {
  from: Date;
  to: Date;
  previousFrom: Date;
  preset: Preset | null;
  json: ResolvedRange;
}

export function resolveRange(arg: TimeRangeArg | undefined, now: Date, fallback: Preset = "30d"): Range {
  if (arg?.preset && (arg.from || arg.to)) throw new UserError("Give either a preset or from/to, not both.");
  let from: Date;
  let to: Date;
  let preset: Preset | null = null;
  if (arg?.from || arg?.to) {
    to = arg.to ? new Date(arg.to) : now;
    from = arg.from ? new Date(arg.from) : new Date(to.getTime() - PRESETS[fallback]);
    if (!(from < to)) throw new UserError(`The range is empty: from (${from.toISOString()}) must be before to (${to.toISOString()}).`);
  } else {
    preset = arg?.preset ?? fallback;
    to = now;
    from = new Date(now.getTime() - PRESETS[preset]);
  }
  const previousFrom = new Date(from.getTime() - (to.getTime() - from.getTime()));
  return {
    from,
    to,
    previousFrom,
    preset,
    json: { from: from.toISOString(), to: to.toISOString(), preset, previous_from: previousFrom.toISOString() },
  };
}
