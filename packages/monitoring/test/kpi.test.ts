// get_kpi_dashboard and get_real_time_metrics through the production seam (the real SDK client):
// every KPI, its previous value and every series point equal hand-written SQL over the base tables
// (contacts, messages, message_events, conversions, fx_rates, visitors, visitor_sessions,
// touchpoints) — per-message EXISTS lookups, a nearest-day FX lookup written here, local days as
// to_char in the organization's zone — for two organizations (Africa/Lagos NGN, Africa/Nairobi
// KES), a preset and a custom range, daily and weekly; isolation; scopes; strict input.
import pg from "pg";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, DEMO_ROLES, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import { ROLE_SCOPES, type Runtime } from "@marketsage/core";
import { ratio, roundMoney, roundRate } from "@marketsage/domain";
import { kpiTools } from "../src/tools/kpi.ts";
import { KPI_NAMES, kpiSeries, kpiValues, type KpiName } from "../src/kpi/index.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";

type Org = (typeof DEMO_ORGS)[number];
const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const B = DEMO_ORGS[1]!;
let runtime: Runtime;
let sql: pg.Client;
const clients: TestClient[] = [];

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => tdb.now });
  // The servers' sessions run in UTC (packages/db SESSION_OPTIONS): "the rate of the day" is the UTC day there and here.
  sql = new pg.Client({ connectionString: tdb.url, options: "-c timezone=UTC" });
  await sql.connect();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await sql?.end();
  await runtime?.close();
});

