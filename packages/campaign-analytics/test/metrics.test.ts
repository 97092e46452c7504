// list_campaigns and get_campaign_metrics against independent SQL (reference-sql.ts): every count,
// rate, money figure and currency line of every campaign of both demo organizations, per variant,
// for attribution windows of 1, 7 and 30 days; plus edge cases written into this file's database
// with figures known by hand.
import { beforeAll, describe, expect, it } from "vitest";
import { roundMoney, roundRate } from "@marketsage/domain";
import {
  NOT_APPLICABLE,
  REF_COUNT_KEYS,
  REF_RATES,
  refCampaignIds,
  refFigures,
  refRate,
  reportingCurrency,
  type Channel,
  type RefFigures,
  type RefMoney,
  type RefRateKey,
} from "./reference-sql.ts";
import { ORG_A, ORG_B, useCampaignAnalytics } from "./setup.ts";

const ca = useCampaignAnalytics();
const q = ca.q;
// The role with the highest call rate limit: this file makes a few hundred calls in a minute.
const ROLE = "SUPER_ADMIN";

// ---------- fixtures: own campaigns with figures known by hand ----------
const id = (n: number) => `e0000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const C = {
  emailAb: id(1), sms: id(2), empty: id(3), queuedOnly: id(4), noRate: id(5), boundary: id(6),
  pct: id(7), pctDecoy: id(8), under: id(9), underDecoy: id(10), bWhatsappAb: id(11),
};
const V = { a: id(101), b: id(102), bA: id(111), bB: id(112) };
const D = Date.parse("2026-10-05T10:00:00.000Z");
const MIN = 60_000, HOUR = 60 * MIN, DAY = 24 * HOUR;
const t = (ms: number) => new Date(D + ms);

let contactsA: string[] = [];
let contactsB: string[] = [];
let msgN = 200;

async function campaign(org: string, cid: string, name: string, channel: Channel, status: string, sentAt: Date | null, createdAt = new Date(D - 3 * DAY)) {
  await q(`insert into campaigns (id, organization_id, name, channel, status, sent_at, created_at) values ($1, $2, $3, $4, $5, $6, $7)`, [cid, org, name, channel, status, sentAt, createdAt]);
}
async function variant(org: string, cid: string, vid: string, name: string, control: boolean) {
  await q(`insert into campaign_variants (id, organization_id, campaign_id, name, weight, is_control) values ($1, $2, $3, $4, 0.5, $5)`, [vid, org, cid, name, control]);
}
/** One message with its events (each [type, ms after created]); returns its id. */
async function message(org: string, cid: string, vid: string | null, contact: string, channel: Channel, created: Date, events: Array<[string, number]>, cost?: [string, string], direction = "OUTBOUND") {
  const mid = id(msgN++);
  await q(
    `insert into messages (id, organization_id, campaign_id, variant_id, contact_id, channel, direction, recipient, cost, currency, status, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, 'fixture', $8, $9, $10, $11)`,
    [mid, org, cid, vid, contact, channel, direction, cost?.[0] ?? null, cost?.[1] ?? null, direction === "INBOUND" ? "RECEIVED" : "QUEUED", created],
  );
  if (events.length)
    await q(
      `insert into message_events (id, organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at)
       select (select coalesce(max(id), 0) from message_events) + e.n, m.organization_id, m.id, m.campaign_id, m.variant_id, m.contact_id, m.channel, e.type::"MessageEventType", e.at
         from unnest($2::text[], $3::timestamptz[]) with ordinality e(type, at, n) join messages m on m.id = $1`,
      [mid, events.map((e) => e[0]), events.map((e) => new Date(created.getTime() + e[1]))],
    );
  return mid;
}
async function conversion(org: string, cid: string | null, contact: string, value: string, currency: string, at: Date) {
  await q(`insert into conversions (id, organization_id, contact_id, campaign_id, type, value, currency, occurred_at) values ($1, $2, $3, $4, 'purchase', $5, $6, $7)`, [id(msgN++), org, contact, cid, value, currency, at]);
}
const delivered: Array<[string, number]> = [["QUEUED", 0], ["SENT", MIN], ["DELIVERED", 2 * MIN]];

async function insertFixtures() {
  contactsA = (await q(`select id::text from contacts where organization_id = $1 order by id limit 8`, [ORG_A.id])).map((r) => r.id);
  contactsB = (await q(`select id::text from contacts where organization_id = $1 order by id limit 4`, [ORG_B.id])).map((r) => r.id);
  const [c1, c2, c3, c4, c5, c6, c7] = contactsA as [string, string, string, string, string, string, string];
  const A = ORG_A.id, B = ORG_B.id, usd: [string, string] = ["0.0001", "USD"];

  // Email A/B: an email opened 5 times; FAILED only (never sent); a bounce; an unsubscribe; two
  // contacts with a message in each variant (the latest message before the conversion decides).
  await campaign(A, C.emailAb, "Edge email A/B", "EMAIL", "SENT", new Date(D - HOUR));
  await variant(A, C.emailAb, V.a, "A", true);
  await variant(A, C.emailAb, V.b, "B", false);
  const opens: Array<[string, number]> = [1, 2, 3, 4, 5].map((h) => ["OPENED", h * HOUR]);
  await message(A, C.emailAb, V.a, c1, "EMAIL", t(0), [...delivered, ...opens, ["CLICKED", 6 * HOUR]], usd);
  await message(A, C.emailAb, V.b, c2, "EMAIL", t(0), [["FAILED", MIN]]);
  await message(A, C.emailAb, V.b, c3, "EMAIL", t(0), [["QUEUED", 0], ["SENT", MIN], ["BOUNCED", 3 * MIN]], usd);
  await message(A, C.emailAb, V.a, c4, "EMAIL", t(0), [...delivered, ["UNSUBSCRIBED", HOUR]], usd);
  await message(A, C.emailAb, V.a, c6, "EMAIL", t(0), [...delivered, ["OPENED", HOUR]], usd);
  await message(A, C.emailAb, V.b, c6, "EMAIL", t(3 * DAY), delivered, usd);
  await message(A, C.emailAb, V.a, c7, "EMAIL", t(0), delivered, usd);
  await message(A, C.emailAb, V.b, c7, "EMAIL", t(5 * DAY), delivered, usd);
  await conversion(A, C.emailAb, c1, "10000.00", "NGN", t(2 * DAY)); // windows 7, 30
  await conversion(A, C.emailAb, c1, "50.00", "USD", t(8 * DAY)); // 8 days after: window 30 only, USD for an NGN org
  await conversion(A, C.emailAb, c5, "7000.00", "NGN", t(DAY)); // c5 got no message of the campaign: never
  await conversion(A, C.emailAb, c6, "2500.00", "NGN", t(3 * DAY + 12 * HOUR)); // 12 h after c6's variant-B message: 1, 7, 30; variant B
  await conversion(A, C.emailAb, c7, "1200.00", "NGN", t(2 * DAY)); // c7's B message came later: variant A; 7, 30
  await conversion(A, C.emailAb, c3, "999.00", "NGN", t(-HOUR)); // before any message: never
  await conversion(A, null, c4, "500.00", "NGN", t(10 * HOUR)); // no campaign: never

  // SMS: a cost in KES for an NGN org, a reply, a click, an unsubscribe, a failure after sending,
  // one not delivered yet, and an inbound reply linked to the campaign (not one of its messages).
  await campaign(A, C.sms, "Edge SMS costs", "SMS", "SENT", new Date(D - 2 * HOUR));
  await message(A, C.sms, null, c1, "SMS", t(0), [...delivered, ["CLICKED", HOUR], ["REPLIED", 2 * HOUR], ["UNSUBSCRIBED", 3 * HOUR]], ["3.5000", "KES"]);
  await message(A, C.sms, null, c2, "SMS", t(0), [["QUEUED", 0], ["SENT", MIN], ["FAILED", 5 * MIN]], ["2.1000", "NGN"]);
  await message(A, C.sms, null, c3, "SMS", t(0), [["QUEUED", 0], ["SENT", MIN]], ["4.0000", "NGN"]);
  await message(A, C.sms, null, c1, "SMS", t(2 * HOUR), [], undefined, "INBOUND");

  await campaign(A, C.empty, "Edge WhatsApp draft", "WHATSAPP", "DRAFT", null, new Date("2026-11-01T08:00:00.000Z"));
  await campaign(A, C.queuedOnly, "Edge queued only", "EMAIL", "SENDING", new Date("2026-11-20T11:00:00.000Z"));
  await message(A, C.queuedOnly, null, c1, "EMAIL", new Date("2026-11-20T11:00:00.000Z"), []); // a row, no event yet

  // WhatsApp: a conversion in a currency with no stored rate (left out of the total, flagged).
  await campaign(A, C.noRate, "Edge WhatsApp no FX rate", "WHATSAPP", "SENT", new Date(D - 3 * HOUR));
  await message(A, C.noRate, null, c1, "WHATSAPP", t(0), [...delivered, ["OPENED", HOUR], ["CLICKED", 2 * HOUR], ["REPLIED", 3 * HOUR]], ["0.0100", "USD"]);
  await conversion(A, C.noRate, c1, "20.00", "EUR", t(20 * HOUR));
  await conversion(A, C.noRate, c1, "3000.00", "NGN", t(DAY + HOUR));

  // A conversion exactly 7 days after the message: "at most 7 days after" counts it.
  await campaign(A, C.boundary, "Edge exactly seven days", "SMS", "SENT", new Date(D - 4 * HOUR));
  await message(A, C.boundary, null, c2, "SMS", t(0), delivered, ["1.0000", "NGN"]);
  await conversion(A, C.boundary, c2, "100.00", "NGN", t(7 * DAY));

  // Names with LIKE metacharacters, each with a decoy that a pattern would wrongly match.
  await campaign(A, C.pct, "Edge 50% off", "EMAIL", "DRAFT", null, new Date("2026-09-01T00:00:00.000Z"));
  await campaign(A, C.pctDecoy, "Edge 50 off", "EMAIL", "DRAFT", null, new Date("2026-09-02T00:00:00.000Z"));
  await campaign(A, C.under, "Edge a_b split", "SMS", "DRAFT", null, new Date("2026-09-03T00:00:00.000Z"));
  await campaign(A, C.underDecoy, "Edge axb split", "SMS", "DRAFT", null, new Date("2026-09-04T00:00:00.000Z"));

  // Org B (KES): WhatsApp with variants, read twice, a reply, a failure after sending, a USD conversion.
  const [b1, b2, b3, b4] = contactsB as [string, string, string, string];
  await campaign(B, C.bWhatsappAb, "Edge B WhatsApp A/B", "WHATSAPP", "SENT", new Date(D - HOUR));
  await variant(B, C.bWhatsappAb, V.bA, "A", true);
  await variant(B, C.bWhatsappAb, V.bB, "B", false);
  const wa: [string, string] = ["0.0400", "USD"];
  await message(B, C.bWhatsappAb, V.bA, b1, "WHATSAPP", t(0), [...delivered, ["OPENED", HOUR], ["OPENED", 2 * HOUR], ["REPLIED", 3 * HOUR]], wa);
  await message(B, C.bWhatsappAb, V.bB, b2, "WHATSAPP", t(0), [["QUEUED", 0], ["SENT", MIN], ["FAILED", 2 * MIN]], wa);
  await message(B, C.bWhatsappAb, V.bB, b3, "WHATSAPP", t(0), [...delivered, ["OPENED", HOUR], ["CLICKED", 2 * HOUR]], wa);
  await conversion(B, C.bWhatsappAb, b1, "1500.00", "KES", t(22 * HOUR));
  await conversion(B, C.bWhatsappAb, b3, "20.00", "USD", t(2 * DAY));
  await conversion(B, C.bWhatsappAb, b4, "900.00", "KES", t(DAY));
}

// ---------- comparison ----------
const RATE_KEYS = Object.keys(REF_RATES) as RefRateKey[];

const soft = expect.soft;

function expectMoney(label: string, got: { amount: number; currency: string }, lines: Array<{ currency: string; amount: number; converted: number | null }>, ref: RefMoney, rc: string) {
  const expect = soft;
  expect(got.currency, `${label} currency`).toBe(rc);
  expect(Math.abs(got.amount - roundMoney(ref.total, rc)), `${label} ${got.amount} vs ${ref.total}`).toBeLessThanOrEqual(0.01);
  const byCur = (xs: typeof lines) => [...xs].sort((a, b) => a.currency.localeCompare(b.currency));
  const gotLines = byCur(lines);
  expect(gotLines.map((l) => l.currency), `${label} currencies`).toEqual(ref.lines.map((l) => l.currency).sort());
  for (const [i, r] of byCur(ref.lines).entries()) {
    const g = gotLines[i];
    if (!g) continue; // the currency lists already differ (reported above)
    expect(Math.abs(g.amount - r.amount), `${label} ${r.currency} original amount`).toBeLessThanOrEqual(0.0001);
    if (r.converted === null) expect(g.converted, `${label} ${r.currency} converted`).toBeNull();
    else expect(Math.abs(g.converted! - roundMoney(r.converted, rc)), `${label} ${r.currency} converted`).toBeLessThanOrEqual(0.01);
  }
}

/**
 * A tool's figures (get_campaign_metrics figures) against the reference, figure by figure. Soft:
 * one run names every campaign and figure that differs, not just the first.
 */
function expectFigures(label: string, f: any, ref: RefFigures, channel: Channel, rc: string) {
  const expect = soft;
  const na = NOT_APPLICABLE[channel];
  expect(Object.keys(f.counts).sort(), `${label} count keys`).toEqual([...REF_COUNT_KEYS, "conversions"].sort());
  expect(Object.keys(f.rates).sort(), `${label} rate keys`).toEqual([...RATE_KEYS].sort());
  const counts = Object.fromEntries(REF_COUNT_KEYS.map((k) => [k, na.includes(k) ? null : ref.counts[k]]));
  expect({ ...f.counts }, `${label} counts`).toEqual({ ...counts, conversions: ref.counts.conversions });
  for (const k of RATE_KEYS) {
    const want = roundRate(refRate(ref.counts, k, channel));
    if (want === null) expect(f.rates[k], `${label} ${k}`).toBeNull();
    else expect(Math.abs(f.rates[k] - want), `${label} ${k}: ${f.rates[k]} vs ${want}`).toBeLessThanOrEqual(0.0001 + 1e-12);
  }
  const naRates = RATE_KEYS.filter((k) => REF_RATES[k].some((c) => na.includes(c)));
  expect([...f.not_applicable].sort(), `${label} not_applicable`).toEqual([...na, ...naRates].sort());
  expectMoney(`${label} revenue`, f.revenue, f.revenue_currencies, ref.revenue, rc);
  expectMoney(`${label} cost`, f.cost, f.cost_currencies, ref.cost, rc);
  if (ref.cost.total > 0) expect(Math.abs(f.roi - (ref.revenue.total - ref.cost.total) / ref.cost.total), `${label} roi`).toBeLessThanOrEqual(0.0001 + 1e-9);
  else expect(f.roi, `${label} roi`).toBeNull();
  expect(f.fx_incomplete, `${label} fx_incomplete`).toBe(ref.revenue.incomplete || ref.cost.incomplete);
}

interface CampaignRef { id: string; org: typeof ORG_A; channel: Channel; variants: string[]; messages: number }
let all: CampaignRef[] = [];
const rcOf = new Map<string, string>();

async function metricsOf(c: { id: string; org: typeof ORG_A }, attribution_days?: number) {
  return ca.call(ROLE, "get_campaign_metrics", { id: c.id, ...(attribution_days ? { attribution_days } : {}) }, c.org);
}

async function expectCampaign(c: CampaignRef, days: number) {
  const out = await metricsOf(c, days);
  const rc = rcOf.get(c.org.id)!;
  expect(out.attribution_days).toBe(days);
  expect(out.campaign.id).toBe(c.id);
  expectFigures(`${c.id}@${days}d`, out.figures, await refFigures(q, { orgId: c.org.id, campaignId: c.id, attributionDays: days }, rc), c.channel, rc);
  expect(out.variants.map((v: any) => v.id).sort()).toEqual([...c.variants].sort());
  for (const v of out.variants)
    expectFigures(`${c.id}/${v.id}@${days}d`, v.figures, await refFigures(q, { orgId: c.org.id, campaignId: c.id, variantId: v.id, attributionDays: days }, rc), c.channel, rc);
  return out;
}

beforeAll(async () => {
  await insertFixtures();
  for (const org of [ORG_A, ORG_B]) rcOf.set(org.id, await reportingCurrency(q, org.id));
  const rows = await q(
    `select c.id::text id, c.organization_id::text org, c.channel::text channel,
            coalesce((select array_agg(v.id::text) from campaign_variants v where v.campaign_id = c.id), '{}') variants,
            (select count(*)::int from messages m where m.campaign_id = c.id) messages
       from campaigns c order by c.organization_id, c.id`,
  );
  all = rows.map((r) => ({ ...r, org: r.org === ORG_A.id ? ORG_A : ORG_B }));
});

describe("get_campaign_metrics equals the reference SQL", () => {
  it("covers each channel in both organizations, with and without variants", () => {
    for (const org of [ORG_A, ORG_B])
      for (const ch of ["EMAIL", "SMS", "WHATSAPP"] as const) {
        const mine = all.filter((c) => c.org === org && c.channel === ch && c.messages > 0);
        expect(mine.length, `${org.slug} ${ch}`).toBeGreaterThanOrEqual(3);
        expect(mine.some((c) => c.variants.length === 0), `${org.slug} ${ch} without variants`).toBe(true);
      }
    const ab = all.filter((c) => c.variants.length && c.messages);
    expect(new Set(ab.map((c) => `${c.org.slug}:${c.channel}`))).toEqual(new Set(["naija-retail:EMAIL", "naija-retail:SMS", "savanna-fintech:EMAIL", "savanna-fintech:WHATSAPP"]));
  });

  it.each([7, 1, 30])("every campaign of both organizations and each variant, attribution %i days", async (days) => {
    let conversions = 0;
    for (const c of all) conversions += (await expectCampaign(c, days)).figures.counts.conversions;
    expect(conversions).toBeGreaterThan(0); // the windows are exercised, not trivially zero
  });

  it("attribution_days defaults to 7", async () => {
    const c = all.find((x) => x.id === C.emailAb)!;
    const [def, seven] = [await metricsOf(c), await metricsOf(c, 7)];
    expect(def.attribution_days).toBe(7);
    expect(def.figures).toEqual(seven.figures);
  });
});

describe("edge cases, with figures known by hand", () => {
  const get = (cid: string, days = 7, org = ORG_A) => metricsOf({ id: cid, org }, days);

  it("email A/B: 5 opens count once, FAILED-only is a message never sent, bounce, unsubscribe", async () => {
    const o = await get(C.emailAb);
    expect(o.figures.counts).toEqual({ messages: 8, sent: 7, delivered: 6, failed: 1, bounced: 1, opened: 2, clicked: 1, replied: null, unsubscribed: 1, converted: 3, conversions: 3 });
    expect(o.figures.rates).toMatchObject({ delivery_rate: roundRate(6 / 7), open_rate: roundRate(2 / 6), click_to_open_rate: 0.5, bounce_rate: roundRate(1 / 7), failure_rate: 0.125, reply_rate: null });
    const va = o.variants.find((v: any) => v.id === V.a), vb = o.variants.find((v: any) => v.id === V.b);
    expect(va.figures.counts).toMatchObject({ messages: 4, sent: 4, delivered: 4, failed: 0, bounced: 0, opened: 2, clicked: 1, unsubscribed: 1, converted: 2, conversions: 2 });
    expect(vb.figures.counts).toMatchObject({ messages: 4, sent: 3, delivered: 2, failed: 1, bounced: 1, opened: 0, clicked: 0, unsubscribed: 0, converted: 1, conversions: 1 });
    expect(o.figures.revenue).toEqual({ amount: 13700, currency: "NGN" });
  });

  it("attribution 1 vs 7 vs 30 days: the 8-day conversion counts only in 30, in USD at that day's rate", async () => {
    const [d1, d30] = [await get(C.emailAb, 1), await get(C.emailAb, 30)];
    expect(d1.figures.counts).toMatchObject({ converted: 1, conversions: 1 });
    expect(d1.variants.find((v: any) => v.id === V.b).figures.counts).toMatchObject({ converted: 1, conversions: 1 });
    expect(d1.figures.revenue.amount).toBe(2500);
    expect(d30.figures.counts).toMatchObject({ converted: 3, conversions: 4 });
    const [{ rate }] = await q(`select rate::float8 rate from fx_rates where base = 'USD' and quote = 'NGN' and as_of = $1::date`, [t(8 * DAY).toISOString().slice(0, 10)]);
    const usd = d30.figures.revenue_currencies.find((l: any) => l.currency === "USD");
    expect(usd.amount).toBe(50);
    expect(Math.abs(usd.converted - roundMoney(50 * rate, "NGN"))).toBeLessThanOrEqual(0.01);
    expect(Math.abs(d30.figures.revenue.amount - roundMoney(13700 + 50 * rate, "NGN"))).toBeLessThanOrEqual(0.01);
  });

  it("SMS: a cost in KES converted at the message's day, replies and clicks, opens and bounces not applicable", async () => {
    const o = await get(C.sms);
    expect(o.figures.counts).toEqual({ messages: 3, sent: 3, delivered: 1, failed: 1, bounced: null, opened: null, clicked: 1, replied: 1, unsubscribed: 1, converted: 0, conversions: 0 });
    expect(o.figures.not_applicable.sort()).toEqual(["bounce_rate", "bounced", "click_to_open_rate", "open_rate", "opened"]);
    const [{ kes, ngn }] = await q(
      `select max(rate) filter (where quote = 'KES')::float8 kes, max(rate) filter (where quote = 'NGN')::float8 ngn from fx_rates where base = 'USD' and as_of = $1::date`,
      [t(0).toISOString().slice(0, 10)],
    );
    const kesLine = o.figures.cost_currencies.find((l: any) => l.currency === "KES");
    expect(kesLine.amount).toBe(3.5);
    expect(Math.abs(kesLine.converted - roundMoney((3.5 * ngn) / kes, "NGN"))).toBeLessThanOrEqual(0.01);
    expect(Math.abs(o.figures.cost.amount - roundMoney((3.5 * ngn) / kes + 6.1, "NGN"))).toBeLessThanOrEqual(0.01);
    expect(o.figures.roi).toBe(-1);
  });

  it("a campaign with no messages: zeros, rates and ROI null", async () => {
    const o = await get(C.empty);
    expect(o.figures.counts).toEqual({ messages: 0, sent: 0, delivered: 0, failed: 0, bounced: null, opened: 0, clicked: 0, replied: 0, unsubscribed: 0, converted: 0, conversions: 0 });
    expect(Object.values(o.figures.rates).every((r) => r === null)).toBe(true);
    expect(o.figures).toMatchObject({ revenue: { amount: 0, currency: "NGN" }, cost: { amount: 0, currency: "NGN" }, roi: null, revenue_currencies: [], cost_currencies: [], fx_incomplete: false });
  });

  it("a message with no event yet is still one of the campaign's messages", async () => {
    const o = await get(C.queuedOnly);
    expect(o.figures.counts).toMatchObject({ messages: 1, sent: 0, delivered: 0, failed: 0 });
    expect(o.figures.rates.failure_rate).toBe(0);
  });

  it("a currency without a stored rate is listed, left out of the total and flagged", async () => {
    const o = await get(C.noRate);
    expect(o.figures.counts).toMatchObject({ opened: 1, clicked: 1, replied: 1, bounced: null, converted: 1, conversions: 2 });
    expect(o.figures.revenue_currencies).toContainEqual({ currency: "EUR", amount: 20, converted: null });
    expect(o.figures.revenue.amount).toBe(3000);
    expect(o.figures.fx_incomplete).toBe(true);
  });

  it("a conversion exactly 7 days after the message is inside a 7-day window (at most 7 days after)", async () => {
    expect((await get(C.boundary, 7)).figures.counts).toMatchObject({ converted: 1, conversions: 1 });
    expect((await get(C.boundary, 6)).figures.counts).toMatchObject({ converted: 0, conversions: 0 });
  });

  it("org B, WhatsApp A/B: read twice is one open, a USD conversion in KES", async () => {
    const o = await get(C.bWhatsappAb, 7, ORG_B);
    expect(o.figures.counts).toEqual({ messages: 3, sent: 3, delivered: 2, failed: 1, bounced: null, opened: 2, clicked: 1, replied: 1, unsubscribed: 0, converted: 2, conversions: 2 });
    expect(o.figures.revenue.currency).toBe("KES");
    expect(o.variants.map((v: any) => [v.name, v.is_control, v.figures.counts.converted])).toEqual([["A", true, 1], ["B", false, 1]]);
  });
});

// ---------- list_campaigns ----------
async function pageAll(org: typeof ORG_A, args: Record<string, unknown>, limit: number) {
  const pages: any[] = [];
  let cursor: string | undefined;
  do {
    const out = await ca.call(ROLE, "list_campaigns", { ...args, limit, ...(cursor ? { cursor } : {}) }, org);
    pages.push(out);
    cursor = out.next_cursor ?? undefined;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return pages;
}

describe("list_campaigns equals the reference SQL", () => {
  it.each([[ORG_A, 3], [ORG_B, 4], [ORG_A, 50]] as const)("%# pages through everything in order, no duplicates, no gaps, headline figures per campaign", async (org, limit) => {
    const pages = await pageAll(org, {}, limit);
    const rows = pages.flatMap((p) => p.campaigns);
    expect(rows.map((r: any) => r.id)).toEqual(await refCampaignIds(q, org.id));
    expect(pages.slice(0, -1).every((p) => p.campaigns.length === limit)).toBe(true);
    const rc = rcOf.get(org.id)!;
    for (const r of rows) {
      const c = all.find((x) => x.id === r.id)!;
      const ref = await refFigures(q, { orgId: org.id, campaignId: r.id, attributionDays: 7 }, rc);
      const [{ date }] = await q(`select coalesce(sent_at, scheduled_at, created_at) date from campaigns where id = $1`, [r.id]);
      expect(r).toMatchObject({ channel: c.channel, date: date.toISOString(), has_variants: c.variants.length > 0, sent: ref.counts.sent, delivered: ref.counts.delivered });
      for (const k of ["delivery_rate", "open_rate", "click_rate", "conversion_rate"] as const) {
        const want = roundRate(refRate(ref.counts, k, c.channel));
        if (want === null) expect(r[k], `${r.id} ${k}`).toBeNull();
        else expect(Math.abs(r[k] - want), `${r.id} ${k}`).toBeLessThanOrEqual(0.0001 + 1e-12);
      }
      expect(r.revenue.currency).toBe(rc);
      expect(Math.abs(r.revenue.amount - roundMoney(ref.revenue.total, rc)), `${r.id} revenue`).toBeLessThanOrEqual(0.01);
    }
  });

  const from = "2026-10-01T00:00:00.000Z", to = "2026-11-01T00:00:00.000Z";
  it.each([
    ["channel", { channel: "SMS" }, { channel: "SMS" as Channel }],
    ["status list", { status: ["SENT", "PAUSED"] }, { status: ["SENT", "PAUSED"] }],
    ["range from/to", { range: { from, to } }, { from: new Date(from), to: new Date(to) }],
    ["range starting at a campaign's date (inclusive)", { range: { from: new Date(D - HOUR).toISOString(), to } }, { from: new Date(D - HOUR), to: new Date(to) }],
    ["range ending at a campaign's date (exclusive)", { range: { from, to: new Date(D - HOUR).toISOString() } }, { from: new Date(from), to: new Date(D - HOUR) }],
    ["preset 30d on the fixed clock", { range: { preset: "30d" } }, { from: new Date(Date.parse("2026-11-20T12:00:00.000Z") - 30 * DAY), to: new Date("2026-11-20T12:00:00.000Z") }],
    ["name, case-insensitive", { name: "EDGE 50" }, { name: "EDGE 50" }],
    ["name with %", { name: "50%" }, { name: "50%" }],
    ["name with _", { name: "a_b" }, { name: "a_b" }],
    ["all filters at once", { channel: "EMAIL", status: ["SENT"], range: { from, to }, name: "edge" }, { channel: "EMAIL" as Channel, status: ["SENT"], from: new Date(from), to: new Date(to), name: "edge" }],
    ["nothing matches", { name: "no campaign is called this" }, { name: "no campaign is called this" }],
  ])("filter: %s", async (_label, args, ref) => {
    const pages = await pageAll(ORG_A, args, 2);
    const ids = pages.flatMap((p) => p.campaigns.map((c: any) => c.id));
    expect(ids).toEqual(await refCampaignIds(q, ORG_A.id, ref));
  });

  it("the name filter takes % and _ literally", async () => {
    const names = async (name: string) => (await ca.call(ROLE, "list_campaigns", { name }, ORG_A)).campaigns.map((c: any) => c.name);
    expect(await names("50%")).toEqual(["Edge 50% off"]);
    expect(await names("a_b")).toEqual(["Edge a_b split"]);
    expect((await names("edge 50")).sort()).toEqual(["Edge 50 off", "Edge 50% off"]);
  });

  it("a range filter that includes the edge campaigns is not empty (the filters are exercised)", async () => {
    expect((await refCampaignIds(q, ORG_A.id, { from: new Date(from), to: new Date(to) })).length).toBeGreaterThan(3);
    expect(await refCampaignIds(q, ORG_A.id, { from: new Date(D - HOUR), to: new Date(to) })).toContain(C.emailAb);
    expect(await refCampaignIds(q, ORG_A.id, { from: new Date(from), to: new Date(D - HOUR) })).not.toContain(C.emailAb);
  });
});
