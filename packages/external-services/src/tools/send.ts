// send_email, send_sms, send_whatsapp: one message each, through send/send.ts. Sends run their own
// transactions (transaction "own"): the ledger claim commits before the provider is called, so a
// retry with the same idempotency key finds it whatever happens next.
import { defineTool, lines, UserError, type ToolContext } from "@marketsage/core";
import { z } from "zod";
import { sendMessage, type SendRequest, type SendResult } from "../send/send.ts";
import { MoneyOut, Variables, WhatsAppTemplateInput, money, recipientInput, serviceOf, shownAddress } from "./shared.ts";

const common = {
  ...recipientInput,
  template_id: z.uuid().optional().describe("Instead of content."),
  variables: Variables,
  idempotency_key: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._:-]{8,128}$/, { error: "8–128 of A-Za-z0-9._:- (e.g. a UUID, or order-1234-receipt)" })
    .describe("Reused: the first result, no second send."),
  dry_run: z.boolean().default(false),
};
const quiet = {
  quiet_hours_override: z.string().trim().min(5).max(300).optional().describe("Why send in quiet hours (audited; needs messages:override_quiet_hours)."),
};

const Status = z.enum(["dry_run", "in_flight", "queued", "sent", "delivered", "failed", "outcome_unknown"]);

const SendOutput = z.object({
  status: Status,
  message_id: z.string().nullable(),
  replayed: z.boolean(),
  channel: z.enum(["EMAIL", "SMS", "WHATSAPP"]),
  recipient: z.string().nullable(),
  provider: z.string().nullable(),
  provider_message_id: z.string().nullable(),
  sender: z.string().nullable(),
  sandbox: z.boolean(),
  segments: z.number().int(),
  cost: MoneyOut.nullable(),
  estimate: MoneyOut.nullable(),
  error: z.string().nullable().describe("code: reason"),
  route: z.array(z.string()).nullable(),
  attempts: z.array(z.string()),
  warnings: z.array(z.string()),
  quiet_hours_overridden: z.string().nullable(),
  next: z.string(),
});
type SendOutput = z.infer<typeof SendOutput>;

const STATUS: Record<string, SendOutput["status"]> = { QUEUED: "queued", SENT: "sent", DELIVERED: "delivered", FAILED: "failed", OUTCOME_UNKNOWN: "outcome_unknown" };

function nextStep(r: SendResult, status: SendOutput["status"]): string {
  if (r.dryRun) return "Nothing was sent. Call again with dry_run false (and the same content) to send.";
  if (r.inFlight) return "Another call with this key is waiting for the provider: check get_delivery_status with this idempotency key in a few seconds. Do not use a new key.";
  if (status === "outcome_unknown") return "The provider did not answer in time: the message may or may not have gone out. It is never resent automatically; its delivery report (or get_delivery_status later) settles it. Do not resend with a new key.";
  if (status === "failed") {
    const code = r.message?.errorCode ?? "";
    return code.startsWith("transient:")
      ? "The provider failed on its side and nothing was sent: retrying with the same idempotency key is safe."
      : "The provider refused it for good: change what the reason says (the recipient, the sender or the account) and send with a new key.";
  }
  return "Delivery reports update the status: get_delivery_status with the message id.";
}

export function sendOutput(r: SendResult, ctx: Pick<ToolContext, "hasScope">): SendOutput {
  const m = r.message;
  const status: SendOutput["status"] = r.dryRun ? "dry_run" : r.inFlight ? "in_flight" : (STATUS[m?.status ?? "QUEUED"] ?? "queued");
  const code = m?.errorCode ?? null;
  return {
    status,
    message_id: m?.id ?? null,
    replayed: r.replayed,
    channel: r.channel,
    recipient: shownAddress(ctx, r.recipient),
    provider: r.provider,
    provider_message_id: m?.providerMessageId ?? null,
    sender: r.sender,
    sandbox: r.sandbox,
    segments: r.segments,
    cost: m?.cost && m.currency ? { amount: m.cost, currency: m.currency } : null,
    estimate: r.estimate ? r.estimate.total : null,
    error: code ? `${code.replace(/^transient:/, "")}${m?.errorReason ? `: ${m.errorReason}` : ""}` : null,
    route: r.route ? r.route.map((x) => `${x.eligible ? "" : "skipped: "}${x.reason}`) : null,
    attempts: r.attempts.map((a) => `${a.provider}: ${a.outcome}${a.code ? ` ${a.code}` : ""}${a.reason ? ` (${a.reason})` : ""}`),
    warnings: r.warnings.map((w) => `${w.code}: ${w.message} → ${w.fix}`),
    quiet_hours_overridden: r.quietHoursOverridden,
    next: nextStep(r, status),
  };
}

