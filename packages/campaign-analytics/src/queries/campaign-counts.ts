// The per-campaign (and per-variant) counts, money and attributed conversions of a set of
// campaigns, from message_events, messages and conversions at call time (metrics/definitions.ts
// says what each count means). One round trip per table; every query is scoped to the organization.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import type { CountKey } from "../metrics/definitions.ts";

export type Counts = Record<CountKey, number> & {
  conversions: number;
  /** Messages opened, clicked or replied (the channel overview's engagement). */
  engaged: number;
};

export interface CurrencyAmount {
  currency: string;
  /** In the original currency. */
  amount: number;
  /** In the reporting currency; null when a rate is missing for some of it. */
  converted: number | null;
}

export interface MoneyTotals {
  /** In the reporting currency, over the amounts that could be converted. */
  total: number;
  /** The original currencies (largest first), with what each came to. */
  currencies: CurrencyAmount[];
  /** True when some amount had no stored FX rate and is left out of total. */
  incomplete: boolean;
}

export interface Tally {
  counts: Counts;
  revenue: MoneyTotals;
  cost: MoneyTotals;
}

/** campaign_stats.variant_key of messages outside any variant. */
export const NO_VARIANT = "00000000-0000-0000-0000-000000000000";

/** Key of a campaign's total ("<campaign>") or one of its variants ("<campaign>/<variant>"; "-" for messages outside any variant). */
export const tallyKey = (campaignId: string, variantId?: string | null) => (variantId === undefined ? campaignId : `${campaignId}/${variantId ?? "-"}`);

const zeroCounts = (): Counts => ({
  messages: 0, sent: 0, delivered: 0, failed: 0, bounced: 0, opened: 0, clicked: 0, replied: 0, unsubscribed: 0, converted: 0, conversions: 0, engaged: 0,
});
const zeroMoney = (): MoneyTotals => ({ total: 0, currencies: [], incomplete: false });
export const emptyTally = (): Tally => ({ counts: zeroCounts(), revenue: zeroMoney(), cost: zeroMoney() });

interface CountRow {
  campaign_id: string;
  variant_id: string | null;
  total: boolean;
  sent: number; delivered: number; failed: number; bounced: number; opened: number; clicked: number; replied: number; unsubscribed: number; engaged: number;
}
interface MoneyRow { campaign_id: string; variant_id: string | null; total: boolean; currency: string; amount: string; converted: string | null; missing: number }
/** A count row (is_money false: currency and amounts null) or a revenue row per currency. */
interface ConversionRow extends MoneyRow { is_money: boolean; converted_contacts: number; conversions: number }

/**
 * Counts, revenue and cost for each campaign in `ids` (key tallyKey(id)) and, with `variants`,
 * for each of its variants (tallyKey(id, variant)). Campaigns without messages get zero tallies.
 */
