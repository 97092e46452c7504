// What the intent model's next action needs beyond the features: the linked contacts (masked per
// role, reachable channels now) and this organization's engagement per channel for contacts in a
// country on a device. Shared by get_visitor and identify_high_intent_visitors, with the output
// schemas both use.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo, PiiPolicy } from "@marketsage/core";
import { CHANNELS, isReachable, roundRate, type ChannelName, type ConsentActionName, type ContactStatusName } from "@marketsage/domain";
import { z } from "zod";
import type { ChannelEngagement, NextAction, Reachable, ScoreResult } from "../intent/model.ts";

/** Engagement rates are measured over the messages delivered in this many days before now… */
export const ENGAGEMENT_WINDOW_DAYS = 90;
/** …to the contacts of the audience's most recently seen identified visitors, at most this many. */
export const AUDIENCE_SAMPLE = 1_000;

export const ENGAGEMENT_DEFINITION =
  `Channel engagement for a visitor's audience (contacts in their country with a visitor on their device; the ${AUDIENCE_SAMPLE} ` +
  `such visitors seen most recently): messages delivered to those contacts in the last ${ENGAGEMENT_WINDOW_DAYS} days, and the ` +
  "share of them with an OPENED, CLICKED or REPLIED event in those days, per channel.";

export const SignalOut = z.object({ signal: z.string(), value: z.number(), points: z.number(), why: z.string() });
export const ScoreOut = z.object({
  score: z.number(),
  band: z.string().optional(),
  recency_factor: z.number().describe("0.5^(days since last visit / half_life_days), already applied to every signal's points."),
  half_life_days: z.number(),
  signals: z.array(SignalOut),
});
export const NextActionOut = z.object({ action: z.string(), action_text: z.string(), channel: z.string().nullable(), why: z.string() });
export const LinkedContactOut = z.object({
  id: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  status: z.string(),
  reachable: z.array(z.string()).describe("Channels the contact can be messaged on now."),
});
export type LinkedContactOut = z.infer<typeof LinkedContactOut>;

/** The model's result for output: each signal's `why` without the recency clause, which the score states once. */
export const scoreOut = (s: ScoreResult, withBand: boolean, halfLifeDays: number) => ({
  score: s.score,
  ...(withBand ? { band: s.band } : {}),
  recency_factor: s.recency_factor,
  half_life_days: halfLifeDays,
  signals: s.signals.map((g) => ({ ...g, why: g.why.replace(/ × recency .*$/, " × recency") })),
});
export const nextActionOut = (a: NextAction) => ({ action: a.action, action_text: a.action_text, channel: a.channel, why: a.why });

export interface LinkedContact {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  country: string;
  status: ContactStatusName;
  reachable: Reachable;
}

/** A linked contact as read: its consent columns instead of the reachability they give. */
interface ContactRow extends Omit<LinkedContact, "reachable"> {
  consent_email: ConsentActionName | null;
  consent_sms: ConsentActionName | null;
  consent_whatsapp: ConsentActionName | null;
}

/** The organization's contacts with these ids, with the channels each is reachable on now (REACHABILITY_RULE). */
export async function linkedContacts(db: DbHandle, org: Pick<OrgInfo, "id">, ids: readonly string[]): Promise<Map<string, LinkedContact>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRaw<ContactRow[]>`
    select c.id::text, c.first_name, c.last_name, c.email, c.phone, trim(c.country) as country, c.status::text as status,
           c.consent_email::text as consent_email, c.consent_sms::text as consent_sms, c.consent_whatsapp::text as consent_whatsapp
      from contacts c where c.organization_id = ${org.id}::uuid and c.id = any(${[...ids]}::uuid[])`;
  return new Map(
    rows.map((r) => {
      const inputs = { status: r.status, email: r.email, phone: r.phone, consent: { EMAIL: r.consent_email, SMS: r.consent_sms, WHATSAPP: r.consent_whatsapp } };
      const reachable = { email: isReachable(inputs, "EMAIL"), sms: isReachable(inputs, "SMS"), whatsapp: isReachable(inputs, "WHATSAPP") };
      return [r.id, { id: r.id, first_name: r.first_name, last_name: r.last_name, email: r.email, phone: r.phone, country: r.country, status: r.status, reachable }];
    }),
  );
}

const REACH_KEY: Readonly<Record<ChannelName, keyof Reachable>> = { EMAIL: "email", SMS: "sms", WHATSAPP: "whatsapp" };

export function contactOut(c: LinkedContact, pii: PiiPolicy): LinkedContactOut {
  return {
    id: c.id,
    first_name: c.first_name,
    last_name: c.last_name,
    email: pii.email(c.email),
    phone: pii.phone(c.phone),
    status: c.status,
    reachable: CHANNELS.filter((ch) => c.reachable[REACH_KEY[ch]]),
  };
}

export const NOT_REACHABLE: Reachable = { email: false, sms: false, whatsapp: false };

export interface Audience {
  country: string;
  device: string;
}
export const audienceKey = (a: Audience) => `${a.country}|${a.device}`;

