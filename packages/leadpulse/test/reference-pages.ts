// An independent get_page_analytics: every page view of the organization's non-bot visitors with
// its place in its session by window functions (first, last, how many), read by hand-written SQL,
// then filtered and summed here in TypeScript — not the tool's EXISTS-based query.
//
// Definitions: views = PAGEVIEW touchpoints in [from, to) whose URL matches the pattern; landing =
// the first page view of its session (by time, then id), bounce = a landing in a session with one
// page view, exit = the last page view of its session; time on page over views with a duration;
// scroll buckets [0,25) [25,50) [50,75) [75,100) and 100 over views with a depth; referrer host
// and lower-cased UTM source per distinct session that had a matching view.
import { urlPatternRegex } from "@marketsage/domain";
import { median } from "./reference-funnel.ts";

type Q = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export interface RefPages {
  views: number;
  unique_visitors: number;
  sessions: number;
  paths: Map<string, number>;
  timed: number;
  median_seconds: number | null;
  mean_seconds: number | null;
  landings: number;
  bounces: number;
  exits: number;
  scroll: number[];
  scrolled: number;
  referrers: Map<string, number>;
  no_referrer: number;
  sources: Map<string, number>;
  no_source: number;
}

interface ViewRow {
  visitor_id: string;
  session_id: string | null;
  path: string;
  duration_sec: number | null;
  scroll_depth: number | null;
  nth: string;
  nth_from_end: string;
  in_session: string;
  host: string | null;
  utm: string | null;
}

export async function referencePages(q: Q, orgId: string, pattern: string, from: Date, to: Date): Promise<RefPages> {
  const rows = await q<ViewRow>(
    `with pv as (
       select t.id, t.visitor_id, t.session_id, t.occurred_at, t.url, t.duration_sec, t.scroll_depth,
              row_number() over (partition by t.session_id order by t.occurred_at, t.id) as nth,
              row_number() over (partition by t.session_id order by t.occurred_at desc, t.id desc) as nth_from_end,
              count(*) over (partition by t.session_id) as in_session
         from touchpoints t join visitors vi on vi.id = t.visitor_id
        where t.organization_id = $1 and t.type = 'PAGEVIEW' and vi.is_bot = false)
     select pv.visitor_id::text, pv.session_id::text, marketsage_url_path(pv.url) as path, pv.duration_sec, pv.scroll_depth,
            pv.nth, pv.nth_from_end, pv.in_session, marketsage_referrer_host(s.referrer) as host, nullif(lower(trim(s.utm_source)), '') as utm
       from pv left join visitor_sessions s on s.id = pv.session_id
      where pv.occurred_at >= $2 and pv.occurred_at < $3 and pv.url ~ $4`,
    [orgId, from, to, urlPatternRegex(pattern)],
  );
  const inSession = rows.filter((r) => r.session_id !== null);
  const durations = rows.flatMap((r) => (r.duration_sec === null ? [] : [r.duration_sec]));
  const depths = rows.flatMap((r) => (r.scroll_depth === null ? [] : [r.scroll_depth]));
  const count = <K>(keys: K[]) => {
    const m = new Map<K, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const sessions = new Map(inSession.map((r) => [r.session_id!, r]));
  const perSession = [...sessions.values()];
  return {
    views: rows.length,
    unique_visitors: new Set(rows.map((r) => r.visitor_id)).size,
    sessions: sessions.size,
    paths: count(rows.map((r) => r.path)),
    timed: durations.length,
    median_seconds: median(durations),
    mean_seconds: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
    landings: inSession.filter((r) => r.nth === "1").length,
    bounces: inSession.filter((r) => r.nth === "1" && r.in_session === "1").length,
    exits: inSession.filter((r) => r.nth_from_end === "1").length,
    scroll: [
      depths.filter((d) => d < 25).length,
      depths.filter((d) => d >= 25 && d < 50).length,
      depths.filter((d) => d >= 50 && d < 75).length,
      depths.filter((d) => d >= 75 && d < 100).length,
      depths.filter((d) => d >= 100).length,
    ],
    scrolled: depths.length,
    referrers: count(perSession.flatMap((r) => (r.host === null ? [] : [r.host]))),
    no_referrer: perSession.filter((r) => r.host === null).length,
    sources: count(perSession.flatMap((r) => (r.utm === null ? [] : [r.utm]))),
    no_source: perSession.filter((r) => r.utm === null).length,
  };
}
