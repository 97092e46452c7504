import { defineTool, UserError } from "@marketsage/core";
import { z } from "zod";
import { consentStates } from "../queries/consent.ts";
import { ChannelEnum, CustomerRef, findContact } from "@marketsage/domain";
import { ConsentState } from "../schemas.ts";
import { at, consentText } from "../render.ts";

export const updateCustomerConsent = defineTool({
  name: "update_customer_consent",
  title: "Update consent",
  description:
    "Subscribe or unsubscribe one customer (id, email or phone) on one channel, with the request's source and reason. " +
    "Appended to the consent history; applies to sends at once. Asking for the current state records nothing (changed false).",
  scopes: ["contacts:write"],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().optional(),
    email: z.string().max(254).optional(),
    phone: z.string().max(32).optional(),
    channel: ChannelEnum,
    action: z.enum(["subscribe", "unsubscribe"]),
    source: z.string().trim().min(2).max(60).describe("e.g. customer_call, support_ticket, agent_chat."),
    reason: z.string().trim().max(300).optional(),
  }),
  output: z.object({ customer_id: z.string(), changed: z.boolean(), consent: ConsentState, recorded_at: z.string().nullable() }),
  handler: async (input, ctx) => {
    const ref = CustomerRef.safeParse({ id: input.id, email: input.email, phone: input.phone });
    if (!ref.success) throw new UserError("Give exactly one of id, email or phone.");
    const contact = await findContact(ctx.db, ctx.org, ref.data);
    const action = input.action === "subscribe" ? "SUBSCRIBED" : "UNSUBSCRIBED";
    const before = (await consentStates(ctx.db, ctx.org, contact)).find((c) => c.channel === input.channel)!;
    const already = (before.state === "subscribed" && action === "SUBSCRIBED") || (before.state === "unsubscribed" && action === "UNSUBSCRIBED");
    if (already) return { customer_id: contact.id, changed: false, consent: before, recorded_at: null };
    if (action === "SUBSCRIBED" && !(input.channel === "EMAIL" ? contact.email : contact.phone)) {
      throw new UserError(`This customer has no ${input.channel === "EMAIL" ? "email address" : "phone number"}, so they cannot be subscribed on ${input.channel}.`);
    }
    const now = ctx.now();
    // The consent_events trigger updates the contact's current consent in this same transaction.
    await ctx.db.$executeRaw`
      insert into consent_events (organization_id, contact_id, channel, action, source, reason, actor_user_id, occurred_at)
      values (${ctx.org.id}::uuid, ${contact.id}::uuid, ${input.channel}::"Channel", ${action}::"ConsentAction", ${input.source},
              ${input.reason ?? null}, ${ctx.principal.userId}::uuid, ${now})`;
    const after = (await consentStates(ctx.db, ctx.org, contact)).find((c) => c.channel === input.channel)!;
    return { customer_id: contact.id, changed: true, consent: after, recorded_at: now.toISOString() };
  },
  render: (o) =>
    o.changed
      ? `Recorded at ${at(o.recorded_at)} for customer ${o.customer_id}: ${consentText(o.consent)}.`
      : `No change for customer ${o.customer_id}, already: ${consentText(o.consent)}.`,
});
