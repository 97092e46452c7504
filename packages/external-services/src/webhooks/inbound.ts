// Inbound SMS and WhatsApp messages. The organization is the one whose sender identity received
// the message (sender_identities: the number or id it was sent to), never anything in the body.
// A number several organizations share (a shared short code, the sandbox's numbers) or one no
// identity names: the organization that last sent this person a message through this provider from
// that number in the last 30 days (the reply answers it); none, or two at the same instant: nothing.
// Each message is recorded once (by the provider's message id) as an INBOUND message of the
// contact with that phone number; a STOP word opts the contact out on that channel (a consent
// event, source inbound_sms / inbound_whatsapp, which the consent trigger applies to the contact),
// so the next send is refused; any inbound WhatsApp message opens the 24-hour window (its row is
// what the window reads).
import { randomUUID } from "node:crypto";
import type { Db } from "@marketsage/db";

/** Opt-out words, matched case-insensitively as the whole message (trimmed, punctuation ignored). */
export const STOP_WORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "OPT OUT", "REMOVE", "ARRET", "ARRÊT", "ACHA", "SITISHA"] as const;

/** How far back a reply to a shared number looks for the message it answers. */
export const REPLY_WINDOW_MS = 30 * 86_400_000;

const normal = (s: string) => s.normalize("NFC").toUpperCase().replace(/[\s.!,;:]+/g, " ").trim();
const STOPS = new Set(STOP_WORDS.map(normal));
export const isStop = (text: string) => STOPS.has(normal(text));

export interface InboundMessage {
  channel: "SMS" | "WHATSAPP";
  provider: string;
  providerMessageId: string;
  /** E.164 of the person who wrote. */
  from: string;
  /** Our number or sender id it was sent to (for WhatsApp: the phone number id). */
  to: string;
  text: string;
  at: Date;
}

export interface AppliedInbound {
  /** The organization that owns the receiving number; null: not ours (nothing written). */
  organizationId: string | null;
  duplicate: boolean;
  messageId: string | null;
  contactId: string | null;
  optedOut: boolean;
}

export async function applyInbound(db: Db, m: InboundMessage): Promise<AppliedInbound> {
  return db.$transaction(async (tx) => {
    let orgs = await tx.$queryRaw<Array<{ organization_id: string }>>`
      select distinct organization_id from sender_identities where channel = ${m.channel}::"Channel" and provider = ${m.provider} and sender = ${m.to}`;
    if (orgs.length !== 1) {
      const since = new Date(m.at.getTime() - REPLY_WINDOW_MS);
      const last = await tx.$queryRaw<Array<{ organization_id: string; created_at: Date }>>`
        select organization_id, created_at from messages
         where recipient = ${m.from} and provider = ${m.provider} and direction = 'OUTBOUND' and channel = ${m.channel}::"Channel"
           and (sender = ${m.to} or sender is null) and created_at >= ${since}
           and (${orgs.length} = 0 or organization_id = any(${orgs.map((o) => o.organization_id)}::uuid[]))
         order by created_at desc limit 2`;
      // Two organizations' messages at the same instant cannot say whose customer wrote.
      orgs = last.length && (last.length === 1 || last[0]!.created_at.getTime() !== last[1]!.created_at.getTime()) ? [last[0]!] : [];
    }
    if (orgs.length !== 1) return { organizationId: null, duplicate: false, messageId: null, contactId: null, optedOut: false };
    const org = orgs[0]!.organization_id;
    const [dup] = await tx.$queryRaw<Array<{ id: string; contact_id: string | null }>>`
      select id, contact_id from messages where provider = ${m.provider} and provider_message_id = ${m.providerMessageId} and direction = 'INBOUND' and organization_id = ${org}::uuid`;
    if (dup) return { organizationId: org, duplicate: true, messageId: dup.id, contactId: dup.contact_id, optedOut: false };
    const [c] = await tx.$queryRaw<Array<{ id: string }>>`select id from contacts where organization_id = ${org}::uuid and phone = ${m.from}`;
    const id = randomUUID();
    await tx.$executeRaw`
      insert into messages (id, organization_id, contact_id, channel, direction, recipient, sender, body, provider, provider_message_id, status, created_at, status_at)
      values (${id}::uuid, ${org}::uuid, ${c?.id ?? null}::uuid, ${m.channel}::"Channel", 'INBOUND', ${m.to}, ${m.from}, ${m.text}, ${m.provider}, ${m.providerMessageId}, 'RECEIVED', ${m.at}, ${m.at})`;
    const stop = c !== undefined && isStop(m.text);
    if (stop) {
      await tx.$executeRaw`
        insert into consent_events (organization_id, contact_id, channel, action, source, reason, occurred_at)
        values (${org}::uuid, ${c.id}::uuid, ${m.channel}::"Channel", 'UNSUBSCRIBED', ${m.channel === "SMS" ? "inbound_sms" : "inbound_whatsapp"}, ${`replied "${m.text.trim().slice(0, 40)}"`}, ${m.at})`;
    }
    return { organizationId: org, duplicate: false, messageId: id, contactId: c?.id ?? null, optedOut: stop };
  });
}
