// Text renderings shared by the tools. The text carries what the structured content carries
// (SPEC §3: for clients that show only text), compactly: one line per record, nothing dropped
// but nulls and empty lists; times to the minute (ISO 8601, UTC).
import type { z } from "zod";
import type { ConsentState, CustomerSummary, PredictionOut } from "./schemas.ts";

import { at } from "@marketsage/core";

export { at, lines, pageNote } from "@marketsage/core";

export const signed = (n: number): string => (n >= 0 ? `+${n}` : String(n));

const name = (c: { first_name: string | null; last_name: string | null }) => [c.first_name, c.last_name].filter(Boolean).join(" ") || "(no name)";

/** One customer on one line: every field of the summary. */
export function customerLine(c: CustomerSummary): string {
  const place = [c.city, c.country].filter(Boolean).join(", ");
  const parts = [`${name(c)} (id ${c.id})`, c.email ?? "no email", c.phone ?? "no phone", c.company, place, c.status];
  if (c.tags.length) parts.push(`tags ${c.tags.join(", ")}`);
  parts.push(`created ${at(c.created_at)}`);
  return parts.filter((p): p is string => Boolean(p)).join(" · ");
}

/** A channel's consent: state, latest change (when, where from, why) and reachability. */
export function consentText(x: z.infer<typeof ConsentState>): string {
  const change = [x.changed_at && `since ${at(x.changed_at)}`, x.source && `via ${x.source}`, x.reason && `("${x.reason}")`].filter(Boolean).join(" ");
  return `${x.channel} ${x.state}${change ? ` ${change}` : ""}, ${x.reachable ? "reachable" : "not reachable"}`;
}

export const maskedNote = (masked: boolean): string => (masked ? "Emails and phones are masked (your role may not see personal data)." : "");

/** A JSON object as `k v, k v, k (k v, …)`: the model's inputs, records of counts. */
export function flat(value: unknown): string {
  if (value === null || typeof value !== "object") return String(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => (v !== null && typeof v === "object" ? `${k} (${flat(v)})` : `${k} ${String(v)}`))
    .join(", ");
}

/** A prediction on two lines: the figures, then the inputs that produced them. */
export function predictionLines(p: PredictionOut): string[] {
  return [
    `Prediction (${p.model_version}, computed ${at(p.computed_at)}${p.stored ? "" : ", not stored yet: run refresh_predictions"}): churn risk ${p.churn_risk} (${p.risk_bucket}), ` +
      `12-month value ${p.lifetime_value} ${p.currency}, engagement ${p.engagement_score}/100, prefers ${p.preferred_channel ?? "no reachable channel"}; ` +
      `next best action ${p.next_best_action}: ${p.next_best_action_text}`,
    `Inputs: ${flat(p.inputs)}`,
  ];
}

