// Figures about a set of contacts given as a SQL boolean over `c`: size, reachability per
// channel, growth and engagement over a range. Each is one statement scoped to the organization.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { reachFlags, roundRate, type Range } from "@marketsage/domain";
import type { LoadedSegment } from "../segments/membership.ts";

export interface Reach {
  members: number;
  email: number;
  sms: number;
  whatsapp: number;
}



export interface SegmentFigures {
  reach: Reach;
  /** By sign-up date over the range (rule segments' growth basis); null without a range. */
  byCreatedAt: { s: number; e: number; a: number } | null;
  engagement: Engagement | null;
  /** The newest members' ids (created_at desc, id desc), when a sample was asked for. */
  sampleIds: string[];
}


export interface FigureOptions {
  /** Sign-up counts (and engagement) over this range. */
  range?: Range;
  /** Also engagement over the range; `now` lets a range ending now use the latest-event columns. */
  engagement?: { now: Date };
  /** Also the ids of this many newest members. */
  sample?: number;
}

/**
 * Size, reachability, sign-up counts over the range and (optionally) engagement over the range,
 * in one statement: the members are read (or the rule evaluated) once, into a materialized set.
 *
 * Engagement for a range that ends now (the usual "last N days") reads each member's latest
 * delivery and engagement (contacts.last_delivered_at / last_engaged_at, kept by a trigger, and
 * copied onto member rows):
 * with no event at or after the range's end, "delivered in the range" is exactly "latest delivery
 * in the range". Should any member have such an event, or the range end before now, the events
 * themselves are aggregated.
 */
export async function segmentFigures(db: DbHandle, org: OrgInfo, segmentId: string, opts: FigureOptions): Promise<SegmentFigures> {
  const range = opts.range ?? null;
  const withEngagement = opts.engagement !== undefined;
  const now = opts.engagement?.now;
  const from = range?.from ?? new Date(0);
  const to = range?.to ?? new Date(0);
  const latest = withEngagement && range !== null && now !== undefined && to.getTime() >= now.getTime();
  const fromEvents = Prisma.sql`(select count(*) filter (where ev.delivered)::int as messaged, count(*) filter (where ev.delivered and ev.engaged)::int as engaged,
         0 as beyond
         from (select e.contact_id, bool_or(e.type = 'DELIVERED') as delivered, bool_or(e.type in ('OPENED','CLICKED','REPLIED')) as engaged
                 from message_events e
                where e.organization_id = ${org.id}::uuid and e.type in ('DELIVERED','OPENED','CLICKED','REPLIED')
                  and e.occurred_at >= ${from} and e.occurred_at < ${to} and e.contact_id is not null
                group by e.contact_id) ev
         join m on m.id = ev.contact_id)`;
  // The members with what the figures read: the segment's stored member rows (state kept by triggers).
  const members = Prisma.sql`select m.contact_id as id, m.contact_created_at as created_at, m.last_delivered_at, m.last_engaged_at,
                          ${reachFlags(Prisma.sql`m.reach`)}
                     from segment_members m
                    where m.segment_id = ${segmentId}::uuid and m.organization_id = ${org.id}::uuid and m.removed_at is null`;
  const inRange = (col: Prisma.Sql) => Prisma.sql`(${col} >= ${from} and ${col} < ${to})`;
  const eng = !withEngagement || !range
    ? Prisma.sql`(select null::int as messaged, null::int as engaged, 0 as beyond)`
    : latest
      ? Prisma.sql`(select count(*) filter (where ${inRange(Prisma.sql`last_delivered_at`)})::int as messaged,
                           count(*) filter (where ${inRange(Prisma.sql`last_delivered_at`)} and ${inRange(Prisma.sql`last_engaged_at`)})::int as engaged,
                           count(*) filter (where last_delivered_at >= ${to} or last_engaged_at >= ${to})::int as beyond
                      from m)`
      : fromEvents;
  const sample = opts.sample
    ? Prisma.sql`(select array_agg(t.id::text order by t.created_at desc, t.id desc)
                    from (select id, created_at from m order by created_at desc, id desc limit ${opts.sample}) t)`
    : Prisma.sql`null::text[]`;
  type Row = Reach & { s: number; e: number; a: number; messaged: number | null; engaged: number | null; beyond: number; sample_ids: string[] | null };
  const statement = (engagement: Prisma.Sql) => db.$queryRaw<Row[]>`
    with m as materialized (${members})
    select f.*, g.messaged, g.engaged, g.beyond, ${sample} as sample_ids
      from (select count(*)::int as members,
                   count(*) filter (where e_ok)::int as email, count(*) filter (where s_ok)::int as sms, count(*) filter (where w_ok)::int as whatsapp,
                   count(*) filter (where created_at < ${from})::int as s, count(*) filter (where created_at < ${to})::int as e,
                   count(*) filter (where created_at >= ${from} and created_at < ${to})::int as a
              from m) f
      cross join ${engagement} g`;
  let [r] = await statement(eng);
  if (latest && r!.beyond > 0) [r] = await statement(fromEvents);
  const row = r!;
  return {
    reach: { members: row.members, email: row.email, sms: row.sms, whatsapp: row.whatsapp },
    byCreatedAt: range ? { s: row.s, e: row.e, a: row.a } : null,
    engagement:
      row.messaged === null || row.engaged === null
        ? null
        : { members_messaged: row.messaged, members_engaged: row.engaged, engagement_rate: row.messaged ? roundRate(row.engaged / row.messaged) : null },
    sampleIds: row.sample_ids ?? [],
  };
}

