// analyze_campaign_trends and get_channel_overview against an independent computation: every
// message's flags and every conversion's attribution come from hand-written SQL over the base tables
// (EXISTS per kind of event, a window function for the latest message, FX row by row), and the
// buckets, partial flags, gaps, slopes and changes are worked out here in TypeScript (local days from
// Intl, not from the database), so nothing is shared with the tools' queries.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { analyzeCampaignTrends } from "../src/tools/analyze-campaign-trends.ts";
import { getChannelOverview } from "../src/tools/get-channel-overview.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";

type Org = (typeof DEMO_ORGS)[number];
type Channel = "EMAIL" | "SMS" | "WHATSAPP";
const ORG_A = DEMO_ORGS[0]!;
const ORG_B = DEMO_ORGS[1]!;
const CHANNELS: Channel[] = ["EMAIL", "SMS", "WHATSAPP"];
const DAY = 86_400_000;

interface RefMsg { id: string; at: Date; channel: Channel; campaign: string | null; contact: string; s: boolean; d: boolean; f: boolean; b: boolean; o: boolean; c: boolean; r: boolean; u: boolean; cost: number | null }
interface RefConv { contact: string; campaign: string; msg_at: Date; channel: Channel; value: number | null }
interface RefData { msgs: RefMsg[]; convs: RefConv[] }

// Written out from the definitions' words (not imported), with where each exists.
const COUNT: Record<string, (m: RefMsg) => boolean> = {
  messages: () => true, sent: (m) => m.s, delivered: (m) => m.d, failed: (m) => m.f, bounced: (m) => m.b,
  opened: (m) => m.o, clicked: (m) => m.c, replied: (m) => m.r, unsubscribed: (m) => m.u,
};
const RATE: Record<string, [string, string, Channel[]]> = {
  delivery_rate: ["delivered", "sent", CHANNELS],
  open_rate: ["opened", "delivered", ["EMAIL", "WHATSAPP"]],
  click_rate: ["clicked", "delivered", CHANNELS],
  click_to_open_rate: ["clicked", "opened", ["EMAIL", "WHATSAPP"]],
  reply_rate: ["replied", "delivered", ["SMS", "WHATSAPP"]],
  conversion_rate: ["converted", "delivered", CHANNELS],
  unsubscribe_rate: ["unsubscribed", "delivered", CHANNELS],
  bounce_rate: ["bounced", "sent", ["EMAIL"]],
  failure_rate: ["failed", "messages", CHANNELS],
};
const ENGAGED: Record<Channel, (m: RefMsg) => boolean> = { EMAIL: (m) => m.o || m.c, SMS: (m) => m.c || m.r, WHATSAPP: (m) => m.o || m.c || m.r };

const tdb = useTestDatabase();
let runtime: Runtime;
let sql: pg.Client;
const clients = new Map<string, TestClient>();
const data = new Map<string, RefData>();

async function q<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await sql.query(text, params)).rows as T[];
}

async function client(org: Org): Promise<TestClient> {
  let c = clients.get(org.slug);
  if (!c) {
    c = await connectTestClient({ server: "campaign-analytics", tools: [analyzeCampaignTrends, getChannelOverview], runtime, apiKey: demoApiKey(org, "USER") });
    clients.set(org.slug, c);
  }
  return c;
}
const text = (r: unknown) => (((r as { content?: unknown }).content as Array<{ text?: string }>) ?? []).map((c) => c.text ?? "").join("\n");
async function callRaw(name: string, args: Record<string, unknown>, org = ORG_A) {
  return (await client(org)).client.callTool({ name, arguments: args });
}
async function call(name: string, args: Record<string, unknown>, org = ORG_A): Promise<any> {
  const r = await callRaw(name, args, org);
  expect(r.isError, text(r)).toBeFalsy();
  const tool = name === "analyze_campaign_trends" ? analyzeCampaignTrends : getChannelOverview;
  expect(valuesMissingFromText(r.structuredContent, tool.output, text(r)), text(r)).toEqual([]);
  return r.structuredContent;
}

/**
 * Messages whose local day, week or month differs from UTC's (the seeded sends are all in daytime):
 * for A (Lagos, UTC+1) 23:30Z on Oct 31 is Nov 1 and 23:15Z on Sunday Nov 8 is Monday's week; for B
 * (Nairobi, UTC+3) 21:30Z on Oct 31 is Nov 1. One has its open and click recorded twice (counted
 * once), one was opened without a delivery report (opened, not engaged), one contact gets the
 * campaign twice before converting (the latest message takes the conversion), one converts at the
 * window's very end.
 */
