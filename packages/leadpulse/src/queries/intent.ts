// What the intent model's next action needs beyond the features: the linked contacts (masked per
// role, reachable channels now) and this organization's engagement per channel for contacts in a
// country on a device. Shared by get_visitor and identify_high_intent_visitors, with the output
// schemas both use.
import type { DbHandle, OrgInfo, PiiPolicy } from "@marketsage/core";
import { CHANNELS, isReachable, roundRate, type ChannelName, type ConsentActionName, type ContactStatusName } from "@marketsage/domain";
import { z } from "zod";
import type { ChannelEngagement, NextAction, Reachable, ScoreResult } from "../intent/model.ts";

/** Engagement rates are measured over the messages delivered in this many days before now. */
export const ENGAGEMENT_WINDOW_DAYS = 90;

export const ENGAGEMENT_DEFINITION =
  `Channel engagement: this organization's messages delivered (a DELIVERED event) in the ${ENGAGEMENT_WINDOW_DAYS} days before now ` +
  "to contacts in the visitor's country who have a (non-bot) visitor on the visitor's device; rate = those messages with an " +
  "OPENED, CLICKED or REPLIED event by now / those messages, per channel.";

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

interface ContactRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  country: string;
  status: ContactStatusName;
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

/** Per (country, device): delivered and engaged messages per channel (ENGAGEMENT_DEFINITION). */
export async function channelEngagement(db: DbHandle, org: Pick<OrgInfo, "id">, audiences: readonly Audience[], now: Date): Promise<Map<string, ChannelEngagement[]>> {
  const uniq = [...new Map(audiences.map((a) => [audienceKey(a), a])).values()];
  const out = new Map<string, ChannelEngagement[]>(uniq.map((a) => [audienceKey(a), []]));
  if (uniq.length === 0) return out;
  const from = new Date(now.getTime() - ENGAGEMENT_WINDOW_DAYS * 86_400_000);
  const rows = await db.$queryRaw<Array<{ country: string; device: string; channel: ChannelName; delivered: number; engaged: number }>>`
    with a as (select * from unnest(${uniq.map((a) => a.country)}::text[], ${uniq.map((a) => a.device)}::text[]) as a(country, device)),
    cd as (
      select distinct a.country, a.device, c.id as contact_id
        from a
        join contacts c on c.organization_id = ${org.id}::uuid and c.country = a.country
        join visitors v on v.organization_id = ${org.id}::uuid and v.contact_id = c.id and v.device::text = a.device and not v.is_bot
    ),
    m as (
      select e.message_id, e.channel, e.contact_id,
             exists (select 1 from message_events x where x.message_id = e.message_id and x.organization_id = ${org.id}::uuid
                       and x.type in ('OPENED', 'CLICKED', 'REPLIED') and x.occurred_at <= ${now}) as engaged
        from (select distinct e.message_id, e.channel, e.contact_id from message_events e
               where e.organization_id = ${org.id}::uuid and e.type = 'DELIVERED' and e.occurred_at >= ${from} and e.occurred_at <= ${now}
                 and e.contact_id in (select contact_id from cd)) e
    )
    select cd.country, cd.device, m.channel::text as channel, count(*)::int as delivered, count(*) filter (where m.engaged)::int as engaged
      from m join cd on cd.contact_id = m.contact_id
     group by 1, 2, 3`;
  for (const r of rows) {
    out.get(audienceKey(r))?.push({ channel: r.channel, delivered: r.delivered, engagement_rate: r.delivered ? r.engaged / r.delivered : 0 });
  }
  return out;
}

export const ChannelEngagementOut = z.object({ channel: z.string(), delivered: z.number().int(), engagement_rate: z.number() });
export const channelEngagementOut = (list: readonly ChannelEngagement[]) =>
  list.map((e) => ({ channel: e.channel, delivered: e.delivered, engagement_rate: roundRate(e.engagement_rate) }));
export const engagementText = (list: ReadonlyArray<{ channel: string; delivered: number; engagement_rate: number }>) =>
  list.length ? list.map((e) => `${e.channel} ${(e.engagement_rate * 100).toFixed(2)}% of ${e.delivered}`).join(", ") : "no deliveries";

