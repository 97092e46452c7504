// Prediction model rfm-decay-v1: recency, decayed frequency and monetary value from the
// customer's own history. The formulas are documented in packages/customer-data/README.md;
// change them only with a new MODEL_VERSION so stored predictions stay explainable.
//
// The model runs in PostgreSQL, beside the features it reads: a refresh of a million contacts is
// then one set-wise statement, with no row crossing to Node. The test suite checks every stored
// prediction against an independent TypeScript implementation (test/reference-model.ts).
import { Prisma } from "@marketsage/db";
import type { ChannelName } from "@marketsage/domain";

export const MODEL_VERSION = "rfm-decay-v1";
export const HALF_LIFE_DAYS = 30;

export interface ChannelHistory {
  /** Messages delivered on the channel in the last 365 days. */
  delivered: number;
  /** Opens, clicks and replies on the channel in the last 365 days. */
  engaged: number;
  /** Whether the channel can legally reach the customer now (address, ACTIVE, subscribed). */
  reachable: boolean;
}

/** The model's inputs, stored with every prediction as `inputs` (this JSON shape). */
export interface Features {
  /** Days since the last engagement (open, click, reply, visit, conversion); since sign-up when none. */
  recency_days: number;
  /** Σ exp(−ln2 · age/30 d) over engagements in the last 365 days; conversions count 3. */
  decayed_frequency: number;
  conversions_365d: number;
  /** Conversion value in the last 365 days, in the organization's reporting currency. */
  value_365d: number;
  tenure_days: number;
  channels: Record<ChannelName, ChannelHistory>;
}

export interface PredictionResult {
  churn_risk: number;
  lifetime_value: number;
  engagement_score: number;
  preferred_channel: ChannelName | null;
  next_best_action: string;
}

export const ACTION_TEXT: Record<string, string> = {
  request_consent: "No channel can legally reach this customer: ask for consent first.",
  win_back_offer: "High churn risk with past spend: send a personal win-back offer.",
  reactivation_message: "High churn risk: send a reactivation message.",
  conversion_offer: "Engaged but has not bought: send a first-purchase offer.",
  loyalty_reward: "Active buyer at low risk: reward loyalty or upsell.",
  nurture_content: "Keep engaged with useful content.",
};

/** The inputs as stored beside each prediction (typed columns of `predictions`), in this order. */
export const INPUT_COLUMNS = [
  "recency_days", "decayed_frequency", "conversions_365d", "value_365d", "tenure_days",
  "email_delivered", "email_engaged", "email_reachable",
  "sms_delivered", "sms_engaged", "sms_reachable",
  "whatsapp_delivered", "whatsapp_engaged", "whatsapp_reachable",
] as const;
export type InputRow = { [K in (typeof INPUT_COLUMNS)[number]]: K extends `${string}_reachable` ? boolean : number | string };

/** The Features object (the shape the tools show as `inputs`) from the stored columns. */
export function featuresOf(r: InputRow): Features {
  const n = (v: number | string | boolean) => Number(v);
  const ch = (p: "email" | "sms" | "whatsapp"): ChannelHistory => ({
    delivered: n(r[`${p}_delivered`]),
    engaged: n(r[`${p}_engaged`]),
    reachable: r[`${p}_reachable`],
  });
  return {
    recency_days: n(r.recency_days),
    decayed_frequency: n(r.decayed_frequency),
    conversions_365d: n(r.conversions_365d),
    value_365d: n(r.value_365d),
    tenure_days: n(r.tenure_days),
    channels: { EMAIL: ch("email"), SMS: ch("sms"), WHATSAPP: ch("whatsapp") },
  };
}

/**
 * The model over a relation of inputs with an `id` column and the INPUT_COLUMNS (numbers as
 * float8 or int, reachability as bool). Yields contact_id, churn_risk, lifetime_value,
 * engagement_score, preferred_channel, next_best_action and the INPUT_COLUMNS passed through.
 * Thresholds use the unrounded figures; the stored figures are rounded (4, 2 and 1 decimals).
 */
export function modelQuery(inputs: Prisma.Sql): Prisma.Sql {
  // Laplace-smoothed engagement rate per reachable channel; −1 when the channel cannot reach.
  const rate = (p: string) => Prisma.raw(`case when f.${p}_reachable then (f.${p}_engaged + 1)::float8 / (f.${p}_delivered + 2) else -1 end`);
  return Prisma.sql`
    select f.id as contact_id,
           round(f.churn::numeric, 4)::float8 as churn_risk,
           round((f.value_365d * (365.0 / least(365, greatest(30, f.tenure_days))) * (1 - f.churn))::numeric, 2) as lifetime_value,
           round(f.engagement::numeric, 1)::float8 as engagement_score,
           -- The best rate wins; ties go to WhatsApp, then SMS, then email (the channels that reach
           -- African mobile audiences best); none when no channel can reach the customer.
           case when f.email_reachable and f.re > (case when f.sms_beats_whatsapp then f.rs else f.rw end) + 1e-12 then 'EMAIL'
                when f.sms_beats_whatsapp then 'SMS'
                when f.whatsapp_reachable then 'WHATSAPP' end::"Channel" as preferred_channel,
           case when not (f.email_reachable or f.sms_reachable or f.whatsapp_reachable) then 'request_consent'
                when f.churn >= 0.6 and f.value_365d > 0 then 'win_back_offer'
                when f.churn >= 0.6 then 'reactivation_message'
                when f.conversions_365d = 0 and f.engagement >= 40 then 'conversion_offer'
                when f.conversions_365d > 0 and f.churn < 0.3 then 'loyalty_reward'
                else 'nurture_content' end as next_best_action,
           ${Prisma.raw(INPUT_COLUMNS.map((c) => `f.${c}`).join(", "))}
      from (select f.*, f.sms_reachable and f.rs > f.rw + 1e-12 as sms_beats_whatsapp
              from (select f.*,
                           1 / (1 + exp(-(-1.0 + 1.2 * ln(1 + f.recency_days / 30) - 0.9 * ln(1 + f.decayed_frequency) - 0.6 * ln(1 + f.conversions_365d)))) as churn,
                           -- exp underflows to an error in PostgreSQL, not to 0: past 700 the term is 0 anyway.
                           100 * (1 - exp(-least(f.decayed_frequency / 4, 700))) as engagement,
                           ${rate("whatsapp")} as rw, ${rate("sms")} as rs, ${rate("email")} as re
                      from (${inputs}) f
                      -- OFFSET 0 computes each step once per contact: without it PostgreSQL inlines
                      -- the churn expression into every place that names it.
                    offset 0) f) f`;
}
