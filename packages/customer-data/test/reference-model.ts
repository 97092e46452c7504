// An independent implementation of model rfm-decay-v1 (the formulas in the package README), in
// TypeScript: the tests check the SQL model (src/predictions/model.ts) against it, row by row.
import type { Features, PredictionResult } from "../src/predictions/model.ts";
import type { ChannelName } from "@marketsage/domain";

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
