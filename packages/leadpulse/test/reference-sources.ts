// An independent get_traffic_sources: the range's sessions of non-bot visitors and every website
// conversion's session (by a window over the visitor's sessions started at or before it, not the
// tool's LATERAL … LIMIT 1), read by hand-written SQL; the source, medium and campaign of each
// session worked out here in TypeScript from its raw UTM fields and referrer, then summed.
//
// Definitions: source = the UTM source (trimmed, lower-case), else the referrer's host (lower-case,
// no "www."), else "direct"; medium = the UTM medium (lower-case, "(not set)" when missing) for a
// session with a UTM source, "referral" for one with only a referrer, "(none)" for direct;
// campaign = the UTM campaign (trimmed) of a session with a UTM source, else none. A conversion
// counts in its session's row when the session started in the range and it happened before `to`.

type Q = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export type Grouping = "source" | "source_medium" | "campaign";

export interface RefSourceRow {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  sessions: number;
  visitors: number;
  conversions: number;
  converted_sessions: number;
  /** Reporting currency, unrounded, over the conversions with a rate. */
  revenue: number;
  no_fx: number;
}

export function referrerHost(referrer: string | null): string | null {
  const m = referrer === null ? null : /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#:]+)/.exec(referrer);
  if (!m) return null;
  return m[1]!.toLowerCase().replace(/^www\./, "") || null;
}

export function sessionKeys(s: { utm_source: string | null; utm_medium: string | null; utm_campaign: string | null; referrer: string | null }) {
  const utm = s.utm_source?.trim().toLowerCase() || null;
  const host = referrerHost(s.referrer);
  return {
    source: utm ?? host ?? "direct",
    medium: utm ? s.utm_medium?.trim().toLowerCase() || "(not set)" : host ? "referral" : "(none)",
    campaign: utm ? s.utm_campaign?.trim() || null : null,
  };
}

export const keyOf = (r: { source: string | null; medium: string | null; campaign: string | null }) => JSON.stringify([r.source, r.medium, r.campaign]);

export async function referenceSources(q: Q, orgId: string, currency: string, from: Date, to: Date, groupBy: Grouping): Promise<{ rows: Map<string, RefSourceRow>; total: RefSourceRow }> {
  const sessions = await q<{ id: string; visitor_id: string; utm_source: string | null; utm_medium: string | null; utm_campaign: string | null; referrer: string | null }>(
    `select s.id::text, s.visitor_id::text, s.utm_source, s.utm_medium, s.utm_campaign, s.referrer
       from visitor_sessions s join visitors v on v.id = s.visitor_id and v.is_bot = false
      where s.organization_id = $1 and s.started_at >= $2 and s.started_at < $3`,
    [orgId, from, to],
  );
  const conversions = await q<{ sid: string; amount: number | null }>(
    `select sid::text, amount from (
       select s.id as sid, marketsage_fx(x.value, trim(x.currency), $3, x.occurred_at)::float8 as amount,
              row_number() over (partition by x.id order by s.started_at desc, s.id desc) as rk
         from conversions x join visitor_sessions s on s.visitor_id = x.visitor_id and s.started_at <= x.occurred_at
        where x.organization_id = $1 and x.visitor_id is not null and x.occurred_at < $2) z
      where rk = 1`,
    [orgId, to, currency],
  );
  const bySession = new Map<string, Array<number | null>>();
  for (const c of conversions) bySession.set(c.sid, [...(bySession.get(c.sid) ?? []), c.amount]);
  const empty = (k: { source: string | null; medium: string | null; campaign: string | null }): RefSourceRow & { v: Set<string> } => ({
    ...k, sessions: 0, visitors: 0, conversions: 0, converted_sessions: 0, revenue: 0, no_fx: 0, v: new Set(),
  });
  const rows = new Map<string, RefSourceRow & { v: Set<string> }>();
  const total = empty({ source: null, medium: null, campaign: null });
  for (const s of sessions) {
    const k = sessionKeys(s);
    const key =
      groupBy === "source" ? { source: k.source, medium: null, campaign: null }
      : groupBy === "source_medium" ? { source: k.source, medium: k.medium, campaign: null }
      : k.campaign !== null ? { source: null, medium: null, campaign: k.campaign }
      : { source: k.source, medium: null, campaign: null };
    const id = keyOf(key);
    if (!rows.has(id)) rows.set(id, empty(key));
    const amounts = bySession.get(s.id) ?? [];
    for (const r of [rows.get(id)!, total]) {
      r.sessions++;
      r.v.add(s.visitor_id);
      r.conversions += amounts.length;
      if (amounts.length) r.converted_sessions++;
      for (const a of amounts) {
        if (a === null) r.no_fx++;
        else r.revenue += a;
      }
    }
  }
  const done = ({ v, ...r }: RefSourceRow & { v: Set<string> }): RefSourceRow => ({ ...r, visitors: v.size });
  return { rows: new Map([...rows].map(([k, r]) => [k, done(r)])), total: done(total) };
}