interface Planted { at: string; events: string[]; contactOf?: number; convertAfterMinutes?: number }
async function plant(org: Org, msgs: Planted[]) {
  const [camp] = await q<{ id: string }>(
    `select id::text from campaigns where organization_id = $1 and channel = 'EMAIL' and status = 'SENT' order by sent_at desc limit 1`, [org.id]);
  const contacts = await q<{ id: string; email: string }>(
    `select c.id::text, c.email from contacts c where c.organization_id = $1 and c.email is not null
        and not exists (select 1 from messages m where m.contact_id = c.id and m.campaign_id = $2) order by c.id limit $3`, [org.id, camp!.id, msgs.length]);
  for (const [i, t] of msgs.entries()) {
    const who = contacts[t.contactOf ?? i]!;
    const [m] = await q<{ id: string }>(
      `insert into messages (id, organization_id, campaign_id, contact_id, channel, direction, recipient, provider, segments, cost, currency, status, created_at)
       values (gen_random_uuid(), $1, $2, $3, 'EMAIL', 'OUTBOUND', $4, 'smtp', 1, 0.0001, 'USD', 'DELIVERED', $5) returning id::text`,
      [org.id, camp!.id, who.id, who.email, t.at]);
    for (const [k, type] of t.events.entries()) {
      await q(`insert into message_events (organization_id, message_id, campaign_id, contact_id, channel, type, occurred_at)
               values ($1, $2, $3, $4, 'EMAIL', $5, $6::timestamptz + $7 * interval '1 minute')`, [org.id, m!.id, camp!.id, who.id, type, t.at, k + 1]);
    }
    if (t.convertAfterMinutes !== undefined) {
      await q(`insert into conversions (id, organization_id, contact_id, campaign_id, type, value, currency, occurred_at)
               values (gen_random_uuid(), $1, $2, $3, 'purchase', 5000, $4, $5::timestamptz + $6 * interval '1 minute')`,
        [org.id, who.id, camp!.id, org.reportingCurrency, t.at, t.convertAfterMinutes]);
    }
  }
}

async function loadRef(org: Org, attributionDays = 7): Promise<RefData> {
  const has = (cond: string) => `exists (select 1 from message_events e where e.message_id = m.id and ${cond})`;
  const msgs = await q<RefMsg>(
    `select m.id::text, m.created_at as at, m.channel::text as channel, m.campaign_id::text as campaign, m.contact_id::text as contact,
            ${has(`e.type not in ('QUEUED', 'FAILED')`)} s, ${has(`e.type = 'DELIVERED'`)} d, ${has(`e.type = 'FAILED'`)} f,
            ${has(`e.type = 'BOUNCED'`)} b, ${has(`e.type = 'OPENED'`)} o, ${has(`e.type = 'CLICKED'`)} c,
            ${has(`e.type = 'REPLIED'`)} r, ${has(`e.type = 'UNSUBSCRIBED'`)} u,
            case when m.cost is not null and m.currency is not null then marketsage_fx(m.cost, trim(m.currency), $2, m.created_at)::float8 end as cost
       from messages m where m.organization_id = $1 and m.direction = 'OUTBOUND'`, [org.id, org.reportingCurrency]);
  const convs = await q<RefConv>(
    `select t.contact_id::text as contact, t.campaign_id::text as campaign, t.mc as msg_at, t.channel::text as channel,
            marketsage_fx(t.value, trim(t.currency), $2, t.occurred_at)::float8 as value
       from (select x.*, m.created_at mc, m.channel, row_number() over (partition by x.id order by m.created_at desc) rn
               from conversions x join messages m on m.organization_id = x.organization_id and m.campaign_id = x.campaign_id
                and m.contact_id = x.contact_id and m.direction = 'OUTBOUND'
                and m.created_at <= x.occurred_at and x.occurred_at <= m.created_at + $3 * interval '1 day'
              where x.organization_id = $1) t
      where t.rn = 1`, [org.id, org.reportingCurrency, attributionDays]);
  for (const c of convs) expect(c.value, "every conversion has an FX rate in the demo data").not.toBeNull();
  return { msgs, convs };
}

