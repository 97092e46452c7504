// The in-memory view of the contacts that later generators need (who exists when, how to reach
// them, what they consented to). Typed arrays keep ~1M contacts in a few hundred MB.
import type { DemoOrg } from "./demo-accounts.ts";

export const CHANNELS = ["EMAIL", "SMS", "WHATSAPP"] as const;
export type ChannelName = (typeof CHANNELS)[number];
export const EMAIL = 0, SMS = 1, WHATSAPP = 2;

export const STATUSES = ["ACTIVE", "UNSUBSCRIBED", "BOUNCED", "ARCHIVED"] as const;
export const ACTIVE = 0, UNSUBSCRIBED = 1, BOUNCED = 2, ARCHIVED = 3;

export const TAGS = ["vip", "wholesale", "newsletter", "app-user", "loyalty", "event-2026", "b2b", "first-order", "black-friday-2025", "ramadan-shopper"] as const;
export const tagBit = (t: (typeof TAGS)[number]) => 1 << TAGS.indexOf(t);

export interface OrgContacts {
  org: DemoOrg;
  orgIndex: number;
  n: number;
  ids: string[];
  emails: Array<string | null>;
  phones: Array<string | null>;
  cities: string[];
  /** Index into COUNTRY_CODES. */
  country: Uint8Array;
  status: Uint8Array;
  /** Ascending: contacts are generated in creation order. */
  created: Float64Array;
  /** Personal responsiveness multiplier (~0.2–3): some people open everything, some nothing. */
  eng: Float32Array;
  tags: Uint16Array;
  /** Per contact and channel (index i*3+ch): first subscribe, unsubscribe and re-subscribe times (NaN: none). */
  sub: Float64Array;
  unsub: Float64Array;
  resub: Float64Array;
  /** 1 when the SMS unsubscribe was an inbound STOP reply (an inbound message is written for it). */
  stopSms: Uint8Array;
  /**
   * Bit per channel: the unsubscribe came from a message (email link, STOP reply, WhatsApp opt-out)
   * and no message has claimed it yet; the messages generator adds the matching UNSUBSCRIBED event.
   */
  unsubMsg: Uint8Array;
}

/** Whether marketing on this channel may reach contact i at time t (consent history at t). */
export function reachable(s: OrgContacts, i: number, ch: number, t: number): boolean {
  const k = i * 3 + ch;
  if (!(s.sub[k]! <= t)) return false;
  if (s.unsub[k]! <= t) return s.resub[k]! <= t;
  return true;
}

/** Number of contacts created at or before t (they are sorted by creation time). */
export function createdBy(s: OrgContacts, t: number): number {
  let lo = 0, hi = s.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.created[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function address(s: OrgContacts, i: number, ch: number): string | null {
  return ch === EMAIL ? s.emails[i]! : s.phones[i]!;
}
