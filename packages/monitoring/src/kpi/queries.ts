// The KPI reads: one set-based statement per family of KPIs (contacts, engagement, messages,
// conversions, website), each grouped by bucket and over the whole window in one pass (grouping
// sets), so distinct counts (active contacts, visitors) are distinct per bucket and per window.
// A bucket is a local day of the organization's time zone, or 7 local days counted from the
// window's first day; PostgreSQL does the calendar (`at time zone`).
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { reportingAmountSql } from "@marketsage/domain";

export type Granularity = "day" | "week";

export interface Window {
  from: Date;
  to: Date;
  timeZone: string;
  /** null: the whole window only. */
  granularity: Granularity | null;
  /** With buckets: also the whole window (default). A series alone skips it (a distinct count over the window is the costly part). */
  total?: boolean;
}

/** A row per bucket (its first local day, "YYYY-MM-DD") and one for the whole window (bucket null). */
export type Grouped<T> = { buckets: Map<string, T>; total: T | undefined };

type Org = Pick<OrgInfo, "id" | "reportingCurrency">;

const localDay = (w: Window, col: Prisma.Sql) => Prisma.sql`((${col}) at time zone ${w.timeZone})::date`;
const firstDay = (w: Window) => Prisma.sql`((${w.from}::timestamptz) at time zone ${w.timeZone})::date`;

/** The local date a fact at `col` is bucketed under (null without buckets). */
function bucketOf(w: Window, col: Prisma.Sql): Prisma.Sql {
  if (w.granularity === null) return Prisma.sql`null::date`;
  if (w.granularity === "day") return localDay(w, col);
  return Prisma.sql`(${firstDay(w)} + ((${localDay(w, col)} - ${firstDay(w)}) / 7) * 7)`;
}

/** The instant a bucket (its local date `b`) starts, clipped to the window. */
const bucketStart = (w: Window, b: Prisma.Sql) => (w.granularity === null ? Prisma.sql`${w.from}::timestamptz` : Prisma.sql`greatest(${w.from}::timestamptz, (${b})::timestamp at time zone ${w.timeZone})`);
/** The instant a bucket ends, clipped to the window. */
const bucketEnd = (w: Window, b: Prisma.Sql) =>
  w.granularity === null ? Prisma.sql`${w.to}::timestamptz` : Prisma.sql`least(${w.to}::timestamptz, ((${b}) + ${w.granularity === "day" ? 1 : 7}::int)::timestamp at time zone ${w.timeZone})`;

const groupBy = (w: Window) =>
  w.granularity === null ? Prisma.sql`group by ()` : w.total === false ? Prisma.sql`group by b` : Prisma.sql`group by grouping sets ((b), ())`;
const label = (w: Window) => (w.granularity === null ? Prisma.sql`null::text as b, 1 as g` : Prisma.sql`to_char(b, 'YYYY-MM-DD') as b, grouping(b) as g`);

function grouped<R extends { b: string | null; g: number }, T>(rows: R[], f: (r: R) => T): Grouped<T> {
  const out: Grouped<T> = { buckets: new Map(), total: undefined };
  for (const r of rows) {
    if (Number(r.g) === 1) out.total = f(r);
    else out.buckets.set(r.b!, f(r));
  }
  return out;
}

const inWindow = (w: Window, col: Prisma.Sql) => Prisma.sql`${col} >= ${w.from} and ${col} < ${w.to}`;

export interface ContactTally {
  created: number;
}

/** Contacts created per bucket and in the window, and the organization's total at the window's end. */
export async function contactTallies(db: DbHandle, org: Org, w: Window): Promise<{ created: Grouped<ContactTally>; totalAtEnd: number }> {
  // The total now is the trigger-kept contact_counts; the contacts created since the window's end
  // (few for a window ending now) are taken off.
  const [rows, [end]] = await Promise.all([
    db.$queryRaw<Array<{ b: string | null; g: number; created: number }>>`
      select ${label(w)}, count(*)::int as created
        from (select ${bucketOf(w, Prisma.sql`c.created_at`)} as b from contacts c
               where c.organization_id = ${org.id}::uuid and ${inWindow(w, Prisma.sql`c.created_at`)}) x
       ${groupBy(w)}`,
    db.$queryRaw<Array<{ n: number }>>`
      select ((select coalesce(sum(n), 0) from contact_counts where organization_id = ${org.id}::uuid)
            - (select count(*) from contacts where organization_id = ${org.id}::uuid and created_at >= ${w.to}))::float8 as n`,
  ]);
  return { created: grouped(rows, (r) => ({ created: r.created })), totalAtEnd: Number(end!.n) };
}