// ---- local calendar, from Intl ----
const dayFormats = new Map<string, Intl.DateTimeFormat>();
function localDay(t: Date, tz: string): string {
  let f = dayFormats.get(tz);
  if (!f) dayFormats.set(tz, (f = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })));
  return f.format(t);
}
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
function labelOf(day: string, unit: string): string {
  if (unit === "month") return day.slice(0, 7);
  if (unit === "week") return addDays(day, -((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7));
  return day;
}
function nextLabel(label: string, unit: string): string {
  if (unit === "day") return addDays(label, 1);
  if (unit === "week") return addDays(label, 7);
  const [y, m] = label.split("-").map(Number);
  return m === 12 ? `${y! + 1}-01` : `${y}-${String(m! + 1).padStart(2, "0")}`;
}
/** The instant of a local date's midnight: the offset is found by asking Intl what local time an instant is. */
function localMidnight(label: string, tz: string): Date {
  const day = label.length === 7 ? `${label}-01` : label;
  const guess = Date.parse(`${day}T00:00:00Z`);
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(guess);
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const shownAsUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
  return new Date(guess - (shownAsUtc - guess));
}

interface Measure { num: number; den: number | null }
function measure(metric: string, msgs: RefMsg[], convs: RefConv[]): Measure {
  if (metric === "revenue") return { num: convs.reduce((s, c) => s + c.value!, 0), den: null };
  if (metric === "sent") return { num: msgs.filter((m) => m.s).length, den: null };
  const count = (k: string) => (k === "converted" ? new Set(convs.map((c) => `${c.campaign}|${c.contact}`)).size : msgs.filter(COUNT[k]!).length);
  return { num: count(RATE[metric]![0]), den: count(RATE[metric]![1]) };
}
const valueOf = (m: Measure) => (m.den === null ? m.num : m.den > 0 ? m.num / m.den : null);

function refTrend(org: Org, d: RefData, a: { metric: string; from: Date; to: Date; unit: string; channel?: Channel; campaign?: string }) {
  const tz = org.timeZone;
  const campaignChannel = a.campaign ? d.msgs.find((m) => m.campaign === a.campaign)!.channel : undefined;
  const channels = campaignChannel ? [campaignChannel] : a.channel ? [a.channel] : a.metric in RATE ? RATE[a.metric]![2] : CHANNELS;
  const msgsIn = (from: Date, to: Date) =>
    d.msgs.filter((m) => m.campaign !== null && (!a.campaign || m.campaign === a.campaign) && channels.includes(m.channel) && m.at >= from && m.at < to);
  const convsIn = (from: Date, to: Date) =>
    d.convs.filter((c) => (!a.campaign || c.campaign === a.campaign) && channels.includes(c.channel) && c.msg_at >= from && c.msg_at < to);
  const labels: string[] = [];
  for (let day = localDay(a.from, tz); day <= localDay(new Date(a.to.getTime() - 1), tz); day = addDays(day, 1)) {
    const l = labelOf(day, a.unit);
    if (labels.at(-1) !== l) labels.push(l);
  }
  const msgs = msgsIn(a.from, a.to);
  const convs = convsIn(a.from, a.to);
  const msgLabel = new Map(msgs.map((x) => [x, labelOf(localDay(x.at, tz), a.unit)]));
  const convLabel = new Map(convs.map((x) => [x, labelOf(localDay(x.msg_at, tz), a.unit)]));
  const buckets = labels.map((l) => {
    const start = localMidnight(l, tz);
    const end = localMidnight(nextLabel(l, a.unit), tz);
    const inBucket = msgs.filter((x) => msgLabel.get(x) === l);
    const m = measure(a.metric, inBucket, convs.filter((x) => convLabel.get(x) === l));
    return { label: l, start: start.toISOString(), partial: start < a.from || end > a.to, volume: inBucket.length, m, value: valueOf(m) };
  });
  const previousFrom = new Date(a.from.getTime() - (a.to.getTime() - a.from.getTime()));
  return {
    channels,
    buckets,
    msgs,
    current: valueOf(measure(a.metric, msgs, convs)),
    previous: valueOf(measure(a.metric, msgsIn(previousFrom, a.from), convsIn(previousFrom, a.from))),
  };
}

/** The Theil–Sen slope by brute force: the median of every pairwise slope. */
function medianPairwiseSlope(points: Array<{ x: number; y: number }>): number | null {
  if (points.length < 3) return null;
  const s: number[] = [];
  for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) s.push((points[j]!.y - points[i]!.y) / (points[j]!.x - points[i]!.x));
  s.sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const near = (actual: number | null, expected: number | null, tol: number) => {
  if (expected === null) return expect(actual).toBeNull();
  expect(actual).not.toBeNull();
  expect(Math.abs(actual! - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
};
const tolOf = (metric: string) => (metric === "revenue" ? 0.0051 : metric === "sent" ? 0 : 0.0000501);

async function checkTrend(org: Org, args: Record<string, any>, expectUnit: string) {
  const out = await call("analyze_campaign_trends", args, org);
  const metric = args.metric ?? "click_rate";
  expect(out.granularity).toBe(expectUnit);
  expect(out.time_zone).toBe(org.timeZone);
  const ref = refTrend(org, data.get(org.slug)!, { metric, from: new Date(out.range.from), to: new Date(out.range.to), unit: expectUnit, channel: args.channel, campaign: args.campaign_id });
  expect(out.channels).toEqual(ref.channels);
  expect(out.buckets.map((b: any) => b.label)).toEqual(ref.buckets.map((b) => b.label));
  out.buckets.forEach((b: any, i: number) => {
    const r = ref.buckets[i]!;
    expect({ label: b.label, start: b.start, partial: b.partial, volume: b.volume }).toEqual({ label: r.label, start: r.start, partial: r.partial, volume: r.volume });
    if (r.m.den !== null) expect([b.numerator, b.denominator]).toEqual([r.m.num, r.m.den]);
    else expect([b.numerator, b.denominator]).toEqual([null, null]);
    near(b.value, r.value, tolOf(metric));
  });
  // Slope: rates over buckets with a denominator, counts and amounts over whole buckets.
  const usable = (b: (typeof ref.buckets)[number]) => (b.m.den !== null ? b.m.den > 0 : !b.partial);
  const points = ref.buckets.flatMap((b, i) => (usable(b) ? [{ x: i, y: b.value! }] : []));
  const slope = medianPairwiseSlope(points);
  expect(out.slope.n).toBe(points.length);
  near(out.slope.value, slope, metric === "revenue" ? 0.0051 : metric === "sent" ? 0.0051 : 0.00000051);
  if (slope === null) expect(out.slope.direction).toBe("not enough data");
  else if (out.slope.low !== null) {
    expect(out.slope.low).toBeLessThanOrEqual(out.slope.value);
    expect(out.slope.high).toBeGreaterThanOrEqual(out.slope.value);
    expect(out.slope.direction).toBe(out.slope.low > 0 ? "rising" : out.slope.high < 0 ? "falling" : "flat");
  }
  near(out.change.current, ref.current, tolOf(metric));
  near(out.change.previous, ref.previous, tolOf(metric));
  near(out.change.absolute, ref.current !== null && ref.previous !== null ? ref.current - ref.previous : null, 2 * tolOf(metric) + 1e-9);
  if (ref.previous) near(out.change.relative, (ref.current! - ref.previous) / ref.previous, 0.0002);
  else expect(out.change.relative).toBeNull();
  return { out, ref };
}

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => tdb.now });
  sql = new pg.Client({ connectionString: tdb.url, options: "-c timezone=UTC" });
  await sql.connect();
  await plant(ORG_A, [
    { at: "2026-10-31T23:30:00Z", events: ["QUEUED", "SENT", "DELIVERED", "OPENED", "OPENED", "CLICKED", "CLICKED"], convertAfterMinutes: 90 },
    { at: "2026-10-31T22:30:00Z", events: ["QUEUED", "SENT", "DELIVERED"] },
    { at: "2026-11-08T23:15:00Z", events: ["QUEUED", "SENT", "DELIVERED", "OPENED"] },
    { at: "2026-11-03T09:00:00Z", events: ["QUEUED", "SENT", "OPENED"] },
    { at: "2026-11-01T10:00:00Z", events: ["QUEUED", "SENT", "DELIVERED", "CLICKED"] },
    { at: "2026-11-05T10:00:00Z", events: ["QUEUED", "SENT", "DELIVERED"], contactOf: 4, convertAfterMinutes: 120 },
    { at: "2026-10-25T02:00:00Z", events: ["QUEUED", "SENT", "DELIVERED", "CLICKED"] },
    // Converts exactly 7 days after the message: the window's end is included.
    { at: "2026-11-02T08:00:00Z", events: ["QUEUED", "SENT", "DELIVERED", "CLICKED"], convertAfterMinutes: 7 * 24 * 60 },
  ]);
  await plant(ORG_B, [
    { at: "2026-10-31T21:30:00Z", events: ["QUEUED", "SENT", "DELIVERED", "CLICKED"], convertAfterMinutes: 60 },
    { at: "2026-10-31T20:30:00Z", events: ["QUEUED", "SENT", "DELIVERED"] },
  ]);
  data.set(ORG_A.slug, await loadRef(ORG_A));
  data.set(ORG_B.slug, await loadRef(ORG_B));
});
afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await sql?.end();
  await runtime?.close();
});