export interface Growth {
  start_count: number;
  end_count: number;
  added: number;
  removed: number | null;
  net: number;
  growth_rate: number | null;
  basis: "membership_history" | "contact_created_at";
}

/** Membership counts over a range: start, end, added and (static lists) removed. */
export interface RangeCounts {
  s: number;
  e: number;
  a: number;
  r: number | null;
}

/** Growth from range counts: static lists from their membership history, rule segments from sign-up dates. */
export function growthOf(kind: LoadedSegment["kind"], c: RangeCounts): Growth {
  return {
    start_count: c.s,
    end_count: c.e,
    added: c.a,
    removed: kind === "static" ? c.r : null,
    net: c.e - c.s,
    growth_rate: c.s ? roundRate(c.e / c.s - 1) : null,
    basis: kind === "static" ? "membership_history" : "contact_created_at",
  };
}

/** Static lists: counts over the range from added_at / removed_at, in SQL (column prefix `m.`). */
export const historyCounts = (range: Range) => Prisma.sql`
  count(*) filter (where m.added_at < ${range.from} and (m.removed_at is null or m.removed_at >= ${range.from}))::int as s,
  count(*) filter (where m.added_at < ${range.to} and (m.removed_at is null or m.removed_at >= ${range.to}))::int as e,
  count(*) filter (where m.added_at >= ${range.from} and m.added_at < ${range.to})::int as a,
  count(*) filter (where m.removed_at >= ${range.from} and m.removed_at < ${range.to})::int as r`;

/**
 * Growth over the range: static lists from their membership history; rule segments from
 * `byCreatedAt` (segmentFigures): today's members by sign-up date, since leaving a rule segment
 * is only recorded from its first evaluation on.
 */
export async function growth(db: DbHandle, org: OrgInfo, seg: LoadedSegment, range: Range, byCreatedAt: { s: number; e: number; a: number }): Promise<Growth> {
  if (seg.kind !== "static") return growthOf(seg.kind, { ...byCreatedAt, r: null });
  const [r] = await db.$queryRaw<RangeCounts[]>`
    select ${historyCounts(range)} from segment_members m where m.segment_id = ${seg.row.id}::uuid and m.organization_id = ${org.id}::uuid`;
  return growthOf(seg.kind, r!);
}

export interface Engagement {
  members_messaged: number;
  members_engaged: number;
  engagement_rate: number | null;
}
