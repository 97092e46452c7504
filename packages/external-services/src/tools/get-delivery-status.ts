// get_delivery_status: one message's current status and its history (the provider's reports, with
// their times and reasons), found by our message id, the caller's idempotency key or the provider's
// message id — always within the caller's organization.
import { defineTool, lines, NotFoundError, UserError } from "@marketsage/core";
import { z } from "zod";
import { MoneyOut, ProviderName, money, shownAddress } from "./shared.ts";

type Row = {
  id: string; channel: string; direction: string; recipient: string; sender: string | null; provider: string | null; provider_message_id: string | null; status: string;
  error_code: string | null; error_reason: string | null; segments: number; cost: string | null; currency: string | null; created_at: Date; status_at: Date | null;
  sandbox: boolean; idempotency_key: string | null; template_id: string | null; campaign_id: string | null;
};
type EventRow = { type: string; occurred_at: Date; detail: Record<string, unknown> | null };

const COLS = `id, channel::text as channel, direction::text as direction, recipient, sender, provider, provider_message_id, status::text as status, error_code, error_reason,
  segments, cost::text as cost, trim(currency) as currency, created_at, status_at, sandbox, idempotency_key, template_id, campaign_id`;

const WHAT: Record<string, string> = {
  QUEUED: "accepted for sending", SENT: "handed to the network", DELIVERED: "delivered to the handset / mailbox", FAILED: "failed", OUTCOME_UNKNOWN: "outcome unknown (the provider did not answer)", RECEIVED: "received from the customer",
};

export const getDeliveryStatus = defineTool({
  name: "get_delivery_status",
  title: "Delivery status of a message",
  description:
    "A message's status (queued, sent, delivered, failed, outcome_unknown) and its provider reports with times and " +
    "reasons, by one of message_id, idempotency_key or provider_message_id.",
  scopes: ["messages:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    message_id: z.uuid().optional(),
    idempotency_key: z.string().trim().min(1).max(128).optional(),
    provider_message_id: z.string().trim().min(1).max(200).optional(),
    provider: ProviderName.optional().describe("With provider_message_id."),
  }),
  output: z.object({
    message_id: z.string(),
    channel: z.string(),
    direction: z.string(),
    status: z.string(),
    status_at: z.string().nullable(),
    recipient: z.string().nullable(),
    sender: z.string().nullable(),
    provider: z.string().nullable(),
    provider_message_id: z.string().nullable(),
    sandbox: z.boolean(),
    error: z.object({ code: z.string(), reason: z.string().nullable(), retryable: z.boolean() }).nullable().describe("retryable: nothing sent; retry with the same key."),
    segments: z.number().int(),
    cost: MoneyOut.nullable(),
    idempotency_key: z.string().nullable(),
    template_id: z.string().nullable(),
    created_at: z.string(),
    history: z.array(z.object({
      type: z.string(), at: z.string(), provider_status: z.string().nullable(), code: z.string().nullable(), reason: z.string().nullable(), late: z.boolean(),
    })),
  }),
  handler: async (i, ctx) => {
    const given = [i.message_id, i.idempotency_key, i.provider_message_id].filter((x) => x !== undefined).length;
    if (given !== 1) throw new UserError("Give exactly one of message_id, idempotency_key or provider_message_id.");
    if (i.provider && !i.provider_message_id) throw new UserError("provider goes with provider_message_id.");
    const org = ctx.org.id;
    const rows = i.message_id
      ? await ctx.db.$queryRawUnsafe<Row[]>(`select ${COLS} from messages where organization_id = $1::uuid and id = $2::uuid`, org, i.message_id)
      : i.idempotency_key
        ? await ctx.db.$queryRawUnsafe<Row[]>(`select ${COLS} from messages where organization_id = $1::uuid and idempotency_key = $2`, org, i.idempotency_key)
        : await ctx.db.$queryRawUnsafe<Row[]>(
            `select ${COLS} from messages where organization_id = $1::uuid and provider_message_id = $2 and ($3::text is null or provider = $3) order by created_at desc limit 2`,
            org, i.provider_message_id, i.provider ?? null,
          );
    const m = rows[0];
    if (!m) throw new NotFoundError(i.message_id ? `Message ${i.message_id}` : i.idempotency_key ? `A message with idempotency key "${i.idempotency_key}"` : `A message with provider id "${i.provider_message_id}"`);
    if (rows.length > 1) throw new UserError(`Two messages carry provider id "${i.provider_message_id}" (${rows.map((r) => r.provider).join(", ")}): pass provider too.`);
    const events = await ctx.db.$queryRaw<EventRow[]>`
      select type::text as type, occurred_at, detail from message_events where organization_id = ${org}::uuid and message_id = ${m.id}::uuid order by occurred_at, id`;
    const s = (v: unknown) => (typeof v === "string" && v ? v : null);
    const retryable = m.error_code?.startsWith("transient:") ?? false;
    return {
      message_id: m.id,
      channel: m.channel,
      direction: m.direction,
      status: m.status.toLowerCase(),
      status_at: m.status_at?.toISOString() ?? null,
      recipient: shownAddress(ctx, m.recipient),
      sender: m.sender,
      provider: m.provider,
      provider_message_id: m.provider_message_id,
      sandbox: m.sandbox,
      error: m.error_code ? { code: m.error_code.replace(/^transient:/, ""), reason: m.error_reason, retryable } : null,
      segments: m.segments,
      cost: m.cost && m.currency ? { amount: m.cost, currency: m.currency } : null,
      idempotency_key: m.idempotency_key,
      template_id: m.template_id,
      created_at: m.created_at.toISOString(),
      history: events.map((e) => ({
        type: e.type.toLowerCase(), at: e.occurred_at.toISOString(), provider_status: s(e.detail?.provider_status), code: s(e.detail?.code), reason: s(e.detail?.reason), late: e.detail?.late === true,
      })),
    };
  },
  render: (o) =>
    lines(
      `Message ${o.message_id} (${o.channel} ${o.direction.toLowerCase()} ${o.direction === "INBOUND" ? "from" : "to"} ${o.recipient ?? "?"}): ${o.status} — ${WHAT[o.status.toUpperCase()] ?? o.status}${o.status_at ? ` at ${o.status_at}` : ""}.`,
      o.error ? `Error ${o.error.code}${o.error.reason ? `: ${o.error.reason}` : ""}${o.error.retryable ? " (nothing was sent; a retry with the same idempotency key is safe)" : ""}.` : "",
      `Via ${o.provider ?? "?"}${o.sandbox ? " (sandbox)" : ""}${o.provider_message_id ? `, provider id ${o.provider_message_id}` : ""}; from ${o.sender ?? "default sender"}; ${o.segments} segment(s); cost ${o.cost ? money(o.cost) : "not stated"}.`,
      o.idempotency_key ? `Idempotency key ${o.idempotency_key}.` : "",
      o.template_id ? `Template ${o.template_id}.` : "",
      `Created ${o.created_at}. History:`,
      o.history.map((h) => `- ${h.at} ${h.type}${h.provider_status ? ` (provider: ${h.provider_status})` : ""}${h.code ? ` code ${h.code}` : ""}${h.reason ? `: ${h.reason}` : ""}${h.late ? " [late: arrived after a later status, state unchanged]" : ""}`),
    ),
});
