import { CursorInput, defineTool, LimitInput, piiPolicy, UserError } from "@marketsage/core";
import { z } from "zod";
import { predictionFor } from "../predictions/stored.ts";
import { consentStates } from "../queries/consent.ts";
import { CustomerRef, findContact } from "@marketsage/domain";
import { summarize } from "../queries/contacts.ts";
import { segmentsOf } from "../queries/memberships.ts";
import { timeline, TimelineItem } from "../queries/timeline.ts";
import { ConsentState, CustomerSummary, PredictionOut } from "../schemas.ts";

export const getCustomerProfile = defineTool({
  name: "get_customer_profile",
  title: "Customer profile",
  description:
    "One customer's full record, by id, email or phone: profile, consent per channel (with the latest change and whether " +
    "the channel can legally reach them now), the saved segments they belong to, the latest predictions (churn risk, " +
    "12-month value, engagement, next best action) and a recent activity timeline of messages, visits and conversions, " +
    "newest first (page it with timeline_cursor). Money is in the organization's currency.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().optional().describe("Contact id."),
    email: z.string().max(254).optional().describe("Exact email address."),
    phone: z.string().max(32).optional().describe("Phone in any common format; local numbers use the organization's country."),
    timeline_limit: LimitInput(15, 50),
    timeline_cursor: CursorInput,
  }),
  output: z.object({
    customer: CustomerSummary.extend({ time_zone: z.string(), source: z.string().nullable(), updated_at: z.string() }),
    consent: z.array(ConsentState),
    segments: z.array(z.object({ id: z.string(), name: z.string(), kind: z.enum(["rules", "static"]) })),
    prediction: PredictionOut.nullable(),
    timeline: z.object({ items: z.array(TimelineItem), next_cursor: z.string().nullable() }),
    pii_masked: z.boolean(),
  }),
  handler: async (input, ctx) => {
    const ref = CustomerRef.safeParse({ id: input.id, email: input.email, phone: input.phone });
    if (!ref.success) throw new UserError("Give exactly one of id, email or phone.");
    const now = ctx.now();
    const contact = await findContact(ctx.db, ctx.org, ref.data);
    const pii = piiPolicy(ctx.hasScope("contacts:pii"));
    const [consent, segments, prediction, activity] = await Promise.all([
      consentStates(ctx.db, ctx.org, contact),
      segmentsOf(ctx.db, ctx.org, contact.id, now),
      predictionFor(ctx.db, ctx.org, contact.id, now),
      timeline(ctx.db, ctx.org, contact.id, input.timeline_limit, input.timeline_cursor),
    ]);
    return {
      customer: { ...summarize(contact, pii), time_zone: contact.time_zone, source: contact.source, updated_at: contact.updated_at.toISOString() },
      consent,
      segments,
      prediction,
      timeline: activity,
      pii_masked: pii.masked,
    };
  },
  render: (o) => {
    const c = o.customer;
    const lines = [
      `${c.first_name ?? ""} ${c.last_name ?? ""} (${c.id}) — ${c.email ?? "no email"}, ${c.phone ?? "no phone"}, ${c.city ?? ""} ${c.country}, ${c.status}`,
      `Consent: ${o.consent.map((x) => `${x.channel} ${x.state}${x.reachable ? " (reachable)" : ""}`).join("; ")}`,
      `Segments: ${o.segments.map((s) => s.name).join(", ") || "none"}`,
    ];
    if (o.prediction) {
      const p = o.prediction;
      lines.push(`Prediction: churn ${p.churn_risk} (${p.risk_bucket}), 12-month value ${p.lifetime_value} ${p.currency}, engagement ${p.engagement_score}/100, prefers ${p.preferred_channel ?? "no reachable channel"}; next: ${p.next_best_action_text}`);
    }
    lines.push(...o.timeline.items.map((i) => `${i.at} ${i.kind} ${i.channel ?? ""} ${i.event}${i.campaign ? ` (${i.campaign})` : ""}${i.value !== null ? ` ${i.value} ${i.currency}` : ""}`));
    return lines.join("\n");
  },
});
