// analyze_performance_trends and get_anomaly_detection through the production seam (the real SDK
// client), on the demo data: the documented incidents are found (each organization's delivery-
// failure day and its volume spike, packages/db seed anomalyDay / spikeDay); the tools' statistics
// equal the plain functions applied to a series computed here by hand-written SQL (emails sent per
// local day); flat and empty series say why nothing is flagged; strict input and scopes.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { anomalyDay, spikeDay } from "@marketsage/db/seed";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { analyzePerformanceTrends } from "../src/tools/trends.ts";
import { getAnomalyDetection } from "../src/tools/anomalies.ts";
import { forecastSeries } from "../src/stats/index.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";

const TOOLS = [analyzePerformanceTrends, getAnomalyDetection];
type Org = (typeof DEMO_ORGS)[number];
const tdb = useTestDatabase();
let runtime: Runtime;
let future: Runtime;
let sql: pg.Client;
const clients: TestClient[] = [];
const DAY = 86_400_000;

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => tdb.now });
  future = testRuntime(tdb.url, { now: () => new Date(tdb.now.getTime() + 400 * DAY) });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await sql?.end();
  await runtime?.close();
  await future?.close();
});

async function as(org: Org, role: Role = "USER", rt = runtime): Promise<TestClient> {
  const c = await connectTestClient({ server: "monitoring", tools: TOOLS, runtime: rt, apiKey: demoApiKey(org, role) });
  clients.push(c);
  return c;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(c: TestClient, name: string, args: Record<string, unknown>): Promise<any> {
  const r = await c.client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  const text = (r.content as Array<{ text?: string }>).map((x) => x.text ?? "").join("\n");
  expect(valuesMissingFromText(r.structuredContent, TOOLS.find((t) => t.name === name)!.output, text), text.slice(0, 2000)).toEqual([]);
  return { ...(r.structuredContent as object), text };
}

/** Messages sent per local day (the `days` whole days before today), by hand: outbound messages (of a channel, or all) created that day with an event other than QUEUED/FAILED. */
async function sentPerDay(org: Org, days: number, channel: string | null = "EMAIL"): Promise<{ days: string[]; values: number[] }> {
  const { rows } = await sql.query<{ day: string; n: number }>(
    `with bounds as (select (date_trunc('day', $2::timestamptz at time zone $3) - make_interval(days => $4)) as lo, date_trunc('day', $2::timestamptz at time zone $3) as hi),
          d as (select generate_series(lo, hi - interval '1 day', interval '1 day') as day from bounds)
     select to_char(d.day, 'YYYY-MM-DD') as day,
            (select count(*)::int from messages m
              where m.organization_id = $1 and m.direction = 'OUTBOUND' and ($5::text is null or m.channel::text = $5)
                and m.created_at >= d.day at time zone $3 and m.created_at < (d.day + interval '1 day') at time zone $3
                and exists (select 1 from message_events e where e.message_id = m.id and e.type not in ('QUEUED', 'FAILED'))) as n
       from d order by d.day`,
    [org.id, tdb.now, org.timeZone, days, channel],
  );
  return { days: rows.map((r) => r.day), values: rows.map((r) => r.n) };
}

const localDay = (utcMidnight: number, zone: string, hour: number) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(utcMidnight + hour * 3_600_000));

