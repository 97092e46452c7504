import { defineTool, piiPolicy, UserError } from "@marketsage/core";
import { z } from "zod";
import { predictionFor } from "../predictions/stored.ts";
import { consentStates } from "../queries/consent.ts";
import { CustomerRef, findContact } from "@marketsage/domain";
import { summarize } from "../queries/contacts.ts";
import { segmentsOf } from "../queries/memberships.ts";
import { timeline, TimelineItem } from "../queries/timeline.ts";
import { ConsentState, Cursor, CustomerSummary, limitInput, PredictionOut } from "../schemas.ts";
import { at, consentText, customerLine, lines, maskedNote, pageNote, predictionLines } from "../render.ts";

export const getCustomerProfile = defineTool({
  name: "get_customer_profile",
  title: "Customer profile",
  description:
    "One customer by exactly one of id, email or phone: profile, consent per channel (unknown: never asked; reachable = " +
    "address present, ACTIVE, subscribed), segments, latest prediction, activity (messages, visits, conversions) newest " +
    "first, paged. Money in the organization's currency.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().optional(),
    email: z.string().max(254).optional().describe("Exact."),
    phone: z.string().max(32).optional().describe("Any format; local: the organization's country."),
    timeline_limit: limitInput(15, 50),
    timeline_cursor: Cursor,
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
    return lines(
      `${customerLine(c)} · updated ${at(c.updated_at)} · time zone ${c.time_zone}${c.source ? ` · source ${c.source}` : ""}`,
      `Consent: ${o.consent.map(consentText).join("; ")}`,
      `Segments: ${o.segments.map((s) => `${s.name} (${s.kind}, id ${s.id})`).join("; ") || "none"}`,
      o.prediction ? predictionLines(o.prediction) : "Prediction: none",
      o.timeline.items.length ? "Timeline, newest first:" : "Timeline: no activity.",
      o.timeline.items.map(
        (i) => `- ${at(i.at)} ${i.kind}${i.channel ? ` ${i.channel}` : ""} ${i.event}${i.campaign ? ` (${i.campaign})` : ""}${i.value !== null ? ` ${i.value} ${i.currency ?? ""}` : ""}`,
      ),
      pageNote(o.timeline.next_cursor, "timeline_cursor"),
      maskedNote(o.pii_masked),
    );
  },
});
