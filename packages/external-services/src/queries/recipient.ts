// What a send needs to know about its recipient, in one statement: the contact (by id, or by the
// channel's address within the organization), whether the channel reaches it now (the shared
// reachability rule, isReachable), its consent, time zone and merge fields, and for WhatsApp the
// last inbound message (the 24-hour customer-service window). The organization always comes from
// the caller's key.
import type { DbHandle } from "@marketsage/core";
import { CHANNEL_ADDRESS, isReachable, type ChannelName, type ConsentActionName, type ContactStatusName } from "@marketsage/domain";

export const WHATSAPP_WINDOW_MS = 24 * 3600_000;

export interface RecipientContact {
  id: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  city: string | null;
  country: string;
  timeZone: string;
  status: ContactStatusName;
  consent: ConsentActionName | null;
  consentAt: Date | null;
}

export interface RecipientState {
  contact: RecipientContact | null;
  /** Reachable on the channel now; null for an address that is no contact of this organization (no consent on record). */
  reachable: boolean | null;
  /** WhatsApp: the contact's (or the number's) latest inbound message, if within the last 24 h. */
  lastInboundAt: Date | null;
  windowOpen: boolean;
}

type Row = {
  id: string; email: string | null; phone: string | null; first_name: string | null; last_name: string | null; company: string | null; city: string | null;
  country: string; time_zone: string; status: ContactStatusName; consent_email: ConsentActionName | null; consent_sms: ConsentActionName | null;
  consent_whatsapp: ConsentActionName | null; consent_email_at: Date | null; consent_sms_at: Date | null; consent_whatsapp_at: Date | null;
};

export async function recipientState(
  db: DbHandle,
  orgId: string,
  q: { channel: ChannelName; contactId?: string | undefined; address?: string | undefined; now: Date },
): Promise<RecipientState> {
  const by = CHANNEL_ADDRESS[q.channel];
  const [c] = q.contactId
    ? await db.$queryRaw<Row[]>`select * from contacts where organization_id = ${orgId}::uuid and id = ${q.contactId}::uuid`
    : by === "email"
      ? await db.$queryRaw<Row[]>`select * from contacts where organization_id = ${orgId}::uuid and email = ${q.address ?? ""}`
      : await db.$queryRaw<Row[]>`select * from contacts where organization_id = ${orgId}::uuid and phone = ${q.address ?? ""}`;
  const { contact, reachable } = stateOf(c, q.channel);
  let lastInboundAt: Date | null = null;
  if (q.channel === "WHATSAPP") {
    const since = new Date(q.now.getTime() - WHATSAPP_WINDOW_MS);
    const number = contact?.phone ?? q.address ?? null;
    const [r] = contact
      ? await db.$queryRaw<Array<{ at: Date | null }>>`
          select max(created_at) as at from messages
           where contact_id = ${contact.id}::uuid and organization_id = ${orgId}::uuid and channel = 'WHATSAPP' and direction = 'INBOUND'
             and created_at > ${since} and created_at <= ${q.now}`
      : await db.$queryRaw<Array<{ at: Date | null }>>`
          select max(created_at) as at from messages
           where organization_id = ${orgId}::uuid and created_at > ${since} and created_at <= ${q.now}
             and channel = 'WHATSAPP' and direction = 'INBOUND' and sender = ${number ?? ""}`;
    lastInboundAt = r?.at ?? null;
  }
  return { contact, reachable, lastInboundAt, windowOpen: lastInboundAt !== null };
}

function stateOf(c: Row | undefined, channel: ChannelName): { contact: RecipientContact | null; reachable: boolean | null } {
  const contact: RecipientContact | null = c
    ? {
        id: c.id, email: c.email, phone: c.phone, firstName: c.first_name, lastName: c.last_name, company: c.company, city: c.city,
        country: c.country.trim(), timeZone: c.time_zone, status: c.status,
        consent: channel === "EMAIL" ? c.consent_email : channel === "SMS" ? c.consent_sms : c.consent_whatsapp,
        consentAt: channel === "EMAIL" ? c.consent_email_at : channel === "SMS" ? c.consent_sms_at : c.consent_whatsapp_at,
      }
    : null;
  const reachable = c
    ? isReachable({ status: c.status, email: c.email, phone: c.phone, consent: { EMAIL: c.consent_email, SMS: c.consent_sms, WHATSAPP: c.consent_whatsapp } }, channel)
    : null;
  return { contact, reachable };
}

/**
 * recipientState for many contacts at once (a bulk send's wave): two statements whatever their
 * number. Contacts not in the organization are absent from the map.
 */
export async function recipientStates(db: DbHandle, orgId: string, channel: ChannelName, contactIds: readonly string[], now: Date): Promise<Map<string, RecipientState>> {
  const out = new Map<string, RecipientState>();
  if (contactIds.length === 0) return out;
  const rows = await db.$queryRaw<Row[]>`select * from contacts where organization_id = ${orgId}::uuid and id = any(${[...contactIds]}::uuid[])`;
  const inbound = new Map<string, Date>();
  if (channel === "WHATSAPP") {
    const since = new Date(now.getTime() - WHATSAPP_WINDOW_MS);
    const last = await db.$queryRaw<Array<{ contact_id: string; at: Date }>>`
      select contact_id::text as contact_id, max(created_at) as at from messages
       where contact_id = any(${[...contactIds]}::uuid[]) and organization_id = ${orgId}::uuid and channel = 'WHATSAPP' and direction = 'INBOUND'
         and created_at > ${since} and created_at <= ${now}
       group by contact_id`;
    for (const r of last) inbound.set(r.contact_id, r.at);
  }
  for (const r of rows) {
    const { contact, reachable } = stateOf(r, channel);
    const at = inbound.get(r.id) ?? null;
    out.set(r.id, { contact, reachable, lastInboundAt: at, windowOpen: at !== null });
  }
  return out;
}