describe("analyze_campaign_trends", () => {
  it("whole organization, default 90 days by week: every bucket with gaps as zero volume, slope and change", async () => {
    const { out } = await checkTrend(ORG_A, {}, "week");
    expect(out.metric).toBe("click_rate");
    expect(out.buckets.length).toBe(14);
    expect(out.buckets.filter((b: any) => b.volume === 0 && b.value === null).length).toBeGreaterThan(3);
    expect(out.buckets[0].partial).toBe(true);
  });

  it("a range crossing a month boundary in Lagos, by day and by month (a message at 23:30Z on Oct 31 is November's)", async () => {
    const range = { from: "2026-10-20T00:00:00Z", to: "2026-11-20T00:00:00Z" };
    const byDay = await checkTrend(ORG_A, { metric: "open_rate", channel: "EMAIL", range }, "day");
    expect(byDay.out.channels).toEqual(["EMAIL"]);
    const months = await checkTrend(ORG_A, { metric: "click_rate", range: { from: "2026-09-15T00:00:00Z", to: "2026-11-20T00:00:00Z" }, granularity: "month" }, "month");
    expect(months.out.buckets.map((b: any) => b.label)).toEqual(["2026-09", "2026-10", "2026-11"]);
    // The test is only meaningful if some counted message's local month differs from its UTC month.
    expect(months.ref.msgs.some((m) => localDay(m.at, ORG_A.timeZone).slice(0, 7) !== m.at.toISOString().slice(0, 7))).toBe(true);
    expect(months.out.buckets[1].start).toBe("2026-09-30T23:00:00.000Z");
    // The previous period of the first week of November starts at 00:00Z on Oct 25, two hours before a planted click.
    const week = await checkTrend(ORG_A, { metric: "click_rate", range: { from: "2026-11-01T00:00:00Z", to: "2026-11-08T00:00:00Z" } }, "day");
    expect(week.out.range.previous_from).toBe("2026-10-25T00:00:00.000Z");
    expect(week.out.change.previous).toBeGreaterThan(0);
  });

  it("by week, weeks start on Monday in local time (23:15Z on Sunday Nov 8 is in the week of Nov 9)", async () => {
    const { ref } = await checkTrend(ORG_A, { metric: "open_rate", range: { from: "2026-10-26T00:00:00Z", to: "2026-11-20T00:00:00Z" }, granularity: "week" }, "week");
    expect(ref.msgs.some((m) => labelOf(localDay(m.at, ORG_A.timeZone), "week") !== labelOf(m.at.toISOString().slice(0, 10), "week"))).toBe(true);
  });

  it("one campaign, each kind of metric: a rate, sent (count) and revenue, and conversions by the attributed message", async () => {
    const [big] = await q<{ id: string }>(
      `select c.id::text from campaigns c where c.organization_id = $1 and c.channel = 'EMAIL' order by (select count(*) from messages m where m.campaign_id = c.id) desc limit 1`, [ORG_A.id]);
    const one = await checkTrend(ORG_A, { campaign_id: big!.id, metric: "delivery_rate", range: { preset: "30d" } }, "day");
    expect(one.out.campaign.id).toBe(big!.id);
    expect(one.out.buckets.reduce((s: number, b: any) => s + b.volume, 0)).toBeGreaterThan(50);
    await checkTrend(ORG_A, { metric: "sent", channel: "SMS", range: { preset: "90d" } }, "week");
    const rev = await checkTrend(ORG_A, { metric: "revenue", range: { preset: "1y" } }, "month");
    expect(rev.out.unit).toBe("NGN");
    expect(rev.out.change.current).toBeGreaterThan(0);
    const conv = await checkTrend(ORG_A, { metric: "conversion_rate", range: { preset: "90d" }, granularity: "day" }, "day");
    expect(conv.out.buckets.some((b: any) => b.numerator > 0)).toBe(true);
    // The contact messaged on Nov 1 and Nov 5 converts on Nov 5: the conversion is in Nov 5's bucket.
    const twice = await checkTrend(ORG_A, { metric: "conversion_rate", channel: "EMAIL", range: { from: "2026-10-31T12:00:00Z", to: "2026-11-07T12:00:00Z" } }, "day");
    expect(twice.out.buckets.find((b: any) => b.label === "2026-11-05").numerator).toBeGreaterThan(0);
    // A 1-day window attributes fewer conversions than the default 7.
    const narrow = await call("analyze_campaign_trends", { metric: "conversion_rate", range: { preset: "1y" }, attribution_days: 1 });
    const wide = await call("analyze_campaign_trends", { metric: "conversion_rate", range: { preset: "1y" } });
    expect(narrow.change.current).toBeLessThanOrEqual(wide.change.current);
  });

  it("a rate without a channel counts only where it applies; a rate on a channel without it is refused", async () => {
    const open = await checkTrend(ORG_A, { metric: "open_rate", range: { preset: "90d" } }, "week");
    expect(open.out.channels).toEqual(["EMAIL", "WHATSAPP"]);
    const reply = await call("analyze_campaign_trends", { metric: "reply_rate" });
    expect(reply.channels).toEqual(["SMS", "WHATSAPP"]);
    const sms = await callRaw("analyze_campaign_trends", { metric: "open_rate", channel: "SMS" });
    expect(sms.isError).toBe(true);
    expect(text(sms)).toContain("open_rate does not exist on SMS");
    const [smsCampaign] = await q<{ id: string }>(`select id::text from campaigns where organization_id = $1 and channel = 'SMS' limit 1`, [ORG_A.id]);
    const camp = await callRaw("analyze_campaign_trends", { metric: "bounce_rate", campaign_id: smsCampaign!.id });
    expect(text(camp)).toContain("bounce_rate does not exist on SMS");
    const mismatch = await callRaw("analyze_campaign_trends", { campaign_id: smsCampaign!.id, channel: "EMAIL" });
    expect(text(mismatch)).toContain("runs on SMS, not EMAIL");
    const tooMany = await callRaw("analyze_campaign_trends", { range: { preset: "1y" }, granularity: "day" });
    expect(text(tooMany)).toContain("366 day buckets");
  });

  it("organization B in Nairobi (UTC+3): its own figures, its own midnights", async () => {
    const byDay = await checkTrend(ORG_B, { metric: "click_rate", range: { from: "2026-10-25T00:00:00Z", to: "2026-11-20T00:00:00Z" } }, "day");
    expect(byDay.out.buckets[0].start).toBe("2026-10-24T21:00:00.000Z");
    const months = await checkTrend(ORG_B, { metric: "delivery_rate", range: { preset: "90d" }, granularity: "month" }, "month");
    expect(months.ref.msgs.some((m) => localDay(m.at, ORG_B.timeZone).slice(0, 7) !== m.at.toISOString().slice(0, 7))).toBe(true);
  });
});

