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

/** The row's key columns from a session's source, medium and campaign ('' = not part of the key, or none). */
function keys(groupBy: SourceGrouping): { source: Prisma.Sql; medium: Prisma.Sql; campaign: Prisma.Sql } {
  switch (groupBy) {
    case "source":
      return { source: Prisma.sql`source`, medium: Prisma.sql`''`, campaign: Prisma.sql`''` };
    case "source_medium":
      return { source: Prisma.sql`source`, medium: Prisma.sql`medium`, campaign: Prisma.sql`''` };
    case "campaign":
      // A session with a UTM campaign is in its campaign's row; one without, in its source's.
      return { source: Prisma.sql`case when campaign = '' then source else '' end`, medium: Prisma.sql`''`, campaign: Prisma.sql`campaign` };
  }
}

export async function sourceTally(db: DbHandle, org: Pick<OrgInfo, "id" | "reportingCurrency">, q: SourceQuery): Promise<SourcesResult> {
  const orgId = Prisma.sql`${org.id}::uuid`;
  const k = keys(q.groupBy);
  // Source = marketsage_session_source(utm_source, referrer) — its UTM source, else its referrer's
  // host, else 'direct' — written out here so that the host (a regex) is computed once per distinct
  // referrer of the range rather than per session. '' stands for "none" in the keys until the output
  // (hashable joins). Conversions are attributed within the sessions of the visitors who converted:
  // each takes its visitor's conversions from its start up to the visitor's next session (every later
  // session of the visitor that starts before the range's end is in the range too).
  const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
    with r as materialized (
      select vs.id, vs.visitor_id, vs.started_at, vs.utm_source as us, vs.utm_medium as um, vs.utm_campaign as uc, coalesce(vs.referrer, '') as rf
        from visitor_sessions vs
       where vs.organization_id = ${orgId} and vs.started_at >= ${q.from} and vs.started_at < ${q.to}
         and not exists (select 1 from visitors b where b.id = vs.visitor_id and b.is_bot)),
    h as materialized (select rf, marketsage_referrer_host(rf) as host from (select distinct rf from r) z),
    s as materialized (
      select id, visitor_id, ${k.source} as ks, ${k.medium} as km, ${k.campaign} as kc
        from (select r.id, r.visitor_id, coalesce(nullif(lower(trim(r.us)), ''), h.host, 'direct') as source,
                     case when nullif(trim(r.us), '') is not null then coalesce(nullif(lower(trim(r.um)), ''), '(not set)')
                          when h.host is not null then 'referral' else '(none)' end as medium,
                     case when nullif(trim(r.us), '') is not null then coalesce(nullif(trim(r.uc), ''), '') else '' end as campaign
                from r join h using (rf)) y),
    x as materialized (
      select x.visitor_id, x.occurred_at, ${reportingAmountSql(org, Prisma.sql`x.value`, Prisma.sql`x.currency`, Prisma.sql`x.occurred_at`)} as amount
        from conversions x
       where x.organization_id = ${orgId} and x.visitor_id is not null and x.occurred_at >= ${q.from} and x.occurred_at < ${q.to}),
    cs as (
      select r.id, r.visitor_id, r.started_at, lead(r.started_at) over (partition by r.visitor_id order by r.started_at, r.id) as next_start
        from r where r.visitor_id in (select visitor_id from x)),
    c as (
      select cs.id, count(*)::int as n, sum(x.amount) as revenue, count(*) filter (where x.amount is null)::int as no_fx
        from cs join x on x.visitor_id = cs.visitor_id and x.occurred_at >= cs.started_at and (cs.next_start is null or x.occurred_at < cs.next_start)
       group by 1),
    kc as (select s.ks, s.km, s.kc, count(*)::int as converted, sum(c.n)::int as conversions, sum(c.revenue) as revenue, sum(c.no_fx)::int as no_fx
             from c join s using (id) group by 1, 2, 3),
    g as (
      select v.ks, v.km, v.kc, v.sessions, v.visitors, coalesce(kc.conversions, 0) as conversions, coalesce(kc.converted, 0) as converted,
             coalesce(kc.revenue, 0)::float8 as revenue, coalesce(kc.no_fx, 0) as no_fx,
             row_number() over (order by v.sessions desc, v.ks, v.km, v.kc) as ord
        from (select ks, km, kc, sum(n)::int as sessions, count(*)::int as visitors
                from (select ks, km, kc, visitor_id, count(*) as n from s group by 1, 2, 3, 4) kv group by 1, 2, 3) v
        left join kc using (ks, km, kc))
    select false as total, nullif(ks, '') as source, nullif(km, '') as medium, nullif(kc, '') as campaign, sessions, visitors, conversions, converted, revenue, no_fx, ord, 0 as groups
      from g where ord > ${q.offset} and ord <= ${q.offset + q.limit + 1}
    union all
    select true, null, null, null, coalesce(sum(sessions), 0)::int, (select count(*) from (select visitor_id from r group by 1) v)::int,
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
