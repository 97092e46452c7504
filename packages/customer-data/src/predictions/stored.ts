// Reading predictions: the stored row for the current model version, or computed on the spot by
// the same SQL as refresh_predictions (nothing is stored by a read).
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { Prisma } from "@marketsage/db";
import type { PredictionOut } from "../schemas.ts";
import { predictionsQuery } from "./features.ts";
import { ACTION_TEXT, featuresOf, INPUT_COLUMNS, MODEL_VERSION, type InputRow } from "./model.ts";

export const riskBucket = (r: number): "low" | "medium" | "high" => (r < 0.3 ? "low" : r < 0.6 ? "medium" : "high");

const INPUTS = Prisma.raw(INPUT_COLUMNS.join(", "));

interface StoredRow extends InputRow {
  churn_risk: number;
  lifetime_value: string;
  currency: string;
  engagement_score: number;
  preferred_channel: PredictionOut["preferred_channel"];
  next_best_action: string;
  computed_at: Date;
}

export async function predictionFor(db: DbHandle, org: OrgInfo, contactId: string, now: Date): Promise<PredictionOut | null> {
  const [stored] = await db.$queryRaw<StoredRow[]>`
    select churn_risk, lifetime_value::text, trim(currency) as currency, engagement_score, preferred_channel::text as preferred_channel,
           next_best_action, ${INPUTS}, computed_at
      from predictions where contact_id = ${contactId}::uuid and organization_id = ${org.id}::uuid and model_version = ${MODEL_VERSION}`;
  if (stored) return out(stored, true);
  const [fresh] = await db.$queryRaw<StoredRow[]>`
    select churn_risk, lifetime_value::text, ${org.reportingCurrency} as currency, engagement_score, preferred_channel,
           next_best_action, ${INPUTS}, ${now}::timestamptz as computed_at
      from (${predictionsQuery(org, { ids: [contactId] }, now)}) p`;
  return fresh ? out(fresh, false) : null;
}

function out(r: StoredRow, stored: boolean): PredictionOut {
  return {
    model_version: MODEL_VERSION,
    churn_risk: r.churn_risk,
    risk_bucket: riskBucket(r.churn_risk),
    lifetime_value: Number(r.lifetime_value),
    currency: r.currency,
    engagement_score: r.engagement_score,
    preferred_channel: r.preferred_channel,
    next_best_action: r.next_best_action,
    next_best_action_text: ACTION_TEXT[r.next_best_action] ?? r.next_best_action,
    inputs: featuresOf(r) as unknown as Record<string, unknown>,
    computed_at: r.computed_at.toISOString(),
    stored,
  };
}
