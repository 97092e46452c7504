// Prediction model rfm-decay-v1: recency, decayed frequency and monetary value from the
// customer's own history. The formulas are documented in packages/customer-data/README.md;
// change them only with a new MODEL_VERSION so stored predictions stay explainable.
//
// The model runs in PostgreSQL, beside the features it reads: a refresh of a million contacts is
// then one set-wise statement, with no row crossing to Node. The test suite checks every stored
// prediction against an independent TypeScript implementation (test/reference-model.ts).
import { Prisma } from "@marketsage/db";
import type { ChannelName } from "../schemas.ts";

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

/**
 * The model over a relation `f` of features with the columns recency_days, decayed_frequency,
 * conversions_365d, value_365d, tenure_days (float8) and e_/s_/w_ del, eng (int), ok (bool) per
 * channel. Yields: contact_id, churn_risk, lifetime_value, engagement_score, preferred_channel,
 * next_best_action, inputs (the Features JSON). Thresholds use the unrounded figures; the stored
 * figures are rounded (4, 2 and 1 decimals).
 */
export function modelQuery(features: Prisma.Sql): Prisma.Sql {
  // Laplace-smoothed engagement rate per reachable channel; −1 when the channel cannot reach.
  const rate = (p: string) => Prisma.raw(`case when f.${p}_ok then (f.${p}_eng + 1)::float8 / (f.${p}_del + 2) else -1 end`);
  return Prisma.sql`
    select f.id as contact_id,
           round(k.churn::numeric, 4)::float8 as churn_risk,
           round((f.value_365d * (365.0 / least(365, greatest(30, f.tenure_days))) * (1 - k.churn))::numeric, 2) as lifetime_value,
           round(k.engagement::numeric, 1)::float8 as engagement_score,
           ch.preferred as preferred_channel,
           case when ch.preferred is null then 'request_consent'
                when k.churn >= 0.6 and f.value_365d > 0 then 'win_back_offer'
                when k.churn >= 0.6 then 'reactivation_message'
                when f.conversions_365d = 0 and k.engagement >= 40 then 'conversion_offer'
                when f.conversions_365d > 0 and k.churn < 0.3 then 'loyalty_reward'
                else 'nurture_content' end as next_best_action,
           jsonb_build_object(
             'recency_days', f.recency_days, 'decayed_frequency', f.decayed_frequency, 'conversions_365d', f.conversions_365d,
             'value_365d', f.value_365d, 'tenure_days', f.tenure_days,
             'channels', jsonb_build_object(
               'EMAIL', jsonb_build_object('delivered', f.e_del, 'engaged', f.e_eng, 'reachable', f.e_ok),
               'SMS', jsonb_build_object('delivered', f.s_del, 'engaged', f.s_eng, 'reachable', f.s_ok),
               'WHATSAPP', jsonb_build_object('delivered', f.w_del, 'engaged', f.w_eng, 'reachable', f.w_ok))) as inputs
      from (${features}) f
      cross join lateral (
        select 1 / (1 + exp(-(-1.0 + 1.2 * ln(1 + f.recency_days / 30) - 0.9 * ln(1 + f.decayed_frequency) - 0.6 * ln(1 + f.conversions_365d)))) as churn,
               -- exp underflows to an error in PostgreSQL, not to 0: past 700 the term is 0 anyway.
               100 * (1 - exp(-least(f.decayed_frequency / 4, 700))) as engagement
      ) k
      -- Preferred channel: the best rate, ties to WhatsApp, then SMS, then email (the channels that
      -- reach African mobile audiences best); none when no channel can reach the customer.
      cross join lateral (select ${rate("w")} as w, ${rate("s")} as s, ${rate("e")} as e) r
      cross join lateral (select f.s_ok and r.s > r.w + 1e-12 as sms_beats_whatsapp) sw
      cross join lateral (
        select case when f.e_ok and r.e > (case when sw.sms_beats_whatsapp then r.s else r.w end) + 1e-12 then 'EMAIL'
                    when sw.sms_beats_whatsapp then 'SMS'
                    when f.w_ok then 'WHATSAPP' end as preferred
      ) ch`;
}
