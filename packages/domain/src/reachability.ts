// Reachability: who may be messaged on which channel right now. The definition is the SQL function
// marketsage_reach (migration member_state), which the member-state and contact-facts triggers
// store as bits; counting queries use it through the fragments here, and TS code that decides one
// contact at a time uses isReachable, which states the same rule (a test holds them equal):
//   a channel reaches a contact when the contact is ACTIVE, has the channel's address (email for
//   EMAIL, phone for SMS and WHATSAPP) and is currently SUBSCRIBED on that channel (never asked
//   counts as not subscribed).
import { Prisma } from "@marketsage/db";
import type { ChannelName, ConsentActionName, ContactStatusName } from "./enums.ts";

export const REACH_FUNCTION = "marketsage_reach";

/** The bit each channel has in marketsage_reach's result. */
export const REACH_BIT: Readonly<Record<ChannelName, number>> = { EMAIL: 1, SMS: 2, WHATSAPP: 4 };

/** Which address a channel needs. */
export const CHANNEL_ADDRESS: Readonly<Record<ChannelName, "email" | "phone">> = { EMAIL: "email", SMS: "phone", WHATSAPP: "phone" };

/** For tool descriptions: the rule in one sentence. */
export const REACHABILITY_RULE = "Reachable on a channel: status ACTIVE, has the channel's address (email; phone for SMS and WhatsApp) and subscribed on it now.";

export interface ReachInputs {
  status: ContactStatusName;
  email: string | null;
  phone: string | null;
  consent: Readonly<Record<ChannelName, ConsentActionName | null>>;
}

/** The TS statement of marketsage_reach for one channel. */
export function isReachable(c: ReachInputs, channel: ChannelName): boolean {
  return c.status === "ACTIVE" && c[CHANNEL_ADDRESS[channel]] !== null && c.consent[channel] === "SUBSCRIBED";
}

/** marketsage_reach's bits for one contact, computed in TS. */
export function reachBitsOf(c: ReachInputs): number {
  let bits = 0;
  for (const ch of Object.keys(REACH_BIT) as ChannelName[]) if (isReachable(c, ch)) bits |= REACH_BIT[ch];
  return bits;
}

/** The channels set in a reach-bits value, in EMAIL, SMS, WHATSAPP order. */
export const channelsIn = (bits: number): ChannelName[] => (Object.keys(REACH_BIT) as ChannelName[]).filter((ch) => (bits & REACH_BIT[ch]) !== 0);

const ALIAS = /^[a-z_][a-z0-9_]*$/;

/** SQL: marketsage_reach over the contacts alias `alias` (a plain identifier). */
export function reachBitsSql(alias: string): Prisma.Sql {
  if (!ALIAS.test(alias)) throw new Error(`reachBitsSql: "${alias}" is not a plain SQL alias`);
  const a = (col: string) => Prisma.raw(`${alias}.${col}`);
  return Prisma.sql`marketsage_reach(${a("status")}, ${a("email")}, ${a("phone")}, ${a("consent_email")}, ${a("consent_sms")}, ${a("consent_whatsapp")})`;
}

/** Reachable now, as bits (1 email, 2 SMS, 4 WhatsApp), for the contacts alias `c`. */
export const REACH_BITS = reachBitsSql("c");

const has = (bits: Prisma.Sql, ch: ChannelName) => Prisma.sql`((${bits}) & ${Prisma.raw(String(REACH_BIT[ch]))}) <> 0`;

/** Rows counted per reachable channel, `email, sms, whatsapp`, from a reach-bits expression. */
export const reachCounts = (bits: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`count(*) filter (where ${has(bits, "EMAIL")})::int as email, count(*) filter (where ${has(bits, "SMS")})::int as sms,
    count(*) filter (where ${has(bits, "WHATSAPP")})::int as whatsapp`;

/** `e_ok, s_ok, w_ok` booleans from a reach-bits expression. */
export const reachFlags = (bits: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`${has(bits, "EMAIL")} as e_ok, ${has(bits, "SMS")} as s_ok, ${has(bits, "WHATSAPP")} as w_ok`;
