// get_traffic_sources' read: the sessions that started in [from, to) (bots left out) grouped by
// source, source and medium, or campaign, with the website conversions attributed to them and
// their revenue in the reporting currency, plus a totals row, in one statement.
//
// Attribution: a conversion with a visitor (conversions.visitor_id) belongs to that visitor's
// latest session started at or before it (ties by id), so it counts once; it counts here when that
// session is in the range and the conversion happened before the range's end.
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

function keys(groupBy: SourceGrouping): { source: Prisma.Sql; medium: Prisma.Sql; campaign: Prisma.Sql } {
  switch (groupBy) {
    case "source":
      return { source: Prisma.sql`s.source`, medium: Prisma.sql`null::text`, campaign: Prisma.sql`null::text` };
    case "source_medium":
      return { source: Prisma.sql`s.source`, medium: Prisma.sql`s.medium`, campaign: Prisma.sql`null::text` };
    case "campaign":
      // A session with a UTM campaign is in its campaign's row; one without, in its source's.
      return { source: Prisma.sql`case when s.campaign is null then s.source end`, medium: Prisma.sql`null::text`, campaign: Prisma.sql`s.campaign` };
  }
}

export async function sourceTally(db: DbHandle, org: Pick<OrgInfo, "id" | "reportingCurrency">, q: SourceQuery): Promise<SourcesResult> {
  const orgId = Prisma.sql`${org.id}::uuid`;
  const k = keys(q.groupBy);
  const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
    with s as materialized (
      select vs.id, vs.visitor_id,
             marketsage_session_source(vs.utm_source, vs.referrer) as source,
             case when nullif(trim(vs.utm_source), '') is not null then coalesce(nullif(lower(trim(vs.utm_medium)), ''), '(not set)')
                  when marketsage_referrer_host(vs.referrer) is not null then 'referral' else '(none)' end as medium,
             case when nullif(trim(vs.utm_source), '') is not null then nullif(trim(vs.utm_campaign), '') end as campaign
        from visitor_sessions vs
       where vs.organization_id = ${orgId} and vs.started_at >= ${q.from} and vs.started_at < ${q.to}
         and not exists (select 1 from visitors b where b.id = vs.visitor_id and b.is_bot)),
    c as (
      select a.session_id, count(*)::int as n, sum(x.amount) as revenue, count(*) filter (where x.amount is null)::int as no_fx
        from (select x.visitor_id, x.occurred_at, ${reportingAmountSql(org, Prisma.sql`x.value`, Prisma.sql`x.currency`, Prisma.sql`x.occurred_at`)} as amount
                from conversions x
               where x.organization_id = ${orgId} and x.visitor_id is not null and x.occurred_at >= ${q.from} and x.occurred_at < ${q.to}) x
        cross join lateral (select p.id as session_id from visitor_sessions p
                             where p.visitor_id = x.visitor_id and p.organization_id = ${orgId} and p.started_at <= x.occurred_at
                             order by p.started_at desc, p.id desc limit 1) a
       group by a.session_id),
    g as (
      select grouping(s.ks, s.km, s.kc) > 0 as total, s.ks as source, s.km as medium, s.kc as campaign,
             count(*)::int as sessions, count(distinct s.visitor_id)::int as visitors,
             coalesce(sum(c.n), 0)::int as conversions, count(c.session_id)::int as converted,
             coalesce(sum(c.revenue), 0)::float8 as revenue, coalesce(sum(c.no_fx), 0)::int as no_fx
        from (select s.id, s.visitor_id, ${k.source} as ks, ${k.medium} as km, ${k.campaign} as kc from s) s left join c on c.session_id = s.id
       group by grouping sets ((s.ks, s.km, s.kc), ())),
    ranked as (
      select g.*, case when not g.total then row_number() over (partition by g.total order by g.sessions desc, g.source, g.medium, g.campaign) end as ord
        from g)
    select r.*, (select count(*) from g where not g.total)::int as groups
      from ranked r where r.total or r.ord > ${q.offset} and r.ord <= ${q.offset + q.limit + 1}
     order by r.total desc, r.ord`;
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
