// Shapes shared by several customer-data tools (input references and output pieces).
import { z } from "zod";
import { CursorInput } from "@marketsage/core";
import { ChannelEnum, ContactStatusEnum, TimeRangeInput } from "@marketsage/domain";
import { DEFAULT_MAX_AGE_SECONDS } from "./segments/membership.ts";

export const CustomerSummary = z.object({
  id: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable().describe("E.164"),
  company: z.string().nullable(),
  country: z.string(),
  city: z.string().nullable(),
  status: ContactStatusEnum,
  tags: z.array(z.string()),
  created_at: z.string(),
});
export type CustomerSummary = z.infer<typeof CustomerSummary>;

export const ConsentState = z.object({
  channel: ChannelEnum,
  state: z.enum(["subscribed", "unsubscribed", "unknown"]).describe("unknown: never asked on this channel."),
  changed_at: z.string().nullable(),
  source: z.string().nullable(),
  reason: z.string().nullable(),
  reachable: z.boolean().describe("May be messaged now."),
});

export const PredictionOut = z.object({
  model_version: z.string(),
  churn_risk: z.number().min(0).max(1),
  risk_bucket: z.enum(["low", "medium", "high"]).describe("low < 0.3 ≤ medium < 0.6 ≤ high"),
  lifetime_value: z.number().describe("Next 12 months."),
  currency: z.string(),
  engagement_score: z.number().min(0).max(100),
  preferred_channel: ChannelEnum.nullable(),
  next_best_action: z.string(),
  next_best_action_text: z.string(),
  inputs: z.record(z.string(), z.unknown()),
  computed_at: z.string(),
  stored: z.boolean().describe("false: computed now, not stored."),
});
export type PredictionOut = z.infer<typeof PredictionOut>;

/** Rule segments: how old their stored member list may be before the rules are evaluated again. */
export const MaxAgeInput = z
  .number()
  .int()
  .min(0)
  .max(86_400)
  .default(DEFAULT_MAX_AGE_SECONDS)
  .describe("Re-evaluate rule members if older (0: always).");

// Paging and ranges as tools/list shows them: each thing said once (the bounds and defaults are in
// the schema; what the range's parts mean is in the range's own description).
export const Cursor = CursorInput.describe("From next_cursor.");
export const limitInput = (def: number, max: number) => z.number().int().min(1).max(max).default(def);
const { preset, from, to } = TimeRangeInput.shape;
/** TimeRangeInput (the same values valid) with one description: `fallback` is the default preset. */
export const rangeInput = (fallback: string) =>
  z
    .object({ preset: preset.unwrap().optional(), from: from.unwrap().optional(), to: to.unwrap().optional() })
    .optional()
    .describe(`Preset or from/to (to exclusive); default ${fallback}.`);
