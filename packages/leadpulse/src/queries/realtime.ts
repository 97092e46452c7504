// Who is on the site now: visitors with a touchpoint in the window (now − N min, now], and the same
// figures for the previous window (now − 2N min, now − N min]. Bots are left out. A visitor's
// country and device are the visitor's; their source is that of the session of their latest
// touchpoint in the window ("unknown" without a session). Pages are PAGEVIEW touchpoints grouped by
// marketsage_url_path(url). One read of the (organization_id, occurred_at) index for 2N minutes.
import type { DbHandle, OrgInfo } from "@marketsage/core";

export type Dimension = "total" | "page_views" | "page" | "country" | "device" | "source";

export interface RealtimeRow {
  dim: Dimension;
  key: string;
  current: number;
  previous: number;
  /** Pages only: page views in the window and the previous one. */
  views: number;
  previous_views: number;
}

export async function realtimeCounts(db: DbHandle, org: Pick<OrgInfo, "id">, now: Date, minutes: number): Promise<RealtimeRow[]> {
  const from = new Date(now.getTime() - minutes * 60_000);
  const previousFrom = new Date(now.getTime() - 2 * minutes * 60_000);
  return db.$queryRaw<RealtimeRow[]>`
    with t as (
      select t.id, t.visitor_id, t.session_id, t.type, t.url, t.occurred_at, t.occurred_at > ${from} as cur
        from touchpoints t
        join visitors v on v.id = t.visitor_id and v.organization_id = ${org.id}::uuid and not v.is_bot
       where t.organization_id = ${org.id}::uuid and t.occurred_at > ${previousFrom} and t.occurred_at <= ${now}
    ), per as (
      select distinct on (visitor_id, cur) visitor_id, cur, session_id from t order by visitor_id, cur, occurred_at desc, id desc
    ), vis as (
      select per.cur, coalesce(trim(v.country), 'unknown') as country, v.device::text as device,
             case when s.id is null then 'unknown' else s.source end as source
        from per
        join visitors v on v.id = per.visitor_id
        left join visitor_sessions s on s.id = per.session_id and s.organization_id = ${org.id}::uuid
    ), pages as (
      select cur, marketsage_url_path(url) as path, count(*)::int as views, count(distinct visitor_id)::int as visitors
        from t where type = 'PAGEVIEW' group by 1, 2
    )
    select 'total' as dim, '' as key, count(*) filter (where cur)::int as current, count(*) filter (where not cur)::int as previous, 0 as views, 0 as previous_views from vis
    union all
    select 'page_views', '', coalesce(sum(views) filter (where cur), 0)::int, coalesce(sum(views) filter (where not cur), 0)::int, 0, 0 from pages
    union all
    select 'page', path, coalesce(sum(visitors) filter (where cur), 0)::int, coalesce(sum(visitors) filter (where not cur), 0)::int,
           coalesce(sum(views) filter (where cur), 0)::int, coalesce(sum(views) filter (where not cur), 0)::int from pages group by path
    union all
    select 'country', country, count(*) filter (where cur)::int, count(*) filter (where not cur)::int, 0, 0 from vis group by country
    union all
    select 'device', device, count(*) filter (where cur)::int, count(*) filter (where not cur)::int, 0, 0 from vis group by device
    union all
    select 'source', source, count(*) filter (where cur)::int, count(*) filter (where not cur)::int, 0, 0 from vis group by source`;
}
