// validate_message: the checks a send runs, without sending (send/send.ts refuses on any error).
import { defineTool, lines, UserError } from "@marketsage/core";
import { z } from "zod";
import { getTemplate } from "../queries/templates.ts";
import { validateMessage } from "../validate/message.ts";
import { ChannelInput, MoneyOut, ProblemOut, Variables, WhatsAppTemplateInput, money, problems, recipientInput, shownAddress } from "./shared.ts";

export const validateMessageTool = defineTool({
  name: "validate_message",
  title: "Check a message before sending",
  description:
    "Check a message as a send would: recipient, consent, merge fields, SMS encoding and segments, sizes, local quiet " +
    "hours, the WhatsApp 24 h window, cost per provider. Errors (a send is refused) and warnings, each with a fix.",
  scopes: ["messages:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    channel: ChannelInput,
    ...recipientInput,
    text: z.string().max(100_000).optional(),
    subject: z.string().max(1000).optional(),
    html: z.string().max(500_000).optional(),
    whatsapp_template: WhatsAppTemplateInput.optional(),
    template_id: z.uuid().optional().describe("Instead of content."),
    variables: Variables,
  }),
  output: z.object({
    ok: z.boolean(),
    errors: z.array(ProblemOut),
    warnings: z.array(ProblemOut),
    recipient: z.object({ address: z.string().nullable(), country: z.string().nullable(), number_type: z.string().nullable(), contact_id: z.string().nullable() }),
    rendered: z.object({ text: z.string().nullable(), subject: z.string().nullable(), html_bytes: z.number().int().nullable() }),
    sms: z.object({ encoding: z.string(), characters: z.number().int(), segments: z.number().int(), remaining: z.number().int(), non_gsm: z.array(z.string()) }).nullable(),
    costs: z.array(z.object({ provider: z.string(), total: MoneyOut, units: z.number().int(), source: z.string() })),
    consent: z.string().nullable(),
    reachable: z.boolean().nullable(),
    quiet_hours: z.object({ quiet: z.boolean(), zone: z.string().nullable(), local_time: z.string().nullable(), allowed_at: z.string().nullable() }),
    whatsapp: z.object({ window_open: z.boolean(), last_inbound_at: z.string().nullable(), template_required: z.boolean() }).nullable(),
  }),
  handler: async (i, ctx) => {
    if ((i.to === undefined) === (i.contact_id === undefined)) throw new UserError("Give exactly one of `to` (an address) or `contact_id`.");
    let draft = { channel: i.channel, to: i.to, contactId: i.contact_id, text: i.text, subject: i.subject, html: i.html, whatsappTemplate: i.whatsapp_template, variables: i.variables };
    if (i.template_id) {
      const t = await getTemplate(ctx.db, ctx.org.id, i.template_id);
      if (!t) throw new UserError(`no template ${i.template_id} in this organization: list_templates shows the ids.`);
      if (t.channel !== i.channel) throw new UserError(`template ${t.name} (v${t.version}) is for ${t.channel}, not ${i.channel}.`);
      draft = { ...draft, text: t.text ?? undefined, subject: t.subject ?? undefined, html: t.html ?? undefined, whatsappTemplate: t.whatsapp ?? undefined };
    }
    const v = await validateMessage(ctx.db, ctx.org, draft, { now: ctx.now() });
    return {
      ok: v.ok,
      errors: v.errors,
      warnings: v.warnings,
      recipient: { address: shownAddress(ctx, v.recipient.address), country: v.recipient.country, number_type: v.recipient.numberType, contact_id: v.recipient.contactId },
      rendered: { text: v.content.text, subject: v.content.subject, html_bytes: v.content.html === null ? null : Buffer.byteLength(v.content.html) },
      sms: v.sms ? { encoding: v.sms.encoding, characters: v.sms.units, segments: v.sms.segments, remaining: v.sms.remainingInSegment, non_gsm: v.sms.nonGsm } : null,
      costs: v.costs.map((c) => ({ provider: c.provider, total: c.total, units: c.units, source: `${c.source}; ${c.unitCost.amount} ${c.unitCost.currency} per unit to ${c.country}` })),
      consent: v.consent,
      reachable: v.reachable,
      quiet_hours: { quiet: v.quiet.quiet, zone: v.quiet.zone, local_time: v.quiet.localTime, allowed_at: v.quiet.allowedAt?.toISOString() ?? null },
      whatsapp: v.whatsapp ? { window_open: v.whatsapp.windowOpen, last_inbound_at: v.whatsapp.lastInboundAt?.toISOString() ?? null, template_required: v.whatsapp.templateRequired } : null,
    };
  },
  render: (o) =>
    lines(
      `${o.ok ? "OK to send" : `Would be refused (${o.errors.length} error(s))`}: to ${o.recipient.address ?? "?"}${o.recipient.country ? ` (${o.recipient.country}${o.recipient.number_type ? `, ${o.recipient.number_type.toLowerCase()}` : ""})` : ""}${o.recipient.contact_id ? `, customer ${o.recipient.contact_id}` : ""}.`,
      problems("Errors", o.errors),
      problems("Warnings", o.warnings),
      o.rendered.subject !== null ? `Subject: ${o.rendered.subject}` : "",
      o.rendered.text !== null ? `Text: ${o.rendered.text}` : "",
      o.rendered.html_bytes !== null ? `HTML: ${o.rendered.html_bytes} bytes.` : "",
      o.sms ? `SMS: ${o.sms.encoding}, ${o.sms.characters} characters, ${o.sms.segments} segment(s), ${o.sms.remaining} left in the last${o.sms.non_gsm.length ? `; non-GSM: ${o.sms.non_gsm.join(" ")}` : ""}.` : "",
      o.costs.length ? `Cost: ${o.costs.map((c) => `${c.provider} ${money(c.total)} for ${c.units} unit(s) (${c.source})`).join("; ")}.` : "Cost: no rate on record.",
      `Consent: ${o.consent ?? "no contact record"}; reachable: ${o.reachable === null ? "unknown" : o.reachable ? "yes" : "no"}.`,
      `Local time ${o.quiet_hours.local_time ?? "unknown"} (${o.quiet_hours.zone ?? "no time zone"})${o.quiet_hours.quiet ? `: quiet hours until ${o.quiet_hours.allowed_at}` : ""}.`,
      o.whatsapp ? `WhatsApp window ${o.whatsapp.window_open ? `open (last message ${o.whatsapp.last_inbound_at})` : "closed"}${o.whatsapp.template_required ? ": an approved template is required" : ""}.` : "",
    ),
});
