// Independent reference figures for campaign-analytics tests: hand-written SQL over the base tables
// (messages, message_events, conversions), written from the words of metrics/definitions.ts and not
// from queries/campaign-counts.ts. Shape on purpose differs from the tool's query: counts start from
// the messages table (one row per OUTBOUND message, an EXISTS per kind of event), attribution picks
// the latest message with a window function, money is converted row by row.
//
// Used by the metrics and isolation tests here and by later tests of this package.

/** Runs one SQL statement and returns its rows (the tests' `q`). */
export type Query = <T = any>(text: string, params?: unknown[]) => Promise<T[]>;

export type Channel = "EMAIL" | "SMS" | "WHATSAPP";

export const REF_COUNT_KEYS = ["messages", "sent", "delivered", "failed", "bounced", "opened", "clicked", "replied", "unsubscribed", "converted"] as const;
export type RefCountKey = (typeof REF_COUNT_KEYS)[number];
export type RefCounts = Record<RefCountKey, number> & { conversions: number };

/** Written out here from the definitions' words, not imported: a change in the code must show up as a difference. */
export const REF_RATES = {
  delivery_rate: ["delivered", "sent"],
  open_rate: ["opened", "delivered"],
  click_rate: ["clicked", "delivered"],
  click_to_open_rate: ["clicked", "opened"],
  reply_rate: ["replied", "delivered"],
  conversion_rate: ["converted", "delivered"],
  unsubscribe_rate: ["unsubscribed", "delivered"],
  bounce_rate: ["bounced", "sent"],
  failure_rate: ["failed", "messages"],
} as const satisfies Record<string, readonly [RefCountKey, RefCountKey]>;
export type RefRateKey = keyof typeof REF_RATES;

/** Counts that do not exist on a channel (SMS has no opens or bounces, email no replies, WhatsApp no bounces). */
export const NOT_APPLICABLE: Record<Channel, readonly RefCountKey[]> = {
  EMAIL: ["replied"],
  SMS: ["opened", "bounced"],
  WHATSAPP: ["bounced"],
};

export interface RefCurrencyLine {
  currency: string;
  /** Original currency, unrounded. */
  amount: number;
  /** Reporting currency, unrounded; null when some of it has no stored rate. */
  converted: number | null;
}

export interface RefMoney {
  /** Reporting currency, unrounded: the sum of what could be converted. */
  total: number;
  lines: RefCurrencyLine[];
  incomplete: boolean;
}

export interface RefFigures {
  counts: RefCounts;
  revenue: RefMoney;
  cost: RefMoney;
}

export interface RefScope {
  orgId: string;
  campaignId: string;
  /** Omitted: the whole campaign; a string: only that variant (by its message, or for conversions by the latest attributed message). */
  variantId?: string;
  attributionDays: number;
}

/** The org's reporting currency, from organizations. */
export async function reportingCurrency(q: Query, orgId: string): Promise<string> {
  const [r] = await q<{ c: string }>(`select trim(reporting_currency) c from organizations where id = $1`, [orgId]);
  if (!r) throw new Error(`no organization ${orgId}`);
  return r.c;
}

/** Per-message counts: each OUTBOUND message of the campaign counts once per kind, however many events of that kind it has;
 *  an open, click, reply or unsubscribe proves delivery, a click proves an open. */