async function as(org: Org, role: Role): Promise<TestClient> {
  const c = await connectTestClient({ server: "monitoring", tools: kpiTools, runtime, apiKey: demoApiKey(org, role) });
  clients.push(c);
  return c;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(c: TestClient, name: string, args: Record<string, unknown>): Promise<any> {
  const r = await c.client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  const text = (r.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("\n");
  expect(valuesMissingFromText(r.structuredContent, kpiTools.find((t) => t.name === name)!.output, text)).toEqual([]);
  expect(text.length).toBeLessThan(8000);
  return r.structuredContent;
}

const q = async <T = Record<string, unknown>>(text: string, params: unknown[]): Promise<T[]> => (await sql.query(text, params)).rows as T[];

// The stored rate of the nearest day (ties to the later day) per 1 USD; USD is 1.
const RATE = (cur: string, day: string) => `(case when ${cur} = 'USD' then 1::numeric else
  (select r.rate from fx_rates r where r.base = 'USD' and r.quote = ${cur} order by abs(r.as_of - ${day}), r.as_of desc limit 1) end)`;
const TO_REPORTING = (amount: string, cur: string, at: string) =>
  `(case when trim(${cur}) = $4 then ${amount} else ${amount} * ${RATE("$4::char(3)", `(${at})::date`)} / ${RATE(`${cur}::char(3)`, `(${at})::date`)} end)`;

/** Every KPI over [a, b), by hand. */
async function hand(org: Org, a: Date, b: Date): Promise<Map<KpiName, number | null>> {
  const p = [org.id, a, b, org.reportingCurrency];
  const [c] = await q<{ total: number; created: number }>(
    `select count(*) filter (where created_at < $3)::int total, count(*) filter (where created_at >= $2 and created_at < $3)::int created
       from contacts where organization_id = $1 and $4::text is not null`, p);
  const [act] = await q<{ n: number }>(
    `select count(*)::int n from contacts k where k.organization_id = $1 and $4::text is not null and (
       exists (select 1 from message_events e where e.contact_id = k.id and e.organization_id = $1 and e.type::text in ('OPENED', 'CLICKED', 'REPLIED') and e.occurred_at >= $2 and e.occurred_at < $3)
       or exists (select 1 from touchpoints t where t.contact_id = k.id and t.organization_id = $1 and t.occurred_at >= $2 and t.occurred_at < $3)
       or exists (select 1 from conversions x where x.contact_id = k.id and x.organization_id = $1 and x.occurred_at >= $2 and x.occurred_at < $3))`, p);
  const msgs = await q<{ channel: string; sent: boolean; delivered: boolean; opened: boolean; clicked: boolean; cost: string | null }>(
    `select m.channel::text,
            exists (select 1 from message_events e where e.message_id = m.id and e.type::text not in ('QUEUED', 'FAILED')) sent,
            exists (select 1 from message_events e where e.message_id = m.id and e.type::text in ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED')) delivered,
            exists (select 1 from message_events e where e.message_id = m.id and e.type::text in ('OPENED', 'CLICKED')) opened,
            exists (select 1 from message_events e where e.message_id = m.id and e.type::text = 'CLICKED') clicked,
            ${TO_REPORTING("m.cost", "m.currency", "m.created_at")}::text cost
       from messages m where m.organization_id = $1 and m.direction::text = 'OUTBOUND' and m.created_at >= $2 and m.created_at < $3`, p);
  const conv = await q<{ v: string }>(
    `select ${TO_REPORTING("x.value", "x.currency", "x.occurred_at")}::text v from conversions x where x.organization_id = $1 and x.occurred_at >= $2 and x.occurred_at < $3`, p);
  const [vis] = await q<{ visitors: number; converting: number }>(
    `select count(*) filter (where exists (select 1 from visitor_sessions s where s.visitor_id = v.id and s.started_at >= $2 and s.started_at < $3))::int visitors,
            count(*) filter (where exists (select 1 from visitor_sessions s where s.visitor_id = v.id and s.started_at >= $2 and s.started_at < $3)
                               and exists (select 1 from conversions x where x.visitor_id = v.id and x.occurred_at >= $2 and x.occurred_at < $3))::int converting
       from visitors v where v.organization_id = $1 and not v.is_bot and $4::text is not null`, p);
  const n = (f: (m: (typeof msgs)[number]) => boolean) => msgs.filter(f).length;
  const sent = n((m) => m.sent), delivered = n((m) => m.delivered);
  const emailDelivered = n((m) => m.delivered && m.channel === "EMAIL");
  const cost = msgs.reduce((s, m) => s + (m.cost === null ? 0 : Number(m.cost)), 0);
  const revenue = conv.reduce((s, x) => s + Number(x.v), 0);
  return new Map<KpiName, number | null>([
    ["contacts_total", c!.total],
    ["new_contacts", c!.created],
    ["active_contacts", act!.n],
    ["messages_sent", sent],
    ["messages_email", n((m) => m.sent && m.channel === "EMAIL")],
    ["messages_sms", n((m) => m.sent && m.channel === "SMS")],
    ["messages_whatsapp", n((m) => m.sent && m.channel === "WHATSAPP")],
    ["delivery_rate", ratio(delivered, sent)],
    ["open_rate", ratio(n((m) => m.opened && m.channel === "EMAIL"), emailDelivered)],
    ["click_rate", ratio(n((m) => m.clicked), delivered)],
    ["conversions", conv.length],
    ["revenue", roundMoney(revenue, org.reportingCurrency)],
    ["cost", roundMoney(cost, org.reportingCurrency)],
    ["roi", cost ? roundRate((revenue - cost) / cost) : null],
    ["visitors", vis!.visitors],
    ["visitor_conversion_rate", ratio(vis!.converting, vis!.visitors)],
  ]);
}

const MONEY: readonly KpiName[] = ["revenue", "cost"];
function expectSame(k: KpiName, got: number | null, want: number | null, where: string): void {
  const msg = `${k} ${where}: got ${got}, want ${want}`;
  if (want === null || got === null) return expect(got, msg).toBe(want);
  // Sums of rounded-per-row vs rounded sums of numeric: within a minor unit.
  if (MONEY.includes(k)) return expect(Math.abs(got - want), msg).toBeLessThanOrEqual(0.011);
  if (k === "roi") return expect(Math.abs(got - want), msg).toBeLessThanOrEqual(0.0002);
  expect(got, msg).toBe(want);
}

/** The local midnight of a day in a zone, by PostgreSQL's calendar. */
async function midnight(day: string, tz: string): Promise<Date> {
  const [r] = await q<{ t: Date }>(`select ($1::date::timestamp at time zone $2) t`, [day, tz]);
  return r!.t;
}
const localDay = (d: Date, tz: string) => new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
const localTime = (d: Date, tz: string) => new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(d);
const plusDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function checkDashboard(org: Org, out: any, expectDays: number, granularity: "day" | "week"): Promise<void> {
  const r = out.range;
  const from = new Date(r.from), to = new Date(r.to), prevFrom = new Date(r.previous_from);
  expect(r.time_zone).toBe(org.timeZone);
  expect(r.days).toBe(expectDays);
  expect(out.series_granularity).toBe(granularity);
  // The range starts at the local midnight of its first day; the previous range is as long.
  expect(localDay(from, org.timeZone)).toBe(r.first_day);
  expect(localTime(from, org.timeZone)).toBe("00:00");
  expect(to.getTime() - from.getTime()).toBe(from.getTime() - prevFrom.getTime());
  expect(plusDays(r.first_day, expectDays - 1)).toBe(r.last_day);
  expect(out.kpis.map((k: { kpi: string }) => k.kpi)).toEqual([...KPI_NAMES]);

  const [cur, prev] = await Promise.all([hand(org, from, to), hand(org, prevFrom, from)]);
  const step = granularity === "day" ? 1 : 7;
  const starts: string[] = [];
  for (let d = r.first_day; d <= r.last_day; d = plusDays(d, step)) starts.push(d);
  const buckets = await Promise.all(
    starts.map(async (d, i) => {
      const a = i === 0 ? from : await midnight(d, org.timeZone);
      const bEnd = i === starts.length - 1 ? to : await midnight(starts[i + 1]!, org.timeZone);
      return hand(org, a, bEnd);
    }),
  );
  for (const k of out.kpis) {
    expectSame(k.kpi, k.value, cur.get(k.kpi)!, "value");
    expectSame(k.kpi, k.previous, prev.get(k.kpi)!, "previous");
    expect(k.series).toHaveLength(starts.length);
    k.series.forEach((v: number | null, i: number) => expectSame(k.kpi, v, buckets[i]!.get(k.kpi)!, `bucket ${starts[i]}`));
    if (k.value !== null && k.previous !== null) {
      expect(Math.abs(k.change - (k.value - k.previous))).toBeLessThan(1e-6);
      expect(k.change_ratio).toBe(k.previous === 0 ? null : roundRate(k.change / Math.abs(k.previous)));
    }
    expect(k.currency).toBe(k.unit === "money" ? org.reportingCurrency : null);
  }
}

describe("get_kpi_dashboard", () => {
  it("org A (Africa/Lagos, NGN), last 30 days: every KPI, previous value and daily point equals hand SQL", async () => {
    const out = await call(await as(A, "USER"), "get_kpi_dashboard", {});
    expect(out.range.period).toBe("30d");
    expect(out.range.last_day).toBe(localDay(tdb.now, A.timeZone));
    expect(out.range.to).toBe(tdb.now.toISOString());
    await checkDashboard(A, out, 30, "day");
    // The data make the comparison meaningful: activity in the range, amounts in other currencies.
    const v = new Map(out.kpis.map((k: { kpi: string; value: number }) => [k.kpi, k.value]));
    for (const k of ["messages_email", "messages_sms", "messages_whatsapp", "conversions", "visitors", "active_contacts", "new_contacts"]) expect(v.get(k), k).toBeGreaterThan(0);
    const [fx] = await q<{ conv: number; cost: number }>(
      `select (select count(*) from conversions where organization_id = $1 and currency <> $2 and occurred_at >= $3 and occurred_at < $4)::int conv,
              (select count(*) from messages where organization_id = $1 and currency <> $2 and cost > 0 and created_at >= $3 and created_at < $4)::int cost`,
      [A.id, A.reportingCurrency, out.range.previous_from, out.range.to],
    );
    expect(fx!.cost).toBeGreaterThan(0);
    expect(fx!.conv).toBeGreaterThan(0);
    expect(out.fx_missing).toBe(0);
  });

  it("org B (Africa/Nairobi, KES), a custom 14-day range and a 90-day weekly range", async () => {
    const c = await as(B, "AI_AGENT");
    const last = plusDays(localDay(tdb.now, B.timeZone), -7);
    const first = plusDays(last, -13);
    const custom = await call(c, "get_kpi_dashboard", { from: first, to: last });
    expect(custom.range).toMatchObject({ first_day: first, last_day: last, period: null });
    expect(custom.range.to).toBe((await midnight(plusDays(last, 1), B.timeZone)).toISOString());
    await checkDashboard(B, custom, 14, "day");
    const weekly = await call(c, "get_kpi_dashboard", { period: "90d" });
    await checkDashboard(B, weekly, 90, "week");
    expect(weekly.kpis[0].series).toHaveLength(13);
  });

  it("a KPI subset; the exported kpiSeries/kpiValues give the tool's numbers (ratios of sums)", async () => {
    const out = await call(await as(A, "ADMIN"), "get_kpi_dashboard", { period: "7d", kpis: ["revenue", "delivery_rate"] });
    expect(out.kpis.map((k: { kpi: string }) => k.kpi)).toEqual(["delivery_rate", "revenue"]);
    const org = { id: A.id, name: A.name, reportingCurrency: A.reportingCurrency, defaultCountry: A.defaultCountry, timeZone: A.timeZone };
    const from = new Date(out.range.from), to = new Date(out.range.to);
    const [values, series] = await Promise.all([
      kpiValues(runtime.db, org, { kpis: ["revenue", "delivery_rate"], from, to }),
      kpiSeries(runtime.db, org, { kpis: ["revenue", "delivery_rate"], from, to, granularity: "day" }),
    ]);
    expect(values.get("revenue")).toBe(out.kpis[1].value);
    expect(values.get("delivery_rate")).toBe(out.kpis[0].value);
    expect(series.get("revenue")!.map((p) => p.value)).toEqual(out.kpis[1].series);
    expect(series.get("revenue")!.map((p) => p.start)).toEqual(Array.from({ length: 7 }, (_, i) => plusDays(out.range.first_day, i)));
    // Cost alone (read without the events) and ROI equal the hand SQL too.
    const [costOnly, want] = await Promise.all([kpiValues(runtime.db, org, { kpis: ["cost", "roi"], from, to }), hand(A, from, to)]);
    expectSame("cost", costOnly.get("cost")!, want.get("cost")!, "cost alone");
    expectSame("roi", costOnly.get("roi")!, want.get("roi")!, "roi with cost alone");
    expect(costOnly.get("cost")).toBeGreaterThan(0);
  });

  it("isolation: a conversion added to A moves A's revenue by its converted value and leaves B's numbers alone", async () => {
    const a = await as(A, "USER");
    const b = await as(B, "USER");
    const [beforeA, beforeB] = [await call(a, "get_kpi_dashboard", { period: "7d" }), await call(b, "get_kpi_dashboard", { period: "7d" })];
    const at = new Date(tdb.now.getTime() - 3_600_000);
    await sql.query(`insert into conversions (id, organization_id, type, value, currency, occurred_at) values ($1, $2, 'purchase', 100.00, 'USD', $3)`, [randomUUID(), A.id, at]);
    const [rate] = await q<{ v: string }>(`select ${TO_REPORTING("100.00::numeric", "'USD'", "$3::timestamptz")}::text v from (select $1::uuid, $2::timestamptz) x`, [A.id, at, at, A.reportingCurrency]);
    const [afterA, afterB] = [await call(a, "get_kpi_dashboard", { period: "7d" }), await call(b, "get_kpi_dashboard", { period: "7d" })];
    const rev = (o: { kpis: Array<{ kpi: string; value: number }> }) => o.kpis.find((k) => k.kpi === "revenue")!.value;
    const conv = (o: { kpis: Array<{ kpi: string; value: number }> }) => o.kpis.find((k) => k.kpi === "conversions")!.value;
    expect(Math.abs(rev(afterA) - rev(beforeA) - Number(rate!.v))).toBeLessThanOrEqual(0.011);
    expect(conv(afterA)).toBe(conv(beforeA) + 1);
    expect(afterB.kpis).toEqual(beforeB.kpis);
    expect(afterB.kpis).not.toEqual(afterA.kpis);
  });

  it("an amount in a currency without a stored rate is counted, left out of revenue, and said", async () => {
    const a = await as(A, "USER");
    const before = await call(a, "get_kpi_dashboard", { period: "7d", kpis: ["conversions", "revenue"] });
    await sql.query(`insert into conversions (id, organization_id, type, value, currency, occurred_at) values ($1, $2, 'purchase', 5000, 'JPY', $3)`, [randomUUID(), A.id, new Date(tdb.now.getTime() - 7_200_000)]);
    const r = await a.client.callTool({ name: "get_kpi_dashboard", arguments: { period: "7d", kpis: ["conversions", "revenue"] } });
    const after = r.structuredContent as typeof before;
    expect(after.kpis[0].value).toBe(before.kpis[0].value + 1);
    expect(after.kpis[1].value).toBe(before.kpis[1].value);
    expect(after.fx_missing).toBe(before.fx_missing + 1);
    expect((r.content as Array<{ text: string }>)[0]!.text).toMatch(new RegExp(`without a stored FX rate, left out of revenue and cost: ${after.fx_missing}\\.`));
  });

  it("strict input and clear refusals", async () => {
    const c = await as(A, "USER");
    const bad = await c.client.callTool({ name: "get_kpi_dashboard", arguments: { period: "30d", organization_id: B.id } });
    expect(bad.isError).toBe(true);
    expect((bad.content as Array<{ text: string }>)[0]!.text).toMatch(/Unknown argument "organization_id"/);
    const both = await c.client.callTool({ name: "get_kpi_dashboard", arguments: { period: "7d", from: "2026-11-01" } });
    expect(both.isError).toBe(true);
    expect(JSON.stringify(both.content)).toMatch(/either period or from\/to/);
    const long = await c.client.callTool({ name: "get_kpi_dashboard", arguments: { from: "2026-01-01", to: "2026-11-01" } });
    expect(JSON.stringify(long.content)).toMatch(/at most 217/);
    const rt = await c.client.callTool({ name: "get_real_time_metrics", arguments: { minutes: 5000 } });
    expect(rt.isError).toBe(true);
  });

  it("the tools are listed exactly for the roles with monitoring:read", async () => {
    for (const role of DEMO_ROLES) {
      const listed = (await (await as(A, role)).client.listTools()).tools.map((t) => t.name).sort();
      expect(listed, role).toEqual(ROLE_SCOPES[role].includes("monitoring:read") ? ["get_kpi_dashboard", "get_real_time_metrics"] : []);
    }
    for (const t of kpiTools) expect(t.scopes).toEqual(["monitoring:read"]);
  });
});

describe("get_real_time_metrics", () => {
  it("the last N minutes vs the N before equal hand SQL, with inserted recent rows counted", async () => {
    const now = tdb.now;
    const min = (m: number) => new Date(now.getTime() - m * 60_000);
    const [visitor] = await q<{ id: string }>(`select id from visitors where organization_id = $1 and not is_bot limit 1`, [A.id]);
    // Recent rows for A: 3 sends (2 delivered, 1 failed) 5 minutes ago, 1 send 20 minutes ago (previous window of 15), a touchpoint and a conversion.
    const ids = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    for (const [i, id] of ids.entries()) {
      await sql.query(`insert into messages (id, organization_id, channel, direction, recipient, status, created_at) values ($1, $2, 'SMS', 'OUTBOUND', '+2348030000000', 'SENT', $3)`, [id, A.id, i < 3 ? min(5) : min(20)]);
    }
    await sql.query(
      `insert into message_events (organization_id, message_id, channel, type, occurred_at) values ($1, $2, 'SMS', 'DELIVERED', $5), ($1, $3, 'SMS', 'DELIVERED', $5), ($1, $3, 'SMS', 'DELIVERED', $5), ($1, $4, 'SMS', 'FAILED', $5)`,
      [A.id, ids[0], ids[1], ids[2], min(4)],
    );
    await sql.query(`insert into touchpoints (organization_id, visitor_id, type, url, occurred_at) values ($1, $2, 'PAGEVIEW', 'https://example.test/', $3)`, [A.id, visitor!.id, min(3)]);
    await sql.query(`insert into conversions (id, organization_id, type, value, currency, occurred_at) values ($1, $2, 'signup', 0, 'NGN', $3)`, [randomUUID(), A.id, min(2)]);

    const c = await as(A, "IT_ADMIN");
    for (let i = 0; i < 3; i++) await call(c, "get_kpi_dashboard", { period: "7d", kpis: ["conversions"] });
    const out = await call(c, "get_real_time_metrics", { minutes: 15 });
    expect(out).toMatchObject({ minutes: 15, to: now.toISOString(), from: min(15).toISOString(), previous_from: min(30).toISOString() });
    const hand = async (a: Date, b: Date) => {
      const p = [A.id, a, b];
      const one = async (s: string) => (await q<{ n: number }>(s, p))[0]!.n;
      return {
        tool_calls: await one(`select count(*)::int n from audit_events where organization_id = $1 and occurred_at >= $2 and occurred_at < $3`),
        sends: await one(`select count(*)::int n from messages where organization_id = $1 and direction::text = 'OUTBOUND' and created_at >= $2 and created_at < $3`),
        deliveries: await one(`select count(*)::int n from messages m where m.organization_id = $1 and exists (select 1 from message_events e where e.message_id = m.id and e.type::text = 'DELIVERED' and e.occurred_at >= $2 and e.occurred_at < $3)`),
        failures: await one(`select count(*)::int n from messages m where m.organization_id = $1 and exists (select 1 from message_events e where e.message_id = m.id and e.type::text in ('FAILED', 'BOUNCED') and e.occurred_at >= $2 and e.occurred_at < $3)`),
        visitors: await one(`select count(*)::int n from visitors v where v.organization_id = $1 and not v.is_bot and exists (select 1 from touchpoints t where t.visitor_id = v.id and t.occurred_at >= $2 and t.occurred_at < $3)`),
        conversions: await one(`select count(*)::int n from conversions where organization_id = $1 and occurred_at >= $2 and occurred_at < $3`),
      } as Record<string, number>;
    };
    const [cur, prev] = await Promise.all([hand(min(15), now), hand(min(30), min(15))]);
    for (const m of out.metrics) {
      expect(m.value, m.metric).toBe(cur[m.metric]);
      expect(m.previous, m.metric).toBe(prev[m.metric]);
      expect(m.change).toBe(m.value - m.previous);
    }
    const by = new Map(out.metrics.map((m: { metric: string; value: number }) => [m.metric, m.value]));
    expect(by.get("sends")).toBeGreaterThanOrEqual(3);
    expect(by.get("deliveries")).toBeGreaterThanOrEqual(2);
    expect(by.get("failures")).toBeGreaterThanOrEqual(1);
    expect(by.get("conversions")).toBeGreaterThanOrEqual(1);
    expect(by.get("visitors")).toBeGreaterThanOrEqual(1);
    // B sees none of A's rows: its counts are its own.
    const outB = await call(await as(B, "USER"), "get_real_time_metrics", { minutes: 15 });
    const sendsB = (await q<{ n: number }>(`select count(*)::int n from messages where organization_id = $1 and direction::text = 'OUTBOUND' and created_at >= $2 and created_at < $3`, [B.id, min(15), now]))[0]!.n;
    expect(outB.metrics.find((m: { metric: string }) => m.metric === "sends").value).toBe(sendsB);
  });
});