export async function campaignTallies(
  db: DbHandle,
  org: Pick<OrgInfo, "id" | "reportingCurrency">,
  ids: readonly string[],
  opts: { variants: boolean; attributionDays: number; conversions?: boolean; cost?: boolean },
): Promise<Map<string, Tally>> {
  const out = new Map<string, Tally>();
  for (const id of ids) out.set(tallyKey(id), emptyTally());
  if (!ids.length) return out;
  const sets = opts.variants ? Prisma.sql`grouping sets ((campaign_id), (campaign_id, variant_key))` : Prisma.sql`campaign_id`;
  const moneySets = opts.variants ? Prisma.sql`grouping sets ((campaign_id, cur), (campaign_id, variant_key, cur))` : Prisma.sql`campaign_id, cur`;
  const totalFlag = opts.variants ? Prisma.sql`grouping(variant_key) = 1` : Prisma.sql`true`;
  const variantCol = opts.variants ? Prisma.sql`nullif(variant_key, ${NO_VARIANT}::uuid)::text` : Prisma.sql`null::text`;
  const rc = org.reportingCurrency;
  const window = `${opts.attributionDays} days`;

  // Message and event counts come from campaign_stats / campaign_costs (migration campaign_stats:
  // kept by triggers in the writing transaction, proven equal to the raw rows by the tests);
  // conversions are read raw, since their attribution depends on the window asked for.
  const conversionSets = opts.variants
    ? Prisma.sql`grouping sets ((campaign_id), (campaign_id, variant_key), (campaign_id, cur), (campaign_id, variant_key, cur))`
    : Prisma.sql`grouping sets ((campaign_id), (campaign_id, cur))`;
  const [messages, counts, conversionRows, cost] = await Promise.all([
    db.$queryRaw<Array<{ campaign_id: string; variant_id: string | null; total: boolean; messages: number }>>`
      select campaign_id::text, ${variantCol} as variant_id, ${totalFlag} as total, sum(messages)::int messages
        from campaign_costs
       where organization_id = ${org.id}::uuid and campaign_id = any(${ids}::uuid[])
       group by ${sets}`,
    db.$queryRaw<CountRow[]>`
      select campaign_id::text, ${variantCol} as variant_id, ${totalFlag} as total,
             sum(sent)::int sent, sum(delivered)::int delivered, sum(failed)::int failed, sum(bounced)::int bounced, sum(opened)::int opened,
             sum(clicked)::int clicked, sum(replied)::int replied, sum(unsubscribed)::int unsubscribed, sum(engaged)::int engaged
        from campaign_stats
       where organization_id = ${org.id}::uuid and campaign_id = any(${ids}::uuid[])
       group by ${sets}`,
    // A conversion counts for the campaign it names when the converting contact had a message of
    // that campaign sent at most the window before it (the latest such message decides the variant).
    // One pass gives the counts (rows with cur null) and the money per currency.
    opts.conversions === false ? Promise.resolve([]) : db.$queryRaw<ConversionRow[]>`
      with attributed as (${attributedConversions(org.id, ids, window)}),
           g as (select campaign_id, coalesce(variant_id, ${NO_VARIANT}::uuid) variant_key, contact_id, trim(currency) cur,
                        (occurred_at at time zone 'UTC')::date d, value from attributed),
           days as (select cur, d, marketsage_fx(1, cur, ${rc}, d::timestamptz) rate from (select distinct cur, d from g) u)
      select campaign_id::text, ${variantCol} as variant_id, ${totalFlag} as total, grouping(cur) = 0 as is_money, cur as currency,
             count(distinct contact_id)::int converted_contacts, count(*)::int conversions,
             sum(value)::text amount, sum(value * rate)::text converted, count(*) filter (where rate is null)::int missing
        from g join days using (cur, d) group by ${conversionSets}`,
    opts.cost === false ? Promise.resolve([]) : db.$queryRaw<MoneyRow[]>`
      with g as (
        select campaign_id, variant_key, currency cur, day, sum(amount) amt
          from campaign_costs
         where organization_id = ${org.id}::uuid and campaign_id = any(${ids}::uuid[]) and currency <> ''
         group by 1, 2, 3, 4 having sum(messages) <> 0),
           x as (select g.*, marketsage_fx(amt, cur, ${rc}, day::timestamptz) conv from g)
      select campaign_id::text, ${variantCol} as variant_id, ${totalFlag} as total, cur as currency,
             sum(amt)::text amount, sum(conv)::text converted, count(*) filter (where conv is null)::int missing
        from x group by ${moneySets}`,
  ]);

  const at = (campaignId: string, variantId: string | null, total: boolean) => {
    const key = total ? tallyKey(campaignId) : tallyKey(campaignId, variantId);
    let t = out.get(key);
    if (!t) out.set(key, (t = emptyTally()));
    return t;
  };
  for (const r of counts) {
    const c = at(r.campaign_id, r.variant_id, r.total).counts;
    c.sent = r.sent; c.delivered = r.delivered; c.failed = r.failed; c.bounced = r.bounced;
    c.opened = r.opened; c.clicked = r.clicked; c.replied = r.replied; c.unsubscribed = r.unsubscribed; c.engaged = r.engaged;
  }
  for (const r of messages) at(r.campaign_id, r.variant_id, r.total).counts.messages = r.messages;
  for (const r of conversionRows.filter((x) => !x.is_money)) {
    const c = at(r.campaign_id, r.variant_id, r.total).counts;
    c.converted = r.converted_contacts;
    c.conversions = r.conversions;
  }
  const addMoney = (rows: MoneyRow[], pick: (t: Tally) => MoneyTotals) => {
    for (const r of rows) {
      const m = pick(at(r.campaign_id, r.variant_id, r.total));
      const converted = r.missing ? null : Number(r.converted);
      m.currencies.push({ currency: r.currency, amount: Number(r.amount), converted });
      if (r.missing) m.incomplete = true;
      m.total += converted ?? 0;
    }
  };
  addMoney(conversionRows.filter((x) => x.is_money), (t) => t.revenue);
  addMoney(cost, (t) => t.cost);
  for (const t of out.values()) for (const m of [t.revenue, t.cost]) m.currencies.sort((a, b) => (b.converted ?? 0) - (a.converted ?? 0) || a.currency.localeCompare(b.currency));
  return out;
}

/** Conversions of the given campaigns with the message they are attributed to (SQL, for a CTE). */
export function attributedConversions(orgId: string, ids: readonly string[], window: string): Prisma.Sql {
  return Prisma.sql`
    select x.id, x.contact_id, x.value, x.currency, x.occurred_at, m.campaign_id, m.variant_id
      from conversions x
      cross join lateral (
        select m.campaign_id, m.variant_id from messages m
         where m.organization_id = x.organization_id and m.campaign_id = x.campaign_id and m.contact_id = x.contact_id
           and m.direction = 'OUTBOUND' and m.created_at <= x.occurred_at and x.occurred_at <= m.created_at + ${window}::interval
         order by m.created_at desc limit 1) m
     where x.organization_id = ${orgId}::uuid and x.campaign_id = any(${ids}::uuid[]) and x.contact_id is not null`;
}
