// Behaviour of a set of sessions: the non-bot sessions started in [from, to) that pass the filters
// (filters.ts), optionally of one visitor. Definitions (README):
// - pages per session: PAGEVIEW touchpoints of the sessions / sessions;
// - session duration: from the session's first touchpoint to the latest end of any of its
//   touchpoints (occurred_at + duration_sec), in seconds — the same for seeded sessions and for
//   collected ones, whose ended_at is their last event and misses the time on the last page; a
//   session without touchpoints has no duration; median = percentile_cont(0.5);
// - scroll depth: over the sessions' PAGEVIEW touchpoints that carry one (0–100 %);
// - top paths: PAGEVIEW touchpoints by marketsage_url_path(url); entry path: a session's first
//   PAGEVIEW (by time, then id);
// - return rate: visitors with 2 or more sessions (any device or source) started before `to` /
//   visitors; identified share: visitors linked to a contact now / visitors.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { filterSql, type VisitorFilter } from "./filters.ts";

export interface BehaviorTotals {
  visitors: number;
  sessions: number;
  page_views: number;
  measured_sessions: number;
  median_duration: number | null;
  mean_duration: number | null;
  scrolled_views: number;
  median_scroll: number | null;
  mean_scroll: number | null;
  returning_visitors: number;
  identified_visitors: number;
}

export interface PathRow { path: string; views: number; visitors: number }
export interface EntryRow { path: string; sessions: number }

export interface BehaviorQuery {
  from: Date | null;
  to: Date;
  visitorId: string | null;
  filters: VisitorFilter;
  top: number;
}

export async function behavior(db: DbHandle, org: Pick<OrgInfo, "id">, q: BehaviorQuery) {
  const sessions = Prisma.sql`
    select s.id, s.visitor_id, v.contact_id from visitor_sessions s
      join visitors v on v.id = s.visitor_id and v.organization_id = ${org.id}::uuid
     where s.organization_id = ${org.id}::uuid and s.started_at < ${q.to}
       ${q.from ? Prisma.sql`and s.started_at >= ${q.from}` : Prisma.empty}
       ${q.visitorId ? Prisma.sql`and s.visitor_id = ${q.visitorId}::uuid` : Prisma.empty}
       and ${filterSql(org, q.filters)}`;
  // A session's touchpoints are never before its start (the collector extends started_at), so the
  // (organization_id, occurred_at) index bounds the read from the range's start.
  const touch = Prisma.sql`
    select t.id, t.session_id, t.visitor_id, t.type, t.url, t.occurred_at, t.duration_sec, t.scroll_depth from touchpoints t
     where t.organization_id = ${org.id}::uuid
       ${q.from ? Prisma.sql`and t.occurred_at >= ${q.from}` : Prisma.empty}
       ${q.visitorId ? Prisma.sql`and t.visitor_id = ${q.visitorId}::uuid` : Prisma.empty}
       and t.session_id in (select id from s)`;
  // One statement, each row read once; URL paths computed once per distinct URL (the path
  // function's regexes over every page view were most of the cost at bench scale).
  const [row] = await db.$queryRaw<Array<BehaviorTotals & { top_paths: PathRow[] | null; top_entries: EntryRow[] | null }>>`
    with s as materialized (${sessions}), t as materialized (${touch}),
    u as (select url, marketsage_url_path(url) as path from (select distinct url from t where type = 'PAGEVIEW') d),
    per as (
      select t.session_id, (extract(epoch from max(t.occurred_at + make_interval(secs => coalesce(t.duration_sec, 0))) - min(t.occurred_at)))::float8 as secs
        from t group by t.session_id
    ),
    vis as (select distinct visitor_id, contact_id from s),
    -- Returning: 2+ sessions of any kind in the range, or one before it (an index probe only for
    -- those; counting every visitor's history was a nested loop of 150k probes at bench scale).
    inr as (
      select h.visitor_id, count(*) as n from visitor_sessions h
       where h.organization_id = ${org.id}::uuid and h.started_at < ${q.to}
         ${q.from ? Prisma.sql`and h.started_at >= ${q.from}` : Prisma.empty}
         ${q.visitorId ? Prisma.sql`and h.visitor_id = ${q.visitorId}::uuid` : Prisma.empty}
       group by h.visitor_id
    ),
    hist as (
      select vis.visitor_id from vis join inr on inr.visitor_id = vis.visitor_id
       where inr.n >= 2
          ${q.from ? Prisma.sql`or exists (select 1 from visitor_sessions p where p.organization_id = ${org.id}::uuid and p.visitor_id = vis.visitor_id and p.started_at < ${q.from})` : Prisma.empty}
    ),
    paths as (
      select u.path, sum(x.n)::int as views, count(distinct x.visitor_id)::int as visitors
        from (select url, visitor_id, count(*) as n from t where type = 'PAGEVIEW' group by 1, 2) x join u on u.url = x.url
       group by u.path order by views desc, visitors desc, u.path collate "C" limit ${q.top}
    ),
    entries as (
      select u.path, count(*)::int as sessions
        from (select distinct on (session_id) session_id, url from t where type = 'PAGEVIEW' order by session_id, occurred_at, id) e join u on u.url = e.url
       group by u.path order by sessions desc, u.path collate "C" limit ${q.top}
    )
    select (select count(*) from vis)::int as visitors,
           (select count(*) from s)::int as sessions,
           (select count(*) from t where type = 'PAGEVIEW')::int as page_views,
           (select count(*) from per)::int as measured_sessions,
           (select percentile_cont(0.5) within group (order by secs) from per)::float8 as median_duration,
           (select avg(secs) from per)::float8 as mean_duration,
           (select count(scroll_depth) from t where type = 'PAGEVIEW')::int as scrolled_views,
           (select percentile_cont(0.5) within group (order by scroll_depth) from t where type = 'PAGEVIEW' and scroll_depth is not null)::float8 as median_scroll,
           (select avg(scroll_depth) from t where type = 'PAGEVIEW')::float8 as mean_scroll,
           (select count(*) from hist)::int as returning_visitors,
           (select count(*) from vis where contact_id is not null)::int as identified_visitors,
           (select json_agg(json_build_object('path', path, 'views', views, 'visitors', visitors) order by views desc, visitors desc, path collate "C") from paths) as top_paths,
           (select json_agg(json_build_object('path', path, 'sessions', sessions) order by sessions desc, path collate "C") from entries) as top_entries`;
  const { top_paths, top_entries, ...totals } = row!;
  return { totals, paths: top_paths ?? [], entries: top_entries ?? [] };
}