export function renderSend(o: SendOutput): string {
  const who = `${o.channel} to ${o.recipient ?? "?"}`;
  const head =
    o.status === "dry_run"
      ? `Dry run: ${who} would go through ${o.provider}${o.sandbox ? " (sandbox)" : ""}, ${o.segments} segment(s), estimated ${money(o.estimate)}.`
      : `${o.replayed ? "Already sent with this idempotency key (first result): " : ""}${who} — ${o.status.replace("_", " ")}${o.error ? ` (${o.error})` : ""}; message ${o.message_id} via ${o.provider}${o.sandbox ? " (sandbox)" : ""}${o.provider_message_id ? `, provider id ${o.provider_message_id}` : ""}.`;
  return lines(
    head,
    o.status !== "dry_run" ? `From ${o.sender ?? "the provider's default sender"}; ${o.segments} segment(s); cost ${o.cost ? money(o.cost) : "not stated by the provider"}; estimate ${money(o.estimate)}.` : "",
    o.quiet_hours_overridden ? `Quiet hours overridden: ${o.quiet_hours_overridden}` : "",
    o.route ? ["Route (SMS auto):", ...o.route.map((r) => `- ${r}`)] : [],
    o.attempts.length ? `Attempts: ${o.attempts.join("; ")}.` : "",
    o.warnings.length ? ["Warnings:", ...o.warnings.map((w) => `- ${w}`)] : [],
    o.next,
  );
}

type Common = { to?: string | undefined; contact_id?: string | undefined; template_id?: string | undefined; variables?: Record<string, string> | undefined; idempotency_key: string; dry_run: boolean };

function requestOf(channel: SendRequest["channel"], i: Common, extra: Partial<SendRequest>): SendRequest {
  if ((i.to === undefined) === (i.contact_id === undefined)) throw new UserError("Give exactly one of `to` (an address) or `contact_id`.");
  return { channel, to: i.to, contactId: i.contact_id, templateId: i.template_id, variables: i.variables, idempotencyKey: i.idempotency_key, dryRun: i.dry_run, ...extra };
}

function noMixing(i: { template_id?: string | undefined }, content: Record<string, unknown>): void {
  const given = Object.entries(content).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (i.template_id && given.length) throw new UserError(`Give template_id or content (${given.join(", ")}), not both.`);
  if (!i.template_id && !given.length) throw new UserError(`Give the content (${Object.keys(content).join(", ")}) or a template_id.`);
}

async function run(ctx: ToolContext, req: SendRequest) {
  const r = await sendMessage(ctx.client!, serviceOf(ctx), ctx.principal, req, { now: ctx.now, canOverrideQuietHours: ctx.hasScope("messages:override_quiet_hours") });
  return sendOutput(r, ctx);
}

const annotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;

export const sendSms = defineTool({
  name: "send_sms",
  title: "Send an SMS",
  description:
    "Send one SMS via Africa's Talking or Twilio (auto: cheapest per delivered message, failover on provider refusals). " +
    "Refused with the reason when opted out, a merge field is missing, too long, or in the recipient's quiet hours.",
  scopes: ["messages:send"],
  rateLimit: "send",
  transaction: "own",
  annotations,
  input: z.object({
    ...common,
    ...quiet,
    text: z.string().min(1).max(1600).optional().describe("Merge fields like {{first_name}}."),
    provider: z.enum(["auto", "africastalking", "twilio"]).default("auto"),
    from: z.string().trim().min(1).max(20).optional().describe("An organization sender id; omit for the default."),
  }),
  output: SendOutput,
  handler: async (i, ctx) => {
    noMixing(i, { text: i.text });
    return run(ctx, requestOf("SMS", i, { text: i.text, provider: i.provider, from: i.from, quietHoursOverride: i.quiet_hours_override ? { reason: i.quiet_hours_override } : undefined }));
  },
  render: renderSend,
});

export const sendEmail = defineTool({
  name: "send_email",
  title: "Send an email",
  description:
    "Send one email over SMTP: subject, text and/or HTML (merge fields HTML-escaped). Refused with the reason when the " +
    "recipient is opted out or unreachable or a merge field is missing.",
  scopes: ["messages:send"],
  rateLimit: "send",
  transaction: "own",
  annotations,
  input: z.object({
    ...common,
    subject: z.string().min(1).max(255).optional(),
    text: z.string().min(1).max(100_000).optional(),
    html: z.string().min(1).max(500_000).optional(),
    from: z.string().trim().min(3).max(254).optional().describe("An organization sender address; omit for the default."),
  }),
  output: SendOutput,
  handler: async (i, ctx) => {
    noMixing(i, { subject: i.subject, text: i.text, html: i.html });
    return run(ctx, requestOf("EMAIL", i, { subject: i.subject, text: i.text, html: i.html, from: i.from }));
  },
  render: renderSend,
});

export const sendWhatsApp = defineTool({
  name: "send_whatsapp",
  title: "Send a WhatsApp message",
  description:
    "Send one WhatsApp message (Cloud API): free text within 24 h of the customer's last message, else an approved " +
    "template. Refused with the reason when opted out, outside the window, or in quiet hours.",
  scopes: ["messages:send"],
  rateLimit: "send",
  transaction: "own",
  annotations,
  input: z.object({
    ...common,
    ...quiet,
    text: z.string().min(1).max(4096).optional(),
    whatsapp_template: WhatsAppTemplateInput.optional(),
  }),
  output: SendOutput,
  handler: async (i, ctx) => {
    noMixing(i, { text: i.text, whatsapp_template: i.whatsapp_template });
    if (i.text && i.whatsapp_template) throw new UserError("Give text or whatsapp_template, not both.");
    return run(ctx, requestOf("WHATSAPP", i, { text: i.text, whatsappTemplate: i.whatsapp_template, quietHoursOverride: i.quiet_hours_override ? { reason: i.quiet_hours_override } : undefined }));
  },
  render: renderSend,
});