/**
 * Active contacts: distinct contacts with an inbound engagement — an OPENED, CLICKED or REPLIED
 * message event, a website touchpoint as an identified visitor (touchpoints.contact_id), or a
 * conversion — in each bucket and in the window.
 */
export async function activeContacts(db: DbHandle, org: Org, w: Window): Promise<Grouped<number>> {
  const o = Prisma.sql`${org.id}::uuid`;
  // The whole local days inside the window [aDay, bDay) and the instants they span [a, b); the
  // partial days at its ends, [from, a) and [b, to), are read from the sources.
  const [d] = await db.$queryRaw<Array<{ a_day: string; b_day: string; a: Date; b: Date }>>`
    select to_char(a_day, 'YYYY-MM-DD') as a_day, to_char(b_day, 'YYYY-MM-DD') as b_day,
           a_day::timestamp at time zone ${w.timeZone} as a, b_day::timestamp at time zone ${w.timeZone} as b
      from (select case when (fd::timestamp at time zone ${w.timeZone}) = ${w.from}::timestamptz then fd else fd + 1 end as a_day, td as b_day
              from (select ((${w.from}::timestamptz) at time zone ${w.timeZone})::date as fd, ((${w.to}::timestamptz) at time zone ${w.timeZone})::date as td) x) y`;
  const whole = d!.a_day < d!.b_day;
  // A daily series of whole days only: the trigger-kept counts per day (migration monitoring_active_days).
  if (whole && w.granularity === "day" && w.total === false && d!.a.getTime() === w.from.getTime() && d!.b.getTime() === w.to.getTime()) {
    const rows = await db.$queryRaw<Array<{ b: string; g: number; n: number }>>`
      select to_char(day, 'YYYY-MM-DD') as b, 0 as g, sum(n)::int as n from contact_active_day_counts
       where organization_id = ${o} and day >= ${d!.a_day}::date and day < ${d!.b_day}::date
       group by day having sum(n) > 0`;
    return grouped(rows, (r) => r.n);
  }
  // Else the whole days' (day, contact) pairs from contact_active_days, with the partial days'
  // engagements from the sources, counted distinct per bucket and over the window.
  const a = whole ? d!.a : w.to;
  const b = whole ? d!.b : w.to;
  const edge = (col: Prisma.Sql) => Prisma.sql`((${col} >= ${w.from} and ${col} < ${a}) or (${col} >= ${b} and ${col} < ${w.to}))`;
  const rows = await db.$queryRaw<Array<{ b: string | null; g: number; n: number }>>`
    select ${label(w)}, count(distinct contact_id)::int as n from (
      select ${bucketOf(w, Prisma.sql`(d.day::timestamp at time zone ${w.timeZone})`)} as b, d.contact_id from contact_active_days d
       where d.organization_id = ${o} and d.day >= ${d!.a_day}::date and d.day < ${d!.b_day}::date and ${whole}
      union all
      select ${bucketOf(w, Prisma.sql`e.occurred_at`)}, e.contact_id from message_events e
       where e.organization_id = ${o} and e.type in ('OPENED', 'CLICKED', 'REPLIED') and ${edge(Prisma.sql`e.occurred_at`)} and e.contact_id is not null
      union all
      select ${bucketOf(w, Prisma.sql`t.occurred_at`)}, t.contact_id from touchpoints t
       where t.organization_id = ${o} and ${edge(Prisma.sql`t.occurred_at`)} and t.contact_id is not null
      union all
      select ${bucketOf(w, Prisma.sql`x.occurred_at`)}, x.contact_id from conversions x
       where x.organization_id = ${o} and ${edge(Prisma.sql`x.occurred_at`)} and x.contact_id is not null) a
    ${groupBy(w)}`;
  return grouped(rows, (r) => r.n);
}

export interface MessageTally {
  /** Provider-accepted, per channel. */
  sentEmail: number;
  sentSms: number;
  sentWhatsapp: number;
  sent: number;
  delivered: number;
  emailDelivered: number;
  emailOpened: number;
  clicked: number;
  /** Reporting currency, over the costs with an FX rate. */
  cost: number;
  costNoFx: number;
}

/** message_kpi_slots' slot length (migration monitoring_rollups): UTC-aligned 15 minutes. */
export const KPI_SLOT_MS = 15 * 60_000;

/**
 * The outbound messages created in each bucket and in the window, with the flags their events
 * give them up to now (campaign-analytics' marketsage_event_flags: any event but QUEUED and
 * FAILED = sent; DELIVERED or an open, click, reply or unsubscribe = delivered; OPENED or
 * CLICKED = opened), and their cost. Whole 15-minute slots come from message_kpi_slots (kept by
 * triggers, equal to the raw data: kpi.test); the partial slots at the window's ends are read
 * from messages and their events. A message's events are never before its creation (every writer
 * clamps them), so only the events since the window's start are read.
 */
