// get_page_analytics' read: the page views in [from, to) whose URL matches a path pattern (bots
// left out), with their sessions' other page views for landings, bounces and exits, in one
// statement (the matching views are read once, as a CTE, and summarised several ways).
//
// A session's page views are ordered by (occurred_at, id): its landing is the first, its exit the
// last — over all its page views, also those outside the range or not matching. Views without a
// session (none come from the collector) are neither landings nor exits.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { urlPatternRegex } from "@marketsage/domain";

export interface PageQuery {
  from: Date;
  to: Date;
  pattern: string;
  limit: number;
}

export interface PageTally {
  views: number;
  visitors: number;
  sessions: number;
  paths: number;
  pages: Array<{ path: string; views: number }>;
  timed: number;
  medianSec: number | null;
  meanSec: number | null;
  landings: number;
  bounces: number;
  exits: number;
  /** Views per scroll bucket: [0,25), [25,50), [50,75), [75,100), 100. */
  scroll: number[];
  scrolled: number;
  referrers: Array<{ host: string; sessions: number }>;
  noReferrer: number;
  sources: Array<{ source: string; sessions: number }>;
  noSource: number;
}

export const SCROLL_BUCKETS = ["0-25", "25-50", "50-75", "75-100", "100"] as const;

export async function pageTally(db: DbHandle, org: Pick<OrgInfo, "id">, q: PageQuery): Promise<PageTally> {
  const orgId = Prisma.sql`${org.id}::uuid`;
  // Another page view of the same session before (or after) view v, in (occurred_at, id) order.
  const other = (cmp: "<" | ">") => Prisma.sql`exists (select 1 from touchpoints o
    where o.session_id = v.session_id and o.organization_id = ${orgId} and o.type = 'PAGEVIEW'
      and (o.occurred_at, o.id) ${Prisma.raw(cmp)} (v.occurred_at, v.id))`;
  const [r] = await db.$queryRaw<Array<Record<string, unknown>>>`
    with v as materialized (
      select t.id, t.visitor_id, t.session_id, t.occurred_at, t.url, t.duration_sec, t.scroll_depth
        from touchpoints t cross join lateral (select t.url ~ ${urlPatternRegex(q.pattern)} as hit offset 0) x
       where t.organization_id = ${orgId} and t.type = 'PAGEVIEW' and t.occurred_at >= ${q.from} and t.occurred_at < ${q.to} and x.hit
         and not exists (select 1 from visitors b where b.id = t.visitor_id and b.is_bot)),
    u as materialized (select marketsage_url_path(url) as path, sum(n)::int as n from (select url, count(*) as n from v group by 1) z group by 1),
    f as materialized (
      select v.session_id, v.duration_sec, v.scroll_depth,
             v.session_id is not null and not ${other("<")} as landing,
             v.session_id is not null and not ${other(">")} as exit
        from v),
    s as (select distinct session_id from v where session_id is not null),
    -- The sessions' referrer and UTM source: those started from a day before the range on are read
    -- in one range scan (hash join); any other session by its id.
    near as materialized (select vs.id, vs.referrer, vs.utm_source from visitor_sessions vs
              where vs.organization_id = ${orgId} and vs.started_at >= ${new Date(q.from.getTime() - 86_400_000)} and vs.started_at < ${q.to}),
    sn as materialized (select s.session_id, n.id is not null as found, n.referrer, n.utm_source from s left join near n on n.id = s.session_id),
    sr as (select session_id, referrer, utm_source from sn where found
           union all
           select sn.session_id, vs.referrer, vs.utm_source from sn left join visitor_sessions vs on vs.id = sn.session_id and vs.organization_id = ${orgId}
            where not sn.found),
    r as (select referrer, utm_source, count(*) as n from sr group by 1, 2),
    sv as materialized (select marketsage_referrer_host(referrer) as host, nullif(lower(trim(utm_source)), '') as source, n from r)
    select
      (select count(*) from v)::int as views,
      (select count(*) from (select visitor_id from v group by 1) z)::int as visitors,
      (select count(*) from s)::int as sessions,
      (select count(*) from u)::int as paths,
      (select coalesce(json_agg(json_build_object('path', path, 'views', n) order by n desc, path), '[]')
         from (select path, n from u order by 2 desc, 1 limit ${q.limit}) p) as pages,
      (select count(duration_sec) from f)::int as timed,
      (select percentile_cont(0.5) within group (order by duration_sec) from f) as median_sec,
      (select avg(duration_sec)::float8 from f) as mean_sec,
      (select count(*) filter (where landing) from f)::int as landings,
      (select count(*) filter (where landing and exit) from f)::int as bounces,
      (select count(*) filter (where exit) from f)::int as exits,
      (select array[count(*) filter (where scroll_depth < 25), count(*) filter (where scroll_depth >= 25 and scroll_depth < 50),
                    count(*) filter (where scroll_depth >= 50 and scroll_depth < 75), count(*) filter (where scroll_depth >= 75 and scroll_depth < 100),
                    count(*) filter (where scroll_depth >= 100)]::int[] from f) as scroll,
      (select count(scroll_depth) from f)::int as scrolled,
      (select coalesce(json_agg(json_build_object('host', host, 'sessions', n) order by n desc, host), '[]')
         from (select host, sum(n)::int as n from sv where host is not null group by 1 order by 2 desc, 1 limit ${q.limit}) x) as referrers,
      (select coalesce(sum(n), 0) from sv where host is null)::int as no_referrer,
      (select coalesce(json_agg(json_build_object('source', source, 'sessions', n) order by n desc, source), '[]')
         from (select source, sum(n)::int as n from sv where source is not null group by 1 order by 2 desc, 1 limit ${q.limit}) x) as sources,
      (select coalesce(sum(n), 0) from sv where source is null)::int as no_source`;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    views: Number(r!.views),
    visitors: Number(r!.visitors),
    sessions: Number(r!.sessions),
    paths: Number(r!.paths),
    pages: r!.pages as PageTally["pages"],
    timed: Number(r!.timed),
    medianSec: num(r!.median_sec),
    meanSec: num(r!.mean_sec),
    landings: Number(r!.landings),
    bounces: Number(r!.bounces),
    exits: Number(r!.exits),
    scroll: (r!.scroll as number[]).map(Number),
    scrolled: Number(r!.scrolled),
    referrers: r!.referrers as PageTally["referrers"],
    noReferrer: Number(r!.no_referrer),
    sources: r!.sources as PageTally["sources"],
    noSource: Number(r!.no_source),
  };
}
