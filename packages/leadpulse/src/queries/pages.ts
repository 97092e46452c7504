// get_page_analytics' read: the page views in [from, to) whose URL matches a path pattern (bots
// left out), with their sessions' summaries for landings, bounces and exits, in one
// statement (the matching views are read once, as a CTE, and summarised several ways).
//
// A session's page views are ordered by (occurred_at, id): its landing is the first, its exit the
// last — over all its page views, also those outside the range or not matching (kept on the
// session's row by triggers). Views without a session (none come from the collector) are neither
// landings nor exits.
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
  // The pattern is matched once per distinct page-view route (marketsage_touchpoint_routes), then
  // each matching route's views of the range are one range scan of touchpoints_org_type_route_idx.
  // Landings, exits and one-view sessions come from the sessions' summaries (page_views, landing
  // and exit route and time: migration leadpulse_rollups), read with their referrer's host and UTM
  // source.
  const [r] = await db.$queryRaw<Array<Record<string, unknown>>>`
    with pr as materialized (select p.route from marketsage_touchpoint_routes(${orgId}) p where p.type = 'PAGEVIEW' and p.route ~ ${urlPatternRegex(q.pattern)}),
    v as materialized (
      select t.id, t.visitor_id, t.session_id, t.route, t.duration_sec, t.scroll_depth
        from pr join touchpoints t on t.organization_id = ${orgId} and t.type = 'PAGEVIEW' and t.route = pr.route
                                  and t.occurred_at >= ${q.from} and t.occurred_at < ${q.to}
       where not exists (select 1 from visitors b where b.id = t.visitor_id and b.is_bot)),
    -- The sessions that viewed a matching page, with their summaries: those started from a day
    -- before the range on are read in one range scan (index-only, probing a hash of the views'
    -- sessions); any other session by its id. A session's landing is one of these views exactly when
    -- its landing route matches and its landing time is in the range (likewise its exit); a bounce
    -- is a landing with one page view.
    s as materialized (select distinct session_id from v where session_id is not null),
    near as materialized (
      select vs.id, vs.page_views, vs.landing_route, vs.landing_at, vs.exit_route, vs.exit_at, vs.referrer_host, vs.utm_source
        from visitor_sessions vs
       where vs.organization_id = ${orgId} and vs.started_at >= ${new Date(q.from.getTime() - 86_400_000)} and vs.started_at < ${q.to}
         -- "is true" keeps this a hashed subplan probed by the range scan: as a semi-join, the
         -- planner (expecting a few hundred sessions from the CTE) probes the primary key per
         -- session, ~7 µs each, 0.5 s for /pricing's 75k sessions at bench scale.
         and (vs.id in (select session_id from s)) is true),
    fs0 as (
      select * from near
      union all
      select vs.id, vs.page_views, vs.landing_route, vs.landing_at, vs.exit_route, vs.exit_at, vs.referrer_host, vs.utm_source
        from s join visitor_sessions vs on vs.id = s.session_id and vs.organization_id = ${orgId}
       where not exists (select 1 from near n where n.id = s.session_id)),
    fs as materialized (
      select referrer_host as host, utm_source,
             landing_route in (select route from pr) and landing_at >= ${q.from} and landing_at < ${q.to} as landing,
             exit_route in (select route from pr) and exit_at >= ${q.from} and exit_at < ${q.to} as exit,
             page_views = 1 as single
        from fs0),
    u as materialized (select marketsage_url_path(route) as path, sum(n)::int as n from (select route, count(*) as n from v group by 1) z group by 1),
    r as (select host, utm_source, count(*) as n from fs group by 1, 2),
    sv as materialized (select host, nullif(lower(trim(utm_source)), '') as source, n from r),
    a as (
      select count(*)::int as views, count(duration_sec)::int as timed, percentile_cont(0.5) within group (order by duration_sec) as median_sec,
             avg(duration_sec)::float8 as mean_sec,
             array[count(*) filter (where scroll_depth < 25), count(*) filter (where scroll_depth >= 25 and scroll_depth < 50),
                   count(*) filter (where scroll_depth >= 50 and scroll_depth < 75), count(*) filter (where scroll_depth >= 75 and scroll_depth < 100),
                   count(*) filter (where scroll_depth >= 100)]::int[] as scroll,
             count(scroll_depth)::int as scrolled
        from v),
    k as (select count(*)::int as sessions, count(*) filter (where landing)::int as landings, count(*) filter (where landing and single)::int as bounces,
                 count(*) filter (where exit)::int as exits from fs)
    select a.*, k.*,
      (select count(*) from (select visitor_id from v group by 1) z)::int as visitors,
      (select count(*) from u)::int as paths,
      (select coalesce(json_agg(json_build_object('path', path, 'views', n) order by n desc, path), '[]')
         from (select path, n from u order by 2 desc, 1 limit ${q.limit}) p) as pages,
      (select coalesce(json_agg(json_build_object('host', host, 'sessions', n) order by n desc, host), '[]')
         from (select host, sum(n)::int as n from sv where host is not null group by 1 order by 2 desc, 1 limit ${q.limit}) x) as referrers,
      (select coalesce(sum(n), 0) from sv where host is null)::int as no_referrer,
      (select coalesce(json_agg(json_build_object('source', source, 'sessions', n) order by n desc, source), '[]')
         from (select source, sum(n)::int as n from sv where source is not null group by 1 order by 2 desc, 1 limit ${q.limit}) x) as sources,
      (select coalesce(sum(n), 0) from sv where source is null)::int as no_source
      from a, k`;
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
