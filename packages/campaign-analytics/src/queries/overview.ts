// One view across channels: the outbound messages created in a range (campaign and transactional)
// with their unique-message counts, reach, engagement and cost, and the conversions attributed to
// the campaign messages among them. Counts follow metrics/definitions.ts; money is converted to the
// reporting currency at each message's (cost) or conversion's (revenue) day, per currency and day first.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { CHANNELS, type ChannelName } from "@marketsage/domain";
import { countApplies } from "../metrics/definitions.ts";
import { attributedToCohort, EVENT_LEAD, eventBitsSql, FLAG_BITS, typesFor, type FlagKey } from "./series.ts";

/** What "engaged" means on a channel: a delivered message with any of these (those that exist there). */
export const ENGAGEMENT_COUNTS = ["opened", "clicked", "replied"] as const satisfies readonly FlagKey[];
export const engagementOn = (channel: ChannelName) => ENGAGEMENT_COUNTS.filter((k) => countApplies(k, channel));

export interface ChannelTally {
  messages: number;
  sent: number;
  delivered: number;
  /** Distinct contacts with a delivered message. */
  reached: number;
  engaged: number;
  conversions: number;
  /** Distinct converting contacts. */
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

const zero = (): ChannelTally => ({ messages: 0, sent: 0, delivered: 0, reached: 0, engaged: 0, conversions: 0, converted: 0, cost: 0, revenue: 0 });

interface CountRow { channel: ChannelName | null; messages: number; sent: number; delivered: number; reached: number; engaged: number }
interface ConvRow { channel: ChannelName | null; conversions: number | null; converted: number | null; amount: string | null; missing: number }
interface MoneyRow { channel: ChannelName; amount: string | null; missing: number }

export async function channelOverview(
  db: DbHandle,
  org: Pick<OrgInfo, "id" | "reportingCurrency">,
  o: { from: Date; to: Date; attributionDays: number },
): Promise<Overview> {
  const flags: FlagKey[] = ["sent", "delivered", ...ENGAGEMENT_COUNTS];
  const bit = (k: FlagKey) => Prisma.raw(String(FLAG_BITS[k]));
  const engagedMask = Prisma.join(
    CHANNELS.map((c) => Prisma.sql`when ${Prisma.raw(`'${c}'`)} then ${Prisma.raw(String(engagementOn(c).reduce((m, k) => m | FLAG_BITS[k], 0)))}`),
    " ",
  );
  const inRange = Prisma.sql`m.organization_id = ${org.id}::uuid and m.created_at >= ${o.from} and m.created_at < ${o.to} and m.direction = 'OUTBOUND'`;
  const rc = org.reportingCurrency;
  const window = `${o.attributionDays} days`;
  const attributed = attributedToCohort(org.id, { from: o.from, to: o.to, window, channels: CHANNELS });

  const [counts, conversions, cost] = await Promise.all([
    db.$queryRaw<CountRow[]>`
      with per_message as (
        select m.channel, m.contact_id, coalesce(bit_or(${eventBitsSql(flags)}), 0) f
          from messages m
          left join message_events e on e.message_id = m.id and e.organization_id = m.organization_id
                and e.occurred_at >= ${o.from}::timestamptz - ${EVENT_LEAD}::interval and e.type = any(${typesFor(flags)}::"MessageEventType"[])
         where ${inRange}
         group by m.id)
      select channel::text, count(*)::int messages, count(*) filter (where f & ${bit("sent")} <> 0)::int sent,
             count(*) filter (where f & ${bit("delivered")} <> 0)::int delivered,
             count(distinct contact_id) filter (where f & ${bit("delivered")} <> 0)::int reached,
             count(*) filter (where f & ${bit("delivered")} <> 0 and f & (case channel ${engagedMask} else 0 end) <> 0)::int engaged
        from per_message group by grouping sets ((channel), ())`,
    // Counts and revenue of the attributed conversions in one pass over them (the CTE is read twice, computed once).
    db.$queryRaw<ConvRow[]>`
      with a as materialized (${attributed}),
           g as (select channel, trim(currency) cur, occurred_at::date d, sum(value) amt from a group by 1, 2, 3),
           x as (select channel, marketsage_fx(amt, cur, ${rc}, d::timestamptz) conv from g)
      select channel::text, count(*)::int conversions, count(distinct contact_id)::int converted, null::text amount, 0 missing
        from a group by grouping sets ((channel), ())
      union all
      select channel::text, null, null, sum(conv)::text, count(*) filter (where conv is null)::int from x group by channel`,
    db.$queryRaw<MoneyRow[]>`
      with g as (
        select m.channel, trim(m.currency) cur, m.created_at::date d, sum(m.cost) amt
          from messages m where ${inRange} and m.cost is not null and m.currency is not null group by 1, 2, 3),
           x as (select channel, marketsage_fx(amt, cur, ${rc}, d::timestamptz) conv from g)
      select channel::text, sum(conv)::text amount, count(*) filter (where conv is null)::int missing from x group by channel`,
  ]);

  const channels = new Map<ChannelName, ChannelTally>(CHANNELS.map((c) => [c, zero()]));
  const total = zero();
  const at = (c: ChannelName | null) => (c === null ? total : channels.get(c)!);
  for (const r of counts) Object.assign(at(r.channel), { messages: r.messages, sent: r.sent, delivered: r.delivered, reached: r.reached, engaged: r.engaged });
  for (const r of conversions) if (r.conversions !== null) Object.assign(at(r.channel), { conversions: r.conversions, converted: r.converted });
  let fxIncomplete = false;
  const addMoney = (rows: MoneyRow[], key: "cost" | "revenue") => {
    for (const r of rows) {
      const amount = Number(r.amount ?? 0);
      at(r.channel)[key] = amount;
      total[key] += amount;
      if (r.missing) fxIncomplete = true;
    }
  };
  addMoney(cost, "cost");
  addMoney(conversions.filter((r): r is ConvRow & MoneyRow => r.conversions === null && r.channel !== null), "revenue");
  return { channels, total, fxIncomplete };
}
