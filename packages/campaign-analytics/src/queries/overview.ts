// One view across channels: the campaigns dated in a range with their figures to date (the same
// tallies as get_campaign_metrics, summed per channel), and the contacts each channel reached in
// the range (a delivery of any message, campaign or transactional).
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { CHANNELS, type ChannelName } from "@marketsage/domain";
import { campaignTallies, emptyTally, tallyKey } from "./campaign-counts.ts";

export interface ChannelTally {
  campaigns: number;
  messages: number;
  sent: number;
  delivered: number;
  /** Distinct contacts with a delivery on the channel in the range. */
  reached: number;
  /** Delivered messages opened, clicked or replied. */
  engaged: number;
  conversions: number;
  /** Converting contacts, per campaign (a contact converting from two campaigns counts twice). */
  converted: number;
  /** Reporting currency, over the amounts with an FX rate. */
  cost: number;
  revenue: number;
}

export interface Overview {
  channels: Map<ChannelName, ChannelTally>;
  total: ChannelTally;
  /** Some amount had no FX rate and is left out. */
  fxIncomplete: boolean;
}

const zero = (): ChannelTally => ({ campaigns: 0, messages: 0, sent: 0, delivered: 0, reached: 0, engaged: 0, conversions: 0, converted: 0, cost: 0, revenue: 0 });

/**
 * Contacts reached per channel: distinct contacts with a DELIVERED event in [from, to). A range
 * that ends now reads each contact's latest delivery per channel (contact_facts, kept by
 * triggers): "latest delivery at or after from" is the same set, without the event history.
 */
async function reached(db: DbHandle, org: Pick<OrgInfo, "id">, from: Date, to: Date, now: Date): Promise<Map<ChannelName | "ALL", number>> {
  if (to.getTime() >= now.getTime()) {
    // A latest delivery at or after `to` (a provider's clock ahead of ours) does not prove one in
    // the range: those few contacts are looked up in their own events.
    const inRange = (channel: Prisma.Sql | null) => Prisma.sql`exists (select 1 from message_events e
      where e.contact_id = f.id and e.organization_id = f.organization_id and e.type = 'DELIVERED'
        ${channel ? Prisma.sql`and e.channel = ${channel}` : Prisma.empty} and e.occurred_at >= ${from} and e.occurred_at < ${to})`;
    // CASE fixes the order: the event lookup runs only for those few (an OR let it run for every row: 7 s).
    const reach = (latest: Prisma.Sql, channel: Prisma.Sql | null) =>
      Prisma.sql`count(*) filter (where case when ${latest} is null or ${latest} < ${from} then false when ${latest} < ${to} then true else ${inRange(channel)} end)::int`;
    const [r] = await db.$queryRaw<Array<{ email: number; sms: number; whatsapp: number; all: number }>>`
      select ${reach(Prisma.sql`f.email_delivered_at`, Prisma.sql`'EMAIL'::"Channel"`)} email,
             ${reach(Prisma.sql`f.sms_delivered_at`, Prisma.sql`'SMS'::"Channel"`)} sms,
             ${reach(Prisma.sql`f.whatsapp_delivered_at`, Prisma.sql`'WHATSAPP'::"Channel"`)} whatsapp,
             ${reach(Prisma.sql`greatest(f.email_delivered_at, f.sms_delivered_at, f.whatsapp_delivered_at)`, null)} "all"
        from contact_facts f where f.organization_id = ${org.id}::uuid`;
    return new Map([["EMAIL", r!.email], ["SMS", r!.sms], ["WHATSAPP", r!.whatsapp], ["ALL", r!.all]]);
  }
  const rows = await db.$queryRaw<Array<{ channel: ChannelName | null; n: number }>>`
    select channel::text, count(distinct contact_id)::int n from message_events
     where organization_id = ${org.id}::uuid and type = 'DELIVERED' and occurred_at >= ${from} and occurred_at < ${to} and contact_id is not null
     group by grouping sets ((channel), ())`;
  return new Map(rows.map((r) => [r.channel ?? "ALL", r.n]));
}

export async function channelOverview(
  db: DbHandle,
  org: Pick<OrgInfo, "id" | "reportingCurrency">,
  q: { from: Date; to: Date; now: Date; attributionDays: number },
): Promise<Overview> {
  const date = Prisma.sql`coalesce(c.sent_at, c.scheduled_at, c.created_at)`;
  const campaigns = await db.$queryRaw<Array<{ id: string; channel: ChannelName }>>`
    select c.id::text, c.channel::text from campaigns c
     where c.organization_id = ${org.id}::uuid and ${date} >= ${q.from} and ${date} < ${q.to}`;
  const [tallies, reach] = await Promise.all([
    campaignTallies(db, org, campaigns.map((c) => c.id), { variants: false, attributionDays: q.attributionDays }),
    reached(db, org, q.from, q.to, q.now),
  ]);
  const out: Overview = { channels: new Map(CHANNELS.map((c) => [c, zero()])), total: zero(), fxIncomplete: false };
  for (const c of campaigns) {
    const t = tallies.get(tallyKey(c.id)) ?? emptyTally();
    out.fxIncomplete ||= t.revenue.incomplete || t.cost.incomplete;
    for (const into of [out.channels.get(c.channel)!, out.total]) {
      into.campaigns++;
      into.messages += t.counts.messages;
      into.sent += t.counts.sent;
      into.delivered += t.counts.delivered;
      into.engaged += t.counts.engaged;
      into.conversions += t.counts.conversions;
      into.converted += t.counts.converted;
      into.cost += t.cost.total;
      into.revenue += t.revenue.total;
    }
  }
  for (const ch of CHANNELS) out.channels.get(ch)!.reached = reach.get(ch) ?? 0;
  // A contact reached on two channels is one contact: the total's reach is not the channels' sum.
  out.total.reached = reach.get("ALL") ?? 0;
  return out;
}