function refOverview(org: Org, d: RefData, from: Date, to: Date) {
  const msgs = d.msgs.filter((m) => m.at >= from && m.at < to);
  const convs = d.convs.filter((c) => c.msg_at >= from && c.msg_at < to);
  const fig = (ms: RefMsg[], cs: RefConv[]) => ({
    messages: ms.length,
    sent: ms.filter((m) => m.s).length,
    delivered: ms.filter((m) => m.d).length,
    contacts_reached: new Set(ms.filter((m) => m.d).map((m) => m.contact)).size,
    engaged: ms.filter((m) => m.d && ENGAGED[m.channel](m)).length,
    cost: ms.reduce((s, m) => s + (m.cost ?? 0), 0),
    conversions: cs.length,
    converted_contacts: new Set(cs.map((c) => c.contact)).size,
    revenue: cs.reduce((s, c) => s + c.value!, 0),
  });
  return { channels: CHANNELS.map((ch) => ({ channel: ch, ...fig(msgs.filter((m) => m.channel === ch), convs.filter((c) => c.channel === ch)) })), totals: fig(msgs, convs) };
}

function checkFigures(got: any, want: ReturnType<typeof refOverview>["totals"], currency: string) {
  expect({ messages: got.messages, sent: got.sent, delivered: got.delivered, contacts_reached: got.contacts_reached, engaged: got.engaged, conversions: got.conversions, converted_contacts: got.converted_contacts })
    .toEqual({ messages: want.messages, sent: want.sent, delivered: want.delivered, contacts_reached: want.contacts_reached, engaged: want.engaged, conversions: want.conversions, converted_contacts: want.converted_contacts });
  near(got.delivery_rate, want.sent ? want.delivered / want.sent : null, 0.0000501);
  near(got.engagement_rate, want.delivered ? want.engaged / want.delivered : null, 0.0000501);
  expect(got.cost.currency).toBe(currency);
  near(got.cost.amount, want.cost, 0.0051);
  near(got.revenue.amount, want.revenue, 0.0051);
  if (want.engaged) near(got.cost_per_engagement.amount, want.cost / want.engaged, 0.0051);
  else expect(got.cost_per_engagement).toBeNull();
}

