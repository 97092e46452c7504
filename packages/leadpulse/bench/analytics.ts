// leadpulse's analytics tools at the current scale (get_conversion_funnel, get_page_analytics,
// get_traffic_sources), each beside hand-written SQL for the same answer (bench parts `leadpulse`
// and `leadpulse-analytics`).
//
// The clock is the data's (the organization's latest touchpoint, the seed's "now"), so "30 days"
// holds the same seeded month whenever the bench runs; the hand-written SQL takes the same now (its last parameter).
import type { AnyTool, BenchContext, BenchSample as Sample } from "@marketsage/core";
import { urlPatternRegex } from "@marketsage/domain";
import { getConversionFunnel } from "../src/tools/get-conversion-funnel.ts";
import { getPageAnalytics } from "../src/tools/get-page-analytics.ts";
import { getTrafficSources } from "../src/tools/get-traffic-sources.ts";
import { onDataClock } from "./data-clock.ts";

const TOOLS: AnyTool[] = [getConversionFunnel, getPageAnalytics, getTrafficSources];
const STEPS = [{ url: "/" }, { url: "/products/*" }, { url: "/checkout" }];
const TYPED = [{ type: "PAGEVIEW", url: "/pricing" }, { type: "FORM_START" }, { type: "FORM_SUBMIT", url: "/signup" }];

// A 3-step URL funnel by hand: each visitor's first step-1 view in the 30 days, then the earliest
// step-2 and step-3 views after it within 7 days (per-visitor min() joins on the visitor index).
const FUNNEL_SQL = `
  with a as (select distinct on (visitor_id) visitor_id, occurred_at t1 from touchpoints t
              where organization_id = $1 and occurred_at >= $5::timestamptz - interval '30 days' and url ~ $2
                and not exists (select 1 from visitors v where v.id = t.visitor_id and v.is_bot) order by visitor_id, occurred_at, id),
       b as (select a.visitor_id, min(t.occurred_at) t2 from a join touchpoints t on t.visitor_id = a.visitor_id and t.occurred_at > a.t1
              and t.occurred_at <= a.t1 + interval '7 days' and t.url ~ $3 group by 1),
       c as (select b.visitor_id, min(t.occurred_at) t3 from b join a using (visitor_id) join touchpoints t on t.visitor_id = b.visitor_id
              and t.occurred_at > b.t2 and t.occurred_at <= a.t1 + interval '7 days' and t.url ~ $4 group by 1)
  select count(*), count(b.t2), count(c.t3), percentile_cont(0.5) within group (order by b.t2 - a.t1), percentile_cont(0.5) within group (order by c.t3 - b.t2)
    from a left join b using (visitor_id) left join c using (visitor_id)`;

// One page's figures by hand: window functions over the organization's page views of the 30 days
// (first/last of their session), the sessions' referrers.
const PAGE_SQL = `
  with pv as (select t.visitor_id, t.session_id, t.url, t.duration_sec, t.scroll_depth,
                     row_number() over (partition by t.session_id order by t.occurred_at, t.id) nth,
                     row_number() over (partition by t.session_id order by t.occurred_at desc, t.id desc) nth_back,
                     count(*) over (partition by t.session_id) n
                from touchpoints t where t.organization_id = $1 and t.type = 'PAGEVIEW' and t.occurred_at >= $3::timestamptz - interval '30 days'
                 and t.session_id in (select session_id from touchpoints where organization_id = $1 and type = 'PAGEVIEW'
                                       and occurred_at >= $3::timestamptz - interval '30 days' and url ~ $2)),
       m as (select * from pv where url ~ $2)
  select count(*), count(distinct visitor_id), count(*) filter (where nth = 1), count(*) filter (where nth = 1 and n = 1), count(*) filter (where nth_back = 1),
         percentile_cont(0.5) within group (order by duration_sec), avg(duration_sec),
         (select json_agg(x) from (select marketsage_referrer_host(s.referrer) h, count(*) from visitor_sessions s
                                    where s.id in (select session_id from m) group by 1 order by 2 desc limit 5) x)
    from m`;

// Sessions of the 30 days by source with the conversions of each visitor's latest session before them.
const SOURCES_SQL = `
  with s as (select id, visitor_id, marketsage_session_source(utm_source, referrer) src from visitor_sessions
              where organization_id = $1 and started_at >= $3::timestamptz - interval '30 days'),
       c as (select distinct on (x.id) x.id, p.id sid, marketsage_fx(x.value, trim(x.currency), $2, x.occurred_at) amount
               from conversions x join visitor_sessions p on p.visitor_id = x.visitor_id and p.started_at <= x.occurred_at
              where x.organization_id = $1 and x.visitor_id is not null and x.occurred_at >= $3::timestamptz - interval '30 days'
              order by x.id, p.started_at desc, p.id desc)
  select s.src, count(distinct s.id), count(distinct s.visitor_id), count(c.id), count(distinct c.sid), sum(c.amount)
    from s left join c on c.sid = s.id group by 1 order by 2 desc`;

export async function benchLeadpulseAnalytics(b: BenchContext): Promise<Sample[]> {
  const { orgId, n, time } = b;
  const { now, sql, call, close } = await onDataClock(b, TOOLS, { options: "-c jit=off -c work_mem=64MB" });
  const [{ rc }] = (await sql(`select trim(reporting_currency) rc from organizations where id = $1`, [orgId])).rows;
  const re = (p: string) => urlPatternRegex(p);
  const k = Math.min(n, 20);
  const out: Sample[] = [];
  out.push({
    name: "get_conversion_funnel (3 URL steps, 30d, per visitor)",
    ms: await time(k, () => call("get_conversion_funnel", { steps: STEPS })),
    reference: { name: "SQL: per-visitor min() joins", ms: await time(k, () => sql(FUNNEL_SQL, [orgId, re("/"), re("/products/*"), re("/checkout"), now])) },
  });
  out.push({
    name: "get_conversion_funnel (type+URL steps, 30d, by device)",
    ms: await time(k, () => call("get_conversion_funnel", { steps: TYPED, breakdown: "device" })),
  });
  out.push({
    name: "get_conversion_funnel (3 URL steps, 30d, per session, by source)",
    ms: await time(k, () => call("get_conversion_funnel", { steps: STEPS, unit: "session", breakdown: "source" })),
  });
  out.push({
    name: "get_page_analytics (/pricing, 30d)",
    ms: await time(k, () => call("get_page_analytics", { url: "/pricing" })),
    reference: { name: "SQL: window functions over the sessions' page views", ms: await time(k, () => sql(PAGE_SQL, [orgId, re("/pricing"), now])) },
  });
  out.push({
    name: "get_page_analytics (/blog/*, 30d)",
    ms: await time(k, () => call("get_page_analytics", { url: "/blog/*" })),
  });
  out.push({
    name: "get_traffic_sources (source, 30d)",
    ms: await time(k, () => call("get_traffic_sources", {})),
    reference: { name: "SQL: sessions by source + latest-session conversions", ms: await time(k, () => sql(SOURCES_SQL, [orgId, rc, now])) },
  });
  out.push({
    name: "get_traffic_sources (campaign, 30d)",
    ms: await time(k, () => call("get_traffic_sources", { group_by: "campaign" })),
  });
  await close();
  return out;
}