/** The bursts method, written plainly: robust z of log values among the non-zero days. */
function burstsReference(values: number[], days: string[]): Array<[string, number, number]> {
  const med = (xs: number[]) => {
    const s = [...xs].sort((p, q) => p - q);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const on = values.map((v, i) => [v, i] as const).filter(([v]) => v > 0);
  const logs = on.map(([v]) => Math.log(v));
  const m = med(logs);
  let spread = 1.482602218505602 * med(logs.map((l) => Math.abs(l - m)));
  if (spread === 0) spread = Math.sqrt(Math.PI / 2) * (logs.reduce((t, l) => t + Math.abs(l - logs.reduce((u, x) => u + x, 0) / logs.length), 0) / logs.length);
  spread = Math.max(spread, 0.05);
  return on.map(([v, i], k) => [days[i]!, v, (logs[k]! - m) / spread] as [string, number, number]).filter(([, , z]) => Math.abs(z) >= 3);
}

describe("get_anomaly_detection", () => {
  it("finds naija-retail's documented incidents: the delivery-failure day (critical) and the volume spike", async () => {
    const org = DEMO_ORGS[0]!;
    const out = await call(await as(org), "get_anomaly_detection", { days: 90, limit: 100 });
    const now = tdb.now.getTime();
    const failure = localDay(anomalyDay(now, 0), org.timeZone, 12);
    const spike = localDay(spikeDay(now, 0), org.timeZone, 12);
    const at = (kpi: string, day: string) => out.anomalies.find((a: { kpi: string; day: string }) => a.kpi === kpi && a.day === day);
    expect(at("delivery_rate", failure), `delivery_rate on ${failure}: ${out.text}`).toMatchObject({ direction: "below", severity: "critical" });
    expect(at("messages_sent", spike), `messages_sent on ${spike}: ${out.text}`).toMatchObject({ direction: "above" });
    // Not scanned by default, and said so when asked for.
    expect(out.kpis.map((k: { kpi: string }) => k.kpi)).not.toContain("roi");
    const asked = await call(await as(org), "get_anomaly_detection", { kpis: ["roi", "contacts_total"], days: 30 });
    expect(asked.kpis.map((k: { status: string }) => k.status)).toEqual(["not_applicable", "not_applicable"]);
  });

  it("every KPI reports a status and a reason; ratios are not judged on thin days", async () => {
    // savanna-fintech's tiny data (6 campaigns a year) is mostly empty days: intermittent or too thin to judge.
    const out = await call(await as(DEMO_ORGS[1]!), "get_anomaly_detection", { days: 90, limit: 100 });
    for (const k of out.kpis) {
      expect(["ok", "intermittent", "too_short", "flat", "no_data"]).toContain(k.status);
      expect(k.reason.length).toBeGreaterThan(10);
    }
    expect(out.kpis.find((k: { kpi: string }) => k.kpi === "messages_email").status).toBe("intermittent");
  });

  it("equals the methods applied to hand-computed series (an intermittent count; a daily ratio's volume gate)", async () => {
    const org = DEMO_ORGS[0]!;
    const hand = await sentPerDay(org, 90, null);
    const zeros = hand.values.filter((v) => v === 0).length;
    expect(zeros / hand.values.length).toBeGreaterThanOrEqual(0.4);
    const expected = burstsReference(hand.values, hand.days);
    const out = await call(await as(org), "get_anomaly_detection", { kpis: ["messages_sent"], days: 90, limit: 100 });
    expect(out.from).toBe(hand.days[0]);
    expect(out.to).toBe(hand.days.at(-1));
    expect(out.kpis[0]).toMatchObject({ status: "intermittent" });
    const got = out.anomalies.map((a: { day: string; value: number; z: number }) => [a.day, a.value, a.z]).sort();
    expect(got).toEqual(expected.map(([d, v, z]) => [d, v, Math.round(z * 100) / 100]).sort());
    expect(got.length).toBeGreaterThan(0);
  });

  it("a flat or empty series says why nothing is flagged", async () => {
    const out = await call(await as(DEMO_ORGS[0]!, "USER", future), "get_anomaly_detection", { kpis: ["messages_sent", "delivery_rate"], days: 30 });
    expect(out.anomalies).toEqual([]);
    expect(out.kpis).toEqual([
      expect.objectContaining({ kpi: "messages_sent", status: "flat", reason: expect.stringMatching(/every value is 0/) }),
      expect.objectContaining({ kpi: "delivery_rate", status: "no_data" }),
    ]);
  });
});

describe("analyze_performance_trends", () => {
  it("the forecast is the backtest-chosen method on the hand-computed series, with its bands", async () => {
    const org = DEMO_ORGS[1]!;
    const hand = await sentPerDay(org, 90);
    const f = forecastSeries(hand.values, { horizon: 14, period: 7 });
    const out = await call(await as(org), "analyze_performance_trends", { kpi: "messages_email", days: 90, horizon_days: 14 });
    expect(out.series.map((p: { value: number }) => p.value)).toEqual(hand.values);
    expect(out.forecast.method).toBe(f.method);
    expect(out.forecast.reason).toBe(f.reason);
    expect(out.forecast.points).toHaveLength(14);
    expect(out.forecast.points[0].day).toBe(new Date(new Date(`${hand.days.at(-1)}T00:00:00Z`).getTime() + DAY).toISOString().slice(0, 10));
    f.points.forEach((p, k) => {
      expect(out.forecast.points[k].mean).toBeCloseTo(Math.max(0, p.mean), 1);
      expect(out.forecast.points[k].upper95).toBeCloseTo(Math.max(0, p.upper95), 1);
    });
    expect(out.forecast.backtest.map((c: { method: string }) => c.method)).toEqual(f.backtest!.candidates.map((c) => c.method));
    if (!f.backtest!.beatsSeasonalNaive) expect(out.text).toMatch(/does not beat seasonal naive/);
    expect(out.seasonality.weekdays).toHaveLength(7);
    expect(["rising", "falling", "no clear trend"]).toContain(out.slope.direction);
  });

  it("weekly buckets, ratio bounds, strict input and scopes", async () => {
    const c = await as(DEMO_ORGS[0]!);
    const out = await call(c, "analyze_performance_trends", { kpi: "delivery_rate", days: 84, granularity: "week", horizon_days: 7 });
    expect(out.series.length).toBeGreaterThanOrEqual(12);
    for (const p of out.forecast.points) expect(p.lower95 >= 0 && p.upper95 <= 1).toBe(true);
    const bad = await c.client.callTool({ name: "analyze_performance_trends", arguments: { kpi: "delivery_rate", days: 10 } });
    expect(bad.isError).toBe(true);
    const unknown = await c.client.callTool({ name: "analyze_performance_trends", arguments: { kpi: "delivery_rate", city: "Lagos" } });
    expect(unknown.isError).toBe(true);
    const agent = await as(DEMO_ORGS[0]!, "AI_AGENT");
    expect((await agent.client.listTools()).tools.map((t) => t.name)).toContain("analyze_performance_trends");
  });
});
