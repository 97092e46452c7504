// Prediction model rfm-decay-v1: recency, decayed frequency and monetary value from the
// customer's own history. The formulas are documented in packages/customer-data/README.md;
// change them only with a new MODEL_VERSION so stored predictions stay explainable.
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

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
// Ties go to WhatsApp, then SMS: the channels that reach African mobile audiences best.
const TIE_ORDER: ChannelName[] = ["WHATSAPP", "SMS", "EMAIL"];

export function churnRisk(f: Features): number {
  const z = -1.0 + 1.2 * Math.log1p(f.recency_days / 30) - 0.9 * Math.log1p(f.decayed_frequency) - 0.6 * Math.log1p(f.conversions_365d);
  return 1 / (1 + Math.exp(-z));
}

export function predict(f: Features): PredictionResult {
  const churn = churnRisk(f);
  // Spend per year, annualised for customers younger than a year (at least 30 days of tenure).
  const annual = f.value_365d * (365 / Math.min(365, Math.max(30, f.tenure_days)));
  const ltv = annual * (1 - churn);
  const engagement = 100 * (1 - Math.exp(-f.decayed_frequency / 4));

  let preferred: ChannelName | null = null;
  let best = -1;
  for (const ch of TIE_ORDER) {
    const h = f.channels[ch];
    if (!h.reachable) continue;
    const rate = (h.engaged + 1) / (h.delivered + 2); // Laplace-smoothed engagement rate
    if (rate > best + 1e-12) {
      best = rate;
      preferred = ch;
    }
  }

  let action: string;
  if (!preferred) action = "request_consent";
  else if (churn >= 0.6 && f.value_365d > 0) action = "win_back_offer";
  else if (churn >= 0.6) action = "reactivation_message";
  else if (f.conversions_365d === 0 && engagement >= 40) action = "conversion_offer";
  else if (f.conversions_365d > 0 && churn < 0.3) action = "loyalty_reward";
  else action = "nurture_content";

  return {
    churn_risk: round(churn, 4),
    lifetime_value: round(ltv, 2),
    engagement_score: round(engagement, 1),
    preferred_channel: preferred,
    next_best_action: action,
  };
}

export const ACTION_TEXT: Record<string, string> = {
  request_consent: "No channel can legally reach this customer: ask for consent first.",
  win_back_offer: "High churn risk with past spend: send a personal win-back offer.",
  reactivation_message: "High churn risk: send a reactivation message.",
  conversion_offer: "Engaged but has not bought: send a first-purchase offer.",
  loyalty_reward: "Active buyer at low risk: reward loyalty or upsell.",
  nurture_content: "Keep engaged with useful content.",
};
