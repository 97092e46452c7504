// get_traffic_sources' read: the sessions that started in [from, to) (bots left out) grouped by
// source, source and medium, or campaign, with the website conversions attributed to them and
// their revenue in the reporting currency, plus a totals row, in one statement.
//
// Attribution: a conversion with a visitor (conversions.visitor_id) belongs to that visitor's
// latest session started at or before it (ties by id), so it counts once; it counts here when that
// session is in the range and the conversion happened before the range's end. Read as: each of the
// range's sessions takes its visitor's conversions from its start up to the visitor's next session
// (ordered by start, then id).
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { reportingAmountSql } from "@marketsage/domain";

export type SourceGrouping = "source" | "source_medium" | "campaign";

export interface SourceQuery {
  from: Date;
  to: Date;
  groupBy: SourceGrouping;
  offset: number;
  limit: number;
}

export interface SourceTally {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  sessions: number;
  visitors: number;
  conversions: number;
  convertedSessions: number;
  /** Reporting currency, over the conversions with an FX rate. */
  revenue: number;
  /** Conversions without an FX rate (left out of revenue). */
  noFx: number;
}

export interface SourcesResult {
  rows: SourceTally[];
  total: SourceTally;
  groups: number;
}

/**
 * The row's key columns from session alias `a` ('' = not part of the key, or none), and the
 * column holding the start of the visitor's previous session with the same key: a visitor counts
 * once in the range, at the session whose previous same-key session started before it.
 */
function keys(groupBy: SourceGrouping, a: string): { source: Prisma.Sql; medium: Prisma.Sql; campaign: Prisma.Sql; prev: Prisma.Sql } {
  const c = (col: string) => Prisma.raw(`${a}.${col}`);
  switch (groupBy) {
    case "source":
      return { source: c("source"), medium: Prisma.sql`''`, campaign: Prisma.sql`''`, prev: c("prev_source_at") };
    case "source_medium":
      return { source: c("source"), medium: c("medium"), campaign: Prisma.sql`''`, prev: c("prev_medium_at") };
    case "campaign":
      // A session with a UTM campaign is in its campaign's row; one without, in its source's.
      return { source: Prisma.sql`case when ${c("campaign")} = '' then ${c("source")} else '' end`, medium: Prisma.sql`''`, campaign: c("campaign"), prev: c("prev_campaign_at") };
  }
}

export async function sourceTally(db: DbHandle, org: Pick<OrgInfo, "id" | "reportingCurrency">, q: SourceQuery): Promise<SourcesResult> {
  const orgId = Prisma.sql`${org.id}::uuid`;
  const k = keys(q.groupBy, "vs");
  const kp = keys(q.groupBy, "p");
  // The sessions' keys (source, medium, campaign: stored generated columns) and their visitors'
  // previous sessions (kept by triggers) are read index-only with the range's sessions, so sessions
  // and visitors per key are one pass. '' stands for "none" in the keys until the output (hashable
  // joins). A conversion counts when its session (its visitor's latest started at or before it,
  // ties by id) is in the range, so it is the latest of its visitor's sessions started in
  // [from, conversion]: a join of the range's conversions with the range's sessions (a parallel
  // hash join at bench scale; probing each conversion's latest session was 6 µs a conversion).
  const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
    with v as (
      select ${k.source} as ks, ${k.medium} as km, ${k.campaign} as kc, count(*)::int as sessions,
             count(*) filter (where ${k.prev} is null or ${k.prev} < ${q.from})::int as visitors,
             count(*) filter (where vs.prev_started_at is null or vs.prev_started_at < ${q.from})::int as visitors_any
        from visitor_sessions vs
       where vs.organization_id = ${orgId} and vs.started_at >= ${q.from} and vs.started_at < ${q.to}
         and not exists (select 1 from visitors b where b.id = vs.visitor_id and b.is_bot)
       group by 1, 2, 3),
    x as (
      select distinct on (x.id) p.id as sid, ${kp.source} as ks, ${kp.medium} as km, ${kp.campaign} as kc,
             ${reportingAmountSql(org, Prisma.sql`x.value`, Prisma.sql`x.currency`, Prisma.sql`x.occurred_at`)} as amount
        from conversions x
        join visitor_sessions p on p.visitor_id = x.visitor_id and p.organization_id = ${orgId}
                               and p.started_at >= ${q.from} and p.started_at < ${q.to} and p.started_at <= x.occurred_at
       where x.organization_id = ${orgId} and x.visitor_id is not null and x.occurred_at >= ${q.from} and x.occurred_at < ${q.to}
         and not exists (select 1 from visitors b where b.id = x.visitor_id and b.is_bot)
       order by x.id, p.started_at desc, p.id desc),
    kc as (select ks, km, kc, count(distinct sid)::int as converted, count(*)::int as conversions, sum(amount) as revenue,
                  count(*) filter (where amount is null)::int as no_fx
             from x group by 1, 2, 3),
    g as (
      select v.ks, v.km, v.kc, v.sessions, v.visitors, v.visitors_any, coalesce(kc.conversions, 0) as conversions, coalesce(kc.converted, 0) as converted,
             coalesce(kc.revenue, 0)::float8 as revenue, coalesce(kc.no_fx, 0) as no_fx,
             row_number() over (order by v.sessions desc, v.ks, v.km, v.kc) as ord
        from v left join kc using (ks, km, kc))
    select false as total, nullif(ks, '') as source, nullif(km, '') as medium, nullif(kc, '') as campaign, sessions, visitors, conversions, converted, revenue, no_fx, ord, 0 as groups
      from g where ord > ${q.offset} and ord <= ${q.offset + q.limit + 1}
    union all
    select true, null, null, null, coalesce(sum(sessions), 0)::int, coalesce(sum(visitors_any), 0)::int,
           coalesce(sum(conversions), 0)::int, coalesce(sum(converted), 0)::int, coalesce(sum(revenue), 0)::float8, coalesce(sum(no_fx), 0)::int, null, count(*)::int
      from g
     order by total desc, ord`;
  const tally = (r: Record<string, unknown>): SourceTally => ({
    source: (r.source as string | null) ?? null,
    medium: (r.medium as string | null) ?? null,
    campaign: (r.campaign as string | null) ?? null,
    sessions: Number(r.sessions),
    visitors: Number(r.visitors),
    conversions: Number(r.conversions),
    convertedSessions: Number(r.converted),
    revenue: Number(r.revenue),
    noFx: Number(r.no_fx),
  });
  const totalRow = rows.find((r) => r.total === true);
  return {
    total: tally(totalRow!),
    rows: rows.filter((r) => r.total !== true).map(tally),
    groups: Number(totalRow!.groups),
  };
}