export async function messageTallies(db: DbHandle, org: Org, w: Window, opt: { flags: boolean } = { flags: true }): Promise<Grouped<MessageTally>> {
  const o = Prisma.sql`${org.id}::uuid`;
  // The whole slots inside the window: [a, b). None when the window is shorter than a slot.
  let a = new Date(Math.ceil(w.from.getTime() / KPI_SLOT_MS) * KPI_SLOT_MS);
  let b = new Date(Math.floor(w.to.getTime() / KPI_SLOT_MS) * KPI_SLOT_MS);
  if (a >= b) a = b = w.to;
  // Cost alone needs no events.
  const events = opt.flags
    ? Prisma.sql`left join message_events e on e.message_id = m.id and e.organization_id = ${o} and e.occurred_at >= ${w.from}`
    : Prisma.sql`left join (select null::uuid as message_id, null::"MessageEventType" as type) e on false`;
  // Flags per message of the partial slots, then one row per (bucket, channel, currency, FX day)
  // from them and from the slots; then per (bucket, currency, FX day) so each stored rate is
  // looked up once per group.
  const rows = await db.$queryRaw<Array<{ b: string | null; g: number } & Record<string, number>>>`
    with f as (
      select m.id, m.channel, ${bucketOf(w, Prisma.sql`m.created_at`)} as b, m.cost, m.currency::text as currency, m.created_at::date as fx_day,
             coalesce(bool_or(e.type not in ('QUEUED', 'FAILED')), false) as sent,
             coalesce(bool_or(e.type in ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED')), false) as delivered,
             coalesce(bool_or(e.type in ('OPENED', 'CLICKED')), false) as opened,
             coalesce(bool_or(e.type = 'CLICKED'), false) as clicked
        from messages m
        ${events}
       where m.organization_id = ${o} and m.direction = 'OUTBOUND'
         and ((m.created_at >= ${w.from} and m.created_at < ${a}) or (m.created_at >= ${b} and m.created_at < ${w.to}))
       group by m.id),
    u as (
      select b, channel, currency, fx_day, count(*) filter (where sent) as sent, count(*) filter (where delivered) as delivered,
             count(*) filter (where opened) as opened, count(*) filter (where clicked) as clicked, count(cost) as costed, sum(cost) as cost
        from f group by 1, 2, 3, 4
      union all
      select ${bucketOf(w, Prisma.sql`s.slot`)}, s.channel, nullif(s.currency, ''), s.slot::date, sum(s.sent), sum(s.delivered), sum(s.opened), sum(s.clicked), sum(s.costed),
             sum(s.cost) filter (where s.costed > 0)
        from message_kpi_slots s
       where s.organization_id = ${o} and s.slot >= ${a} and s.slot < ${b}
       group by 1, 2, 3, 4),
    d as (
      select b, currency, fx_day,
             sum(sent) filter (where channel = 'EMAIL') as sent_email,
             sum(sent) filter (where channel = 'SMS') as sent_sms,
             sum(sent) filter (where channel = 'WHATSAPP') as sent_whatsapp,
             sum(sent) as sent,
             sum(delivered) as delivered,
             sum(delivered) filter (where channel = 'EMAIL') as email_delivered,
             sum(opened) filter (where channel = 'EMAIL') as email_opened,
             sum(clicked) as clicked,
             sum(cost) as cost, sum(costed) as costed
        from u group by b, currency, fx_day),
    r as (select d.*, ${reportingAmountSql(org, Prisma.sql`d.cost`, Prisma.sql`d.currency`, Prisma.sql`d.fx_day::timestamptz`)} as cost_r from d)
    select ${label(w)},
           coalesce(sum(sent_email), 0)::int as sent_email, coalesce(sum(sent_sms), 0)::int as sent_sms, coalesce(sum(sent_whatsapp), 0)::int as sent_whatsapp,
           coalesce(sum(sent), 0)::int as sent, coalesce(sum(delivered), 0)::int as delivered, coalesce(sum(email_delivered), 0)::int as email_delivered,
           coalesce(sum(email_opened), 0)::int as email_opened, coalesce(sum(clicked), 0)::int as clicked,
           coalesce(sum(cost_r), 0)::float8 as cost, coalesce(sum(costed) filter (where cost is not null and cost_r is null), 0)::int as cost_no_fx
      from r
    ${groupBy(w)}`;
  return grouped(rows, (r) => ({
    sentEmail: r.sent_email!, sentSms: r.sent_sms!, sentWhatsapp: r.sent_whatsapp!, sent: r.sent!, delivered: r.delivered!,
    emailDelivered: r.email_delivered!, emailOpened: r.email_opened!, clicked: r.clicked!, cost: Number(r.cost), costNoFx: r.cost_no_fx!,
  }));
}

