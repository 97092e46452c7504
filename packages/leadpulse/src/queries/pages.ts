// get_page_analytics' read: the page views in [from, to) whose URL matches a path pattern (bots
// left out), with their sessions' summaries for landings, bounces and exits: the matching routes
// first, then one statement (the matching views are read once, as a CTE, and summarised several
// ways).
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

const EMPTY: PageTally = {
  views: 0, visitors: 0, sessions: 0, paths: 0, pages: [], timed: 0, medianSec: null, meanSec: null, landings: 0, bounces: 0, exits: 0,
  scroll: SCROLL_BUCKETS.map(() => 0), scrolled: 0, referrers: [], noReferrer: 0, sources: [], noSource: 0,
};

export async function pageTally(db: DbHandle, org: Pick<OrgInfo, "id">, q: PageQuery): Promise<PageTally> {
  const orgId = Prisma.sql`${org.id}::uuid`;
  // The pattern is matched once per distinct page-view route (marketsage_touchpoint_routes, a skip
  // scan); each matching route's views of the range are then one range scan of
  // touchpoints_org_type_route_idx.
  const matched = await db.$queryRaw<Array<{ route: string }>>`
    select p.route from marketsage_touchpoint_routes(${orgId}) p where p.type = 'PAGEVIEW' and p.route ~ ${urlPatternRegex(q.pattern)}`;
  const routes = matched.map((m) => m.route);
  if (routes.length === 0) return { ...EMPTY, scroll: [...EMPTY.scroll] };
  const pr = Prisma.sql`${routes}::text[]`;
  const landing = Prisma.sql`vs.landing_route = any(${pr}) and vs.landing_at >= ${q.from} and vs.landing_at < ${q.to}`;
  const perGroup = Prisma.sql`vs.referrer_host as host, nullif(lower(trim(vs.utm_source)), '') as source, count(*)::int as n,
             count(*) filter (where ${landing})::int as landings, count(*) filter (where ${landing} and vs.page_views = 1)::int as bounces,
             count(*) filter (where vs.exit_route = any(${pr}) and vs.exit_at >= ${q.from} and vs.exit_at < ${q.to})::int as exits`;
  // Landings, exits and one-view sessions come from the sessions' summaries (page_views, landing
  // and exit route and time: migration leadpulse_rollups), with their referrer's host and UTM
  // source, grouped by (host, source) as they are read.
  const [r] = await db.$queryRaw<Array<Record<string, unknown>>>`
    with v as materialized (
      select t.visitor_id, t.session_id, t.route, t.duration_sec, t.scroll_depth
        from touchpoints t
       where t.organization_id = ${orgId} and t.type = 'PAGEVIEW' and t.route = any(${pr})
         and t.occurred_at >= ${q.from} and t.occurred_at < ${q.to}
         and not exists (select 1 from visitors b where b.id = t.visitor_id and b.is_bot)),
    a as materialized (
      select count(*)::int as views, count(distinct visitor_id)::int as visitors, count(distinct session_id)::int as sessions_seen,
             count(duration_sec)::int as timed, percentile_cont(0.5) within group (order by duration_sec) as median_sec,
             avg(duration_sec)::float8 as mean_sec,
             array[count(*) filter (where scroll_depth < 25), count(*) filter (where scroll_depth >= 25 and scroll_depth < 50),
                   count(*) filter (where scroll_depth >= 50 and scroll_depth < 75), count(*) filter (where scroll_depth >= 75 and scroll_depth < 100),
                   count(*) filter (where scroll_depth >= 100)]::int[] as scroll,
             count(scroll_depth)::int as scrolled
        from v),
    -- The sessions that viewed a matching page. Those started from a day before the range on: one
    -- range scan of the sessions' cover index, probing a hash of the views' sessions ("is true"
    -- keeps it a hashed subplan: as a semi-join the planner probes the primary key per session,
    -- ~7 µs each, 0.5 s for /pricing's 75k sessions at bench scale). A session's landing is one of
    -- these views exactly when its landing route matches and its landing time is in the range
    -- (likewise its exit); a bounce is a landing with one page view.
    near as materialized (
      select ${perGroup}
        from visitor_sessions vs
       where vs.organization_id = ${orgId} and vs.started_at >= ${new Date(q.from.getTime() - 86_400_000)} and vs.started_at < ${q.to}
         and (vs.id in (select session_id from v)) is true
       group by 1, 2),
    -- Any other session (one that went on for more than a day before its view) by its id; only
    -- read when the near ones do not account for every session seen (a one-time filter).
    far as (
      select ${perGroup}
        from (select distinct session_id from v where session_id is not null) s
        join visitor_sessions vs on vs.id = s.session_id and vs.organization_id = ${orgId}
       where not (vs.started_at >= ${new Date(q.from.getTime() - 86_400_000)} and vs.started_at < ${q.to})
         and (select coalesce(sum(n), 0) from near) < (select sessions_seen from a)
       group by 1, 2),
    k as materialized (
      select host, source, sum(n)::int as n, sum(landings)::int as landings, sum(bounces)::int as bounces, sum(exits)::int as exits
        from (select * from near union all select * from far) z group by 1, 2),
    u as materialized (select marketsage_url_path(route) as path, sum(n)::int as n from (select route, count(*) as n from v group by 1) z group by 1)
    select a.*,
      (select coalesce(sum(n), 0) from k)::int as sessions,
      (select coalesce(sum(landings), 0) from k)::int as landings,
      (select coalesce(sum(bounces), 0) from k)::int as bounces,
      (select coalesce(sum(exits), 0) from k)::int as exits,
      (select count(*) from u)::int as paths,
      (select coalesce(json_agg(json_build_object('path', path, 'views', n) order by n desc, path), '[]')
         from (select path, n from u order by 2 desc, 1 limit ${q.limit}) p) as pages,
      (select coalesce(json_agg(json_build_object('host', host, 'sessions', n) order by n desc, host), '[]')
         from (select host, sum(n)::int as n from k where host is not null group by 1 order by 2 desc, 1 limit ${q.limit}) x) as referrers,
      (select coalesce(sum(n), 0) from k where host is null)::int as no_referrer,
      (select coalesce(json_agg(json_build_object('source', source, 'sessions', n) order by n desc, source), '[]')
         from (select source, sum(n)::int as n from k where source is not null group by 1 order by 2 desc, 1 limit ${q.limit}) x) as sources,
      (select coalesce(sum(n), 0) from k where source is null)::int as no_source
      from a`;
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