/**
 * Per audience (country, device), per channel: messages delivered (a DELIVERED event in the
 * ENGAGEMENT_WINDOW_DAYS before now) to the audience's contacts, and how many of them have an
 * OPENED, CLICKED or REPLIED event in that window too (one read of each contact's events in the
 * window on the (contact_id, occurred_at) index, grouped by message: no probe per message). The audience's contacts: those in the country linked to
 * one of the AUDIENCE_SAMPLE non-bot visitors on the device seen most recently (a fixed-size
 * sample keeps the cost flat: every identified visitor of a big market is ~200k at bench scale).
 */
export async function channelEngagement(db: DbHandle, org: Pick<OrgInfo, "id">, audiences: readonly Audience[], now: Date): Promise<Map<string, ChannelEngagement[]>> {
  const uniq = [...new Map(audiences.filter((a) => a.country !== "").map((a) => [audienceKey(a), a])).values()];
  const out = new Map<string, ChannelEngagement[]>(uniq.map((a) => [audienceKey(a), []]));
  if (uniq.length === 0) return out;
  const from = new Date(now.getTime() - ENGAGEMENT_WINDOW_DAYS * 86_400_000);
  // One statement per audience: with the country and device as plain parameters the planner sees
  // their frequency and walks visitors_identified_device_idx newest first (through an unnest of
  // all audiences it could not, and hash-joined every contact: 1 s at bench scale).
  await Promise.all(uniq.map(async (a) => {
    const rows = await db.$queryRaw<Array<{ channel: ChannelName; delivered: number; engaged: number }>>`
      with ac as (
        select distinct s.contact_id from (
          select v.contact_id from visitors v
            join contacts c on c.id = v.contact_id and c.organization_id = ${org.id}::uuid and c.country = ${a.country}
           where v.organization_id = ${org.id}::uuid and v.device = ${a.device}::"DeviceType" and v.contact_id is not null and not v.is_bot
           order by v.last_seen_at desc limit ${AUDIENCE_SAMPLE}) s
      ),
      m as (
        select e.channel, e.message_id, bool_or(e.type = 'DELIVERED') as delivered, bool_or(e.type in ('OPENED', 'CLICKED', 'REPLIED')) as engaged
          from ac join message_events e on e.contact_id = ac.contact_id and e.organization_id = ${org.id}::uuid
           and e.occurred_at >= ${from} and e.occurred_at <= ${now} and e.type in ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED')
         group by 1, 2
      )
      select m.channel::text as channel, count(*) filter (where delivered)::int as delivered, count(*) filter (where delivered and engaged)::int as engaged
        from m group by 1 having count(*) filter (where delivered) > 0 order by 1`;
    out.set(audienceKey(a), rows.map((r) => ({ channel: r.channel, delivered: r.delivered, engagement_rate: r.delivered ? r.engaged / r.delivered : 0 })));
  }));
  return out;
}

export const ChannelEngagementOut = z.object({ channel: z.string(), delivered: z.number().int(), engagement_rate: z.number() });
export const channelEngagementOut = (list: readonly ChannelEngagement[]) =>
  list.map((e) => ({ channel: e.channel, delivered: e.delivered, engagement_rate: roundRate(e.engagement_rate) }));
export const engagementText = (list: ReadonlyArray<{ channel: string; delivered: number; engagement_rate: number }>) =>
  list.length ? list.map((e) => `${e.channel} ${(e.engagement_rate * 100).toFixed(2)}% of ${e.delivered}`).join(", ") : "no deliveries";


export interface Candidate {
  id: string;
  device: string;
  country: string | null;
  contact_id: string | null;
  last_seen_at: Date;
}

/**
 * Active visitors (not bots, last seen at or after `since`), most recently seen first, a batch at a
 * time after `after`: the (organization_id, last_seen_at) index read backwards. Intent decays with
 * the time since the last visit, so this order lets the caller stop as soon as no later visitor
 * can reach the scores already found (see INTENT_BOUND).
 */
export async function candidateBatch(
  db: DbHandle, org: Pick<OrgInfo, "id">, since: Date, identifiedOnly: boolean, after: { t: Date; id: string } | null, size: number,
): Promise<Candidate[]> {
  return db.$queryRaw<Candidate[]>`
    select v.id::text, v.device::text, trim(v.country) as country, v.contact_id::text, v.last_seen_at
      from visitors v
     where v.organization_id = ${org.id}::uuid and v.last_seen_at >= ${since} and not v.is_bot
       ${identifiedOnly ? Prisma.sql`and v.contact_id is not null` : Prisma.empty}
       ${after ? Prisma.sql`and (v.last_seen_at, v.id) < (${after.t}::timestamptz, ${after.id}::uuid)` : Prisma.empty}
     order by v.last_seen_at desc, v.id desc limit ${size}`;
}

export async function activeCount(db: DbHandle, org: Pick<OrgInfo, "id">, since: Date, identifiedOnly: boolean): Promise<number> {
  const [r] = await db.$queryRaw<Array<{ n: number }>>`
    select count(*)::int as n from visitors v
     where v.organization_id = ${org.id}::uuid and v.last_seen_at >= ${since} and not v.is_bot
       ${identifiedOnly ? Prisma.sql`and v.contact_id is not null` : Prisma.empty}`;
  return r?.n ?? 0;
}