export interface ConversionTally {
  conversions: number;
  revenue: number;
  revenueNoFx: number;
}

/** Conversions that occurred in each bucket and in the window, and their value in the reporting currency. */
export async function conversionTallies(db: DbHandle, org: Org, w: Window): Promise<Grouped<ConversionTally>> {
  const rows = await db.$queryRaw<Array<{ b: string | null; g: number; conversions: number; revenue: number; no_fx: number }>>`
    with d as (
      select ${bucketOf(w, Prisma.sql`x.occurred_at`)} as b, x.currency, x.occurred_at::date as fx_day, count(*) as n, sum(x.value) as value
        from conversions x where x.organization_id = ${org.id}::uuid and ${inWindow(w, Prisma.sql`x.occurred_at`)}
       group by 1, 2, 3),
    r as (select d.*, ${reportingAmountSql(org, Prisma.sql`d.value`, Prisma.sql`d.currency`, Prisma.sql`d.fx_day::timestamptz`)} as v from d)
    select ${label(w)}, coalesce(sum(n), 0)::int as conversions, coalesce(sum(v), 0)::float8 as revenue, coalesce(sum(n) filter (where v is null), 0)::int as no_fx
      from r
    ${groupBy(w)}`;
  return grouped(rows, (r) => ({ conversions: r.conversions, revenue: Number(r.revenue), revenueNoFx: r.no_fx }));
}

export interface VisitorTally {
  visitors: number;
  converting: number;
}

/**
 * Distinct visitors (bots left out) with a session started in each bucket and in the window, and
 * of them those with a conversion (conversions.visitor_id) in the same bucket or window. A
 * visitor counts once at its first session of the bucket: the session whose visitor's previous
 * session (prev_started_at, kept by leadpulse's triggers) started before the bucket.
 */
export async function visitorTallies(db: DbHandle, org: Org, w: Window): Promise<Grouped<VisitorTally>> {
  const o = Prisma.sql`${org.id}::uuid`;
  const visited = (visitor: Prisma.Sql, from: Prisma.Sql, to: Prisma.Sql) =>
    Prisma.sql`exists (select 1 from visitor_sessions s where s.visitor_id = ${visitor} and s.organization_id = ${o} and s.started_at >= ${from} and s.started_at < ${to})`;
  const notBot = (col: Prisma.Sql) => Prisma.sql`not exists (select 1 from visitors v where v.id = ${col} and v.is_bot)`;
  const [sessions, converting] = await Promise.all([
    db.$queryRaw<Array<{ b: string | null; g: number; in_bucket: number; in_window: number }>>`
      select ${label(w)},
             count(*) filter (where prev_started_at is null or prev_started_at < ${bucketStart(w, Prisma.sql`b`)})::int as in_bucket,
             count(*) filter (where prev_started_at is null or prev_started_at < ${w.from})::int as in_window
        from (select ${bucketOf(w, Prisma.sql`s.started_at`)} as b, s.prev_started_at from visitor_sessions s
               where s.organization_id = ${o} and ${inWindow(w, Prisma.sql`s.started_at`)} and ${notBot(Prisma.sql`s.visitor_id`)}) s
      ${groupBy(w)}`,
    db.$queryRaw<Array<{ b: string | null; g: number; in_bucket: number; in_window: number }>>`
      with x as (
        select distinct ${bucketOf(w, Prisma.sql`x.occurred_at`)} as b, x.visitor_id from conversions x
         where x.organization_id = ${o} and x.visitor_id is not null and ${inWindow(w, Prisma.sql`x.occurred_at`)} and ${notBot(Prisma.sql`x.visitor_id`)})
      select ${label(w)},
             count(distinct x.visitor_id) filter (where ${visited(Prisma.sql`x.visitor_id`, bucketStart(w, Prisma.sql`x.b`), bucketEnd(w, Prisma.sql`x.b`))})::int as in_bucket,
             count(distinct x.visitor_id) filter (where ${visited(Prisma.sql`x.visitor_id`, Prisma.sql`${w.from}::timestamptz`, Prisma.sql`${w.to}::timestamptz`)})::int as in_window
        from x
      ${groupBy(w)}`,
  ]);
  const conv = grouped(converting, (r) => (Number(r.g) === 1 ? r.in_window : r.in_bucket));
  const out = grouped(sessions, (r) => ({ visitors: Number(r.g) === 1 ? r.in_window : r.in_bucket, converting: 0 }));
  for (const [b, t] of out.buckets) t.converting = conv.buckets.get(b) ?? 0;
  if (out.total) out.total.converting = conv.total ?? 0;
  return out;
}