describe("get_channel_overview", () => {
  it.each([["30d (default)", undefined], ["90d", { preset: "90d" }], ["across Oct → Nov", { from: "2026-10-20T00:00:00Z", to: "2026-11-05T00:00:00Z" }]])(
    "per channel and totals equal the reference: %s", async (_name, range) => {
      const out = await call("get_channel_overview", range ? { range } : {});
      const ref = refOverview(ORG_A, data.get(ORG_A.slug)!, new Date(out.range.from), new Date(out.range.to));
      expect(out.channels.map((c: any) => c.channel)).toEqual(CHANNELS);
      out.channels.forEach((c: any, i: number) => {
        checkFigures(c, ref.channels[i]!, "NGN");
        near(c.share.messages, ref.totals.messages ? ref.channels[i]!.messages / ref.totals.messages : null, 0.0000501);
        near(c.share.cost, ref.totals.cost ? ref.channels[i]!.cost / ref.totals.cost : null, 0.0001);
        near(c.share.revenue, ref.totals.revenue ? ref.channels[i]!.revenue / ref.totals.revenue : null, 0.0001);
      });
      checkFigures(out.totals, ref.totals, "NGN");
      expect(out.totals.messages).toBeGreaterThan(100);
      // Transactional messages count too, and contacts reached on two channels count once in the total.
      expect(ref.totals.messages).toBeGreaterThan(data.get(ORG_A.slug)!.msgs.filter((m) => m.campaign !== null && m.at >= new Date(out.range.from) && m.at < new Date(out.range.to)).length);
      expect(out.fx_incomplete).toBe(false);
    });

  it("a channel with nothing in the range is still listed, with zeros and no rates", async () => {
    const out = await call("get_channel_overview", { range: { from: "2026-11-16T11:00:00Z", to: "2026-11-16T12:30:00Z" } });
    const ref = refOverview(ORG_A, data.get(ORG_A.slug)!, new Date(out.range.from), new Date(out.range.to));
    const empty = ref.channels.findIndex((c) => c.messages === 0);
    expect(empty).toBeGreaterThanOrEqual(0);
    expect(out.channels[empty]).toMatchObject({ messages: 0, delivery_rate: null, engagement_rate: null, cost_per_engagement: null, share: { messages: 0 } });
    out.channels.forEach((c: any, i: number) => checkFigures(c, ref.channels[i]!, "NGN"));
  });
});

describe("isolation", () => {
  it("organization B's key sees only B's figures, in its own currency; A's campaign is not found for B", async () => {
    const out = await call("get_channel_overview", { range: { preset: "90d" } }, ORG_B);
    const refB = refOverview(ORG_B, data.get(ORG_B.slug)!, new Date(out.range.from), new Date(out.range.to));
    const refA = refOverview(ORG_A, data.get(ORG_A.slug)!, new Date(out.range.from), new Date(out.range.to));
    checkFigures(out.totals, refB.totals, "KES");
    out.channels.forEach((c: any, i: number) => checkFigures(c, refB.channels[i]!, "KES"));
    expect(out.totals.messages).not.toBe(refA.totals.messages);
    await checkTrend(ORG_B, {}, "week");
    const [aCampaign] = await q<{ id: string }>(`select id::text from campaigns where organization_id = $1 limit 1`, [ORG_A.id]);
    const r = await callRaw("analyze_campaign_trends", { campaign_id: aCampaign!.id }, ORG_B);
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("NOT_FOUND");
  });
});