export async function refMessageCounts(q: Query, s: RefScope): Promise<Omit<RefCounts, "converted" | "conversions">> {
  const has = (cond: string) => `count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and ${cond}))::int`;
  const [r] = await q(
    `select count(*)::int as messages,
            ${has(`e.type not in ('QUEUED', 'FAILED')`)} as sent,
            ${has(`e.type in ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED')`)} as delivered,
            ${has(`e.type = 'FAILED'`)} as failed,
            ${has(`e.type = 'BOUNCED'`)} as bounced,
            ${has(`e.type in ('OPENED', 'CLICKED')`)} as opened,
            ${has(`e.type = 'CLICKED'`)} as clicked,
            ${has(`e.type = 'REPLIED'`)} as replied,
            ${has(`e.type = 'UNSUBSCRIBED'`)} as unsubscribed
       from messages m
      where m.organization_id = $1 and m.campaign_id = $2 and m.direction = 'OUTBOUND'
        and ($3::uuid is null or m.variant_id = $3::uuid)`,
    [s.orgId, s.campaignId, s.variantId ?? null],
  );
  return r;
}

/**
 * The attributed conversions: conversions naming the campaign, by a contact who had an OUTBOUND
 * message of that campaign created at or before the conversion and at most `attributionDays`
 * before it; each carries the variant of the latest such message.
 */
function attributedSql(): string {
  return `
    with eligible as (
      select x.id, x.contact_id, x.value, x.currency, x.occurred_at, m.variant_id,
             row_number() over (partition by x.id order by m.created_at desc, m.id desc) as nth
        from conversions x
        join messages m
          on m.organization_id = x.organization_id and m.campaign_id = x.campaign_id and m.contact_id = x.contact_id
       where x.organization_id = $1 and x.campaign_id = $2
         and m.direction = 'OUTBOUND'
         and m.created_at <= x.occurred_at
         and x.occurred_at <= m.created_at + make_interval(days => $3::int))
    select id, contact_id, value, trim(currency) as currency, occurred_at, variant_id
      from eligible where nth = 1 and ($4::uuid is null or variant_id = $4::uuid)`;
}

export async function refConversions(q: Query, s: RefScope): Promise<{ converted: number; conversions: number }> {
  const [r] = await q(`select count(distinct a.contact_id)::int converted, count(*)::int conversions from (${attributedSql()}) a`, [
    s.orgId,
    s.campaignId,
    s.attributionDays,
    s.variantId ?? null,
  ]);
  return r;
}

function moneyOf(rows: Array<{ currency: string; amount: string; converted: string | null; missing: boolean }>): RefMoney {
  const lines = rows.map((r) => ({ currency: r.currency, amount: Number(r.amount), converted: r.missing ? null : Number(r.converted) }));
  return { total: lines.reduce((t, l) => t + (l.converted ?? 0), 0), lines, incomplete: rows.some((r) => r.missing) };
}

/** Revenue: each attributed conversion converted at the rate of its own occurred_at. */
export async function refRevenue(q: Query, s: RefScope, reporting: string): Promise<RefMoney> {
  const rows = await q(
    `select a.currency, sum(a.value)::text amount, sum(a.fx)::text converted, bool_or(a.fx is null) missing
       from (select t.*, marketsage_fx(t.value, t.currency, $5, t.occurred_at) fx from (${attributedSql()}) t) a
      group by a.currency order by a.currency`,
    [s.orgId, s.campaignId, s.attributionDays, s.variantId ?? null, reporting],
  );
  return moneyOf(rows);
}

/** Cost: each OUTBOUND message's provider charge converted at the rate of its created_at. */
export async function refCost(q: Query, s: RefScope, reporting: string): Promise<RefMoney> {
  const rows = await q(
    `select a.currency, sum(a.cost)::text amount, sum(a.fx)::text converted, bool_or(a.fx is null) missing
       from (select trim(m.currency) currency, m.cost, marketsage_fx(m.cost, trim(m.currency), $4, m.created_at) fx
               from messages m
              where m.organization_id = $1 and m.campaign_id = $2 and m.direction = 'OUTBOUND' and m.cost is not null
                and ($3::uuid is null or m.variant_id = $3::uuid)) a
      group by a.currency order by a.currency`,
    [s.orgId, s.campaignId, s.variantId ?? null, reporting],
  );
  return moneyOf(rows);
}

export async function refFigures(q: Query, s: RefScope, reporting?: string): Promise<RefFigures> {
  const rc = reporting ?? (await reportingCurrency(q, s.orgId));
  // One after another: `q` may be a single connection.
  const m = await refMessageCounts(q, s);
  const c = await refConversions(q, s);
  return { counts: { ...m, ...c }, revenue: await refRevenue(q, s, rc), cost: await refCost(q, s, rc) };
}

/** A rate from reference counts: null when it does not exist on the channel or its denominator is 0. */
export function refRate(counts: RefCounts, key: RefRateKey, channel: Channel): number | null {
  const [num, den] = REF_RATES[key];
  if (NOT_APPLICABLE[channel].includes(num) || NOT_APPLICABLE[channel].includes(den)) return null;
  return counts[den] === 0 ? null : counts[num] / counts[den];
}

/** What list_campaigns returns for a filter, in its order: newest date first (sent, else scheduled, else created), then id. */
export async function refCampaignIds(
  q: Query,
  orgId: string,
  f: { channel?: Channel; status?: string[]; from?: Date; to?: Date; name?: string } = {},
): Promise<string[]> {
  const rows = await q<{ id: string }>(
    `select c.id::text id from campaigns c
      where c.organization_id = $1
        and ($2::text is null or c.channel::text = $2)
        and ($3::text[] is null or c.status::text = any($3::text[]))
        and ($4::timestamptz is null or coalesce(c.sent_at, c.scheduled_at, c.created_at) >= $4)
        and ($5::timestamptz is null or coalesce(c.sent_at, c.scheduled_at, c.created_at) < $5)
        and ($6::text is null or strpos(lower(c.name), lower($6)) > 0)
      order by coalesce(c.sent_at, c.scheduled_at, c.created_at) desc, c.id desc`,
    [orgId, f.channel ?? null, f.status ?? null, f.from ?? null, f.to ?? null, f.name ?? null],
  );
  return rows.map((r) => r.id);
}
