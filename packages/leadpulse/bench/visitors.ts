// leadpulse's visitor tools at the current scale (get_real_time_visitors,
// identify_high_intent_visitors, get_visitor, analyze_visitor_behavior), beside hand-written SQL
// where one query gives the same answer. The lead wires `benchLeadpulseVisitors` into the
// package's bench entry (BenchSpec part "leadpulse-visitors").
//
// The clock is the data's: the organization's latest touchpoint (the seed's "now"), so the
// real-time window holds the seeded live visitors whenever the bench runs.
import type { AnyTool, BenchContext, BenchSample as Sample } from "@marketsage/core";
import { analyzeVisitorBehavior } from "../src/tools/analyze-visitor-behavior.ts";
import { getRealTimeVisitors } from "../src/tools/get-real-time-visitors.ts";
import { getVisitor } from "../src/tools/get-visitor.ts";
import { identifyHighIntentVisitors } from "../src/tools/identify-high-intent-visitors.ts";
import { onDataClock } from "./data-clock.ts";

const TOOLS: AnyTool[] = [getRealTimeVisitors, identifyHighIntentVisitors, getVisitor, analyzeVisitorBehavior];

// Active visitors in the window and the one before it, with pages and countries, by hand.
const REALTIME_SQL = `
  with t as (select t.visitor_id, t.url, t.type, t.occurred_at > $2::timestamptz - make_interval(mins => $3) cur
               from touchpoints t join visitors v on v.id = t.visitor_id and not v.is_bot
              where t.organization_id = $1 and t.occurred_at > $2::timestamptz - make_interval(mins => 2 * $3) and t.occurred_at <= $2)
  select cur, count(distinct visitor_id), count(*) filter (where type = 'PAGEVIEW'),
         (select json_agg(x) from (select marketsage_url_path(url) p, count(distinct visitor_id) from t where type = 'PAGEVIEW' group by 1 order by 2 desc limit 5) x),
         (select json_agg(x) from (select v.country, count(distinct t.visitor_id) from t join visitors v on v.id = t.visitor_id group by 1 order by 2 desc limit 5) x)
    from t group by cur`;

// One visitor's journey page and sessions, by hand.
const VISITOR_SQL = `
  select (select count(*) from visitor_sessions where visitor_id = $2),
         (select json_agg(x) from (select type, url, occurred_at from touchpoints where organization_id = $1 and visitor_id = $2 order by occurred_at, id limit 21) x)`;

export async function benchLeadpulseVisitors(b: BenchContext): Promise<Sample[]> {
  const { orgId, n, time } = b;
  const { now, sql, call, close } = await onDataClock(b, TOOLS);
  const visitors = (
    await sql(`select id::text from visitors where organization_id = $1 and not is_bot and last_seen_at >= $2 order by hashtext(id::text) limit 50`, [orgId, new Date(now.getTime() - 30 * 86_400_000)])
  ).rows.map((r) => r.id as string);
  const pick = (i: number) => visitors[i % visitors.length]!;
  const out: Sample[] = [];
  const live = await call("get_real_time_visitors", {});
  const few = Math.min(n, 10);

  for (const minutes of [5, 30]) {
    out.push({
      name: `get_real_time_visitors (${minutes} min)`,
      ms: await time(n, () => call("get_real_time_visitors", { minutes })),
      reference: { name: "SQL: visitors, pages, countries in both windows", ms: await time(n, () => sql(REALTIME_SQL, [orgId, now, minutes])) },
      note: minutes === 5 ? `${(live.active_visitors as { current: number }).current} active at the data's now (${now.toISOString()})` : undefined,
    });
  }
  const scored: string[] = [];
  for (const [label, args] of [
    ["30 days, top 10", {}],
    ["30 days, identified only", { identified_only: true }],
    ["7 days, band high", { active_days: 7, band: "high" }],
    ["30 days, band low, top 50", { band: "low", limit: 50 }],
  ] as const) {
    let last: Record<string, unknown> = {};
    const ms = await time(few, async () => {
      last = await call("identify_high_intent_visitors", args);
    });
    scored.push(`${label}: scored ${last.scored} of ${last.active_visitors} active, complete ${last.complete}`);
    out.push({ name: `identify_high_intent_visitors (${label})`, ms, note: scored[scored.length - 1] });
  }
  out.push({
    name: "get_visitor (journey page of 20)",
    ms: await time(n, (i) => call("get_visitor", { id: pick(i) })),
    reference: { name: "SQL: sessions + first 21 touchpoints", ms: await time(n, (i) => sql(VISITOR_SQL, [orgId, pick(i)])) },
  });
  out.push({ name: "analyze_visitor_behavior (one visitor)", ms: await time(n, (i) => call("analyze_visitor_behavior", { id: pick(i) })) });
  for (const [label, args] of [
    ["7 days", { range: { preset: "7d" } }],
    ["30 days", {}],
    ["30 days, MOBILE NG returning", { device: "MOBILE", country: "NG", visitor_type: "returning" }],
  ] as const) {
    out.push({ name: `analyze_visitor_behavior (population, ${label})`, ms: await time(Math.min(n, 5), () => call("analyze_visitor_behavior", args)) });
  }
  await close();
  return out;
}
