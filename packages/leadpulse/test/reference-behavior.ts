// An independent computation of analyze_visitor_behavior's figures: plain per-session and
// per-touchpoint rows read with hand-written SQL (no SQL function of the product, no aggregate),
// then filtered, grouped and summarised here in TypeScript by the README's definitions.
import { roundTo } from "@marketsage/domain";

type Q = <T>(sql: string, params?: unknown[]) => Promise<T[]>;

export interface RefFilters {
  device?: string;
  country?: string;
  source?: string;
  visitor_type?: "new" | "returning";
  identified?: boolean;
}

interface SessionRow {
  id: string;
  visitor_id: string;
  contact_id: string | null;
  device: string;
  country: string | null;
  utm_source: string | null;
  referrer: string | null;
  earlier: number;
  before_to: number;
}
interface TpRow { id: string; session_id: string; visitor_id: string; type: string; url: string; occurred_at: Date; duration_sec: number | null; scroll_depth: number | null }

export function sourceOf(utm: string | null, referrer: string | null): string {
  const u = utm?.trim().toLowerCase();
  if (u) return u;
  const m = referrer ? /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#:]+)/.exec(referrer) : null;
  return (m ? m[1]!.toLowerCase().replace(/^www\./, "") : "") || "direct";
}

export const pathOf = (url: string) => new URL(url, "https://x.test").pathname.replace(/(.)\/$/, "$1");

/** percentile_cont(0.5): the middle value, or the mean of the two middle values. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
}
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const per = (a: number, b: number) => (b ? roundTo(a / b, 2) : null);
const rate = (a: number, b: number) => (b ? roundTo(a / b, 4) : null);

export async function referenceBehavior(q: Q, org: string, opts: { from: Date | null; to: Date; visitorId?: string; filters?: RefFilters; top?: number }) {
  const f = opts.filters ?? {};
  const top = opts.top ?? 10;
  const all = await q<SessionRow>(
    `select s.id::text, s.visitor_id::text, v.contact_id::text, s.device::text, s.country, s.utm_source, s.referrer,
            (select count(*)::int from visitor_sessions p where p.visitor_id = s.visitor_id and (p.started_at < s.started_at or (p.started_at = s.started_at and p.id < s.id))) as earlier,
            (select count(*)::int from visitor_sessions h where h.visitor_id = s.visitor_id and h.started_at < $2) as before_to
       from visitor_sessions s, visitors v
      where v.id = s.visitor_id and s.organization_id = $1 and v.organization_id = $1 and v.is_bot = false
        and s.started_at < $2 and ($3::timestamptz is null or s.started_at >= $3) and ($4::uuid is null or s.visitor_id = $4)`,
    [org, opts.to, opts.from, opts.visitorId ?? null],
  );
  const sessions = all.filter(
    (s) =>
      (f.device === undefined || s.device === f.device) &&
      (f.country === undefined || s.country === f.country) &&
      (f.source === undefined || sourceOf(s.utm_source, s.referrer) === f.source) &&
      (f.visitor_type === undefined || (f.visitor_type === "new") === (s.earlier === 0)) &&
      (f.identified === undefined || f.identified === (s.contact_id !== null)),
  );
  const tps = sessions.length
    ? await q<TpRow>(`select id::text, session_id::text, visitor_id::text, type::text, url, occurred_at, duration_sec, scroll_depth from touchpoints where organization_id = $1 and session_id = any($2::uuid[])`,
        [org, sessions.map((s) => s.id)])
    : [];
  const bySession = new Map<string, TpRow[]>();
  for (const t of tps) bySession.set(t.session_id, [...(bySession.get(t.session_id) ?? []), t]);
  const durations = [...bySession.values()].map((ts) => {
    const start = Math.min(...ts.map((t) => t.occurred_at.getTime()));
    const end = Math.max(...ts.map((t) => t.occurred_at.getTime() + (t.duration_sec ?? 0) * 1000));
    return (end - start) / 1000;
  });
  const views = tps.filter((t) => t.type === "PAGEVIEW");
  const scrolls = views.flatMap((t) => (t.scroll_depth === null ? [] : [t.scroll_depth]));
  const visitors = new Map(sessions.map((s) => [s.visitor_id, s]));
  const returning = [...visitors.values()].filter((s) => s.before_to >= 2).length;
  const identified = [...visitors.values()].filter((s) => s.contact_id !== null).length;
  const pathMap = new Map<string, { views: number; visitors: Set<string> }>();
  for (const t of views) {
    const p = pathMap.get(pathOf(t.url)) ?? { views: 0, visitors: new Set<string>() };
    p.views++;
    p.visitors.add(t.visitor_id);
    pathMap.set(pathOf(t.url), p);
  }
  const entryMap = new Map<string, number>();
  for (const ts of bySession.values()) {
    const first = ts.filter((t) => t.type === "PAGEVIEW").sort((a, b) => a.occurred_at.getTime() - b.occurred_at.getTime() || Number(a.id) - Number(b.id))[0];
    if (first) entryMap.set(pathOf(first.url), (entryMap.get(pathOf(first.url)) ?? 0) + 1);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    visitors: visitors.size,
    sessions: sessions.length,
    page_views: views.length,
    sessions_per_visitor: per(sessions.length, visitors.size),
    pages_per_session: per(views.length, sessions.length),
    session_duration_sec: { median: roundTo(median(durations), 1), mean: roundTo(mean(durations), 1), sessions: durations.length },
    scroll_depth_pct: { median: roundTo(median(scrolls), 1), mean: roundTo(mean(scrolls), 1), page_views: scrolls.length },
    returning_visitors: returning,
    return_rate: rate(returning, visitors.size),
    identified_visitors: identified,
    identified_share: rate(identified, visitors.size),
    top_paths: [...pathMap.entries()]
      .map(([path, p]) => ({ path, views: p.views, visitors: p.visitors.size }))
      .sort((a, b) => b.views - a.views || b.visitors - a.visitors || cmp(a.path, b.path))
      .slice(0, top),
    top_entry_paths: [...entryMap.entries()].map(([path, n]) => ({ path, sessions: n })).sort((a, b) => b.sessions - a.sessions || cmp(a.path, b.path)).slice(0, top),
  };
}
