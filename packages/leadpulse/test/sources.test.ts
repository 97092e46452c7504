// get_traffic_sources against an independent computation (reference-sources.ts: raw sessions and
// window-attributed conversions by hand-written SQL, keys and sums in TypeScript) on the seeded
// data of both organizations for every grouping and several ranges, paging, and fixtures written
// here with the figures worked out by hand.
import { beforeAll, describe, expect, it } from "vitest";
import { ratio, roundMoney } from "@marketsage/domain";
import { getTrafficSources } from "../src/tools/get-traffic-sources.ts";
import { keyOf, referenceSources, type Grouping, type RefSourceRow } from "./reference-sources.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([getTrafficSources]);
const ROLE = "SUPER_ADMIN";
const MIN = 60_000, HOUR = 60 * MIN, DAY = 24 * HOUR;

interface Fig {
  sessions: number;
  visitors: number;
  conversions: number;
  converted_sessions: number;
  conversion_rate: number | null;
  revenue: { amount: number; currency: string };
}
interface Row extends Fig {
  source: string | null;
  medium: string | null;
  campaign: string | null;
}
interface Sources {
  range: { from: string; to: string };
  rows: Row[];
  totals: Fig;
  groups_total: number;
  fx_incomplete: boolean;
  next_cursor: string | null;
}

function expectFigures(got: Fig, ref: RefSourceRow, currency: string, what: string) {
  expect(
    { sessions: got.sessions, visitors: got.visitors, conversions: got.conversions, converted_sessions: got.converted_sessions, rate: got.conversion_rate, revenue: got.revenue },
    what,
  ).toEqual({
    sessions: ref.sessions,
    visitors: ref.visitors,
    conversions: ref.conversions,
    converted_sessions: ref.converted_sessions,
    rate: ratio(ref.converted_sessions, ref.sessions),
    revenue: { amount: roundMoney(ref.revenue, currency), currency },
  });
}

/** Every group (limit 50, paging on if needed) equals the reference; returns the rows in order. */
async function compare(org: typeof ORG_A, group_by: Grouping, range: Record<string, string>): Promise<Sources & { all: Row[] }> {
  const all: Row[] = [];
  let cursor: string | undefined;
  let first: Sources | undefined;
  do {
    const page: Sources = await lp.call(ROLE, "get_traffic_sources", { group_by, range, limit: 50, ...(cursor ? { cursor } : {}) }, org);
    first ??= page;
    all.push(...page.rows);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  const ref = await referenceSources(lp.q, org.id, org.reportingCurrency, new Date(first.range.from), new Date(first.range.to), group_by);
  const what = `${org.slug} ${group_by} ${JSON.stringify(range)}`;
  expect(first.groups_total, what).toBe(ref.rows.size);
  expect(all.length, what).toBe(ref.rows.size);
  expect(new Set(all.map(keyOf)).size, `${what}: no group twice`).toBe(all.length);
  for (const r of all) {
    const want = ref.rows.get(keyOf(r));
    expect(want, `${what} ${keyOf(r)} is a reference group`).toBeDefined();
    expectFigures(r, want!, org.reportingCurrency, `${what} ${keyOf(r)}`);
  }
  expectFigures(first.totals, ref.total, org.reportingCurrency, `${what} totals`);
  expect(first.fx_incomplete, what).toBe(ref.total.no_fx > 0);
  const sessions = all.map((r) => r.sessions);
  expect([...sessions].sort((a, b) => b - a), `${what}: most sessions first`).toEqual(sessions);
  return { ...first, all };
}

// ---------- fixtures: UTM source "FxMail" and referrer fx-news.test, which the seed never uses ----------
const F = Date.parse("2026-11-01T00:00:00.000Z");
const TO = Date.parse("2026-11-10T00:00:00.000Z");
const T = Date.parse("2026-11-04T09:00:00.000Z");
const RANGE = { from: new Date(F).toISOString(), to: new Date(TO).toISOString() };
const uuid = (n: number) => `f2000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

interface FxVisitor {
  n: number;
  org?: string;
  bot?: boolean;
  sessions: Array<{ at: number; utm?: [string, string | null, string | null]; referrer?: string }>;
  conversions: Array<[value: string, currency: string, at: number]>;
}
const FIXTURES: FxVisitor[] = [
  // v1: an FxMail/Email/fx-promo session converting 100 USD 10 minutes in, then a session from
  // fx-news.test the next day converting 5,000 NGN: each conversion in its own session's row.
  { n: 1, sessions: [{ at: T, utm: ["FxMail", "Email", "fx-promo"] }, { at: T + DAY, referrer: "https://www.fx-news.test/a" }], conversions: [["100", "USD", T + 10 * MIN], ["5000", "NGN", T + DAY + 5 * MIN]] },
  // v2: a conversion an hour before its only session: no session at or before it, not counted.
  { n: 2, sessions: [{ at: T, utm: [" fxmail ", "email", "fx-promo"] }], conversions: [["777", "NGN", T - HOUR]] },
  // v3: FxMail without medium or campaign; conversions exactly at the session's start and a minute later.
  { n: 3, sessions: [{ at: T, utm: ["fxmail", null, null] }], conversions: [["1000", "NGN", T], ["2000", "NGN", T + MIN]] },
  // v4: a bot: nothing counted.
  { n: 4, bot: true, sessions: [{ at: T, utm: ["fxmail", "email", "fx-promo"] }], conversions: [["999", "NGN", T + MIN]] },
  // v5: organization B.
  { n: 5, org: ORG_B.id, sessions: [{ at: T, utm: ["fxmail", "email", "fx-promo"] }], conversions: [["10", "KES", T + MIN]] },
  // v6: a session a minute before the range's end converting a minute after it: the session counts, the conversion not.
  { n: 6, sessions: [{ at: TO - MIN, utm: ["fxmail", "email", "fx-late"] }], conversions: [["700", "NGN", TO + MIN]] },
  // v7: a conversion in JPY, which has no FX rate: counted, left out of revenue (fx_incomplete).
  { n: 7, sessions: [{ at: T, utm: ["fxmail", "email", "fx-promo"] }], conversions: [["100", "JPY", T + 5 * MIN]] },
];

async function insertFixtures() {
  let sid = 0, cid = 0;
  for (const v of FIXTURES) {
    const org = v.org ?? ORG_A.id;
    const vid = uuid(v.n);
    await lp.q(`insert into visitors (id, organization_id, fingerprint, device, first_seen_at, last_seen_at, is_bot) values ($1, $2, $3, 'MOBILE', $4, $4, $5)`, [
      vid, org, `fxs-${v.n}`, new Date(v.sessions[0]!.at), v.bot ?? false,
    ]);
    for (const s of v.sessions)
      await lp.q(
        `insert into visitor_sessions (id, organization_id, visitor_id, started_at, device, referrer, utm_source, utm_medium, utm_campaign) values ($1, $2, $3, $4, 'MOBILE', $5, $6, $7, $8)`,
        [uuid(1000 + ++sid), org, vid, new Date(s.at), s.referrer ?? null, s.utm?.[0] ?? null, s.utm?.[1] ?? null, s.utm?.[2] ?? null],
      );
    for (const [value, currency, at] of v.conversions)
      await lp.q(`insert into conversions (id, organization_id, visitor_id, type, value, currency, occurred_at) values ($1, $2, $3, 'purchase', $4, $5, $6)`, [
        uuid(2000 + ++cid), org, vid, value, currency, new Date(at),
      ]);
  }
}

let usd100 = 0;
beforeAll(async () => {
  await insertFixtures();
  usd100 = Number((await lp.q(`select marketsage_fx(100, 'USD', 'NGN', $1::timestamptz)::float8 as v`, [new Date(T + 10 * MIN)]))[0].v);
});

describe("get_traffic_sources on hand-made fixtures", () => {
  const call = (group_by: Grouping, org = ORG_A) => lp.call<Sources>(ROLE, "get_traffic_sources", { group_by, range: RANGE, limit: 50 }, org);
  const find = (o: Sources, source: string | null, medium: string | null, campaign: string | null) =>
    o.rows.find((r) => r.source === source && r.medium === medium && r.campaign === campaign);
  const fig = (r: Row | undefined) => r && [r.sessions, r.visitors, r.conversions, r.converted_sessions, r.conversion_rate, r.revenue.amount];

  it("by source: FxMail sessions of v1 v2 v3 v6 v7, conversions of v1 (first), v3 (two) and v7; fx-news.test v1's second", async () => {
    const o = await call("source");
    // 5 sessions, 5 visitors, 4 conversions in 3 sessions (60%), revenue 100 USD + 1,000 + 2,000 NGN (JPY has no rate).
    expect(fig(find(o, "fxmail", null, null))).toEqual([5, 5, 4, 3, 0.6, roundMoney(usd100 + 3000, "NGN")]);
    expect(fig(find(o, "fx-news.test", null, null))).toEqual([1, 1, 1, 1, 1, 5000]);
    expect(o.fx_incomplete).toBe(true);
    expect(usd100).toBeGreaterThan(100_000);
    const text = textOf(await lp.callRaw(ROLE, "get_traffic_sources", { group_by: "source", range: RANGE, limit: 50 }));
    expect(text).toContain("- fxmail: 5 sessions, 5 visitors, 4 conversions in 3 sessions (60.00%)");
    expect(text).toContain("- fx-news.test: 1 sessions, 1 visitors, 1 conversions in 1 sessions (100.00%), revenue 5,000.00 NGN");
  });

  it("by source and medium: email, (not set) and referral", async () => {
    const o = await call("source_medium");
    expect(fig(find(o, "fxmail", "email", null))).toEqual([4, 4, 2, 2, 0.5, roundMoney(usd100, "NGN")]);
    expect(fig(find(o, "fxmail", "(not set)", null))).toEqual([1, 1, 2, 1, 1, 3000]);
    expect(fig(find(o, "fx-news.test", "referral", null))).toEqual([1, 1, 1, 1, 1, 5000]);
  });

  it("by campaign: fx-promo, fx-late, and the sessions without a campaign under their source", async () => {
    const o = await call("campaign");
    expect(fig(find(o, null, null, "fx-promo"))).toEqual([3, 3, 2, 2, 0.6667, roundMoney(usd100, "NGN")]);
    expect(fig(find(o, null, null, "fx-late"))).toEqual([1, 1, 0, 0, 0, 0]);
    expect(fig(find(o, "fxmail", null, null))).toEqual([1, 1, 2, 1, 1, 3000]);
    expect(fig(find(o, "fx-news.test", null, null))).toEqual([1, 1, 1, 1, 1, 5000]);
  });

  it("organization B sees only its own FxMail session", async () => {
    const o = await call("source", ORG_B);
    expect(fig(find(o, "fxmail", null, null))).toEqual([1, 1, 1, 1, 1, 10]);
    expect(o.rows.every((r) => r.revenue.currency === "KES")).toBe(true);
  });

  it("the fixtures also equal the reference", async () => {
    for (const g of ["source", "source_medium", "campaign"] as const) await compare(ORG_A, g, RANGE);
  });
});

describe("get_traffic_sources equals the reference on the seeded data", () => {
  for (const org of [ORG_A, ORG_B])
    it(`${org.slug}: every grouping over 30d, 90d and 1y`, async () => {
      for (const g of ["source", "source_medium", "campaign"] as const)
        for (const preset of ["30d", "90d", "1y"]) await compare(org, g, { preset });
    });

  it("the data has conversions and several groups (the comparison is not of zeros)", async () => {
    const o = await compare(ORG_A, "source_medium", { preset: "1y" });
    expect(o.all.length).toBeGreaterThan(5);
    expect(o.totals.conversions).toBeGreaterThan(20);
    expect(o.totals.revenue.amount).toBeGreaterThan(0);
  });

  it("pages of 3 walk the same rows as one page of 50, in order, then stop", async () => {
    const whole = await lp.call<Sources>(ROLE, "get_traffic_sources", { group_by: "campaign", range: { preset: "1y" }, limit: 50 });
    const walked: Row[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const p: Sources = await lp.call(ROLE, "get_traffic_sources", { group_by: "campaign", range: { preset: "1y" }, limit: 3, ...(cursor ? { cursor } : {}) });
      expect(p.rows.length).toBeLessThanOrEqual(3);
      expect(p.totals).toEqual(whole.totals);
      walked.push(...p.rows);
      cursor = p.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(whole.groups_total).toBeLessThanOrEqual(50);
    expect(walked).toEqual(whole.rows);
    expect(pages).toBe(Math.ceil(whole.groups_total / 3));
  });

  it("bad input is refused", async () => {
    expect((await lp.callRaw(ROLE, "get_traffic_sources", { group_by: "medium" })).isError).toBe(true);
    const c = await lp.callRaw(ROLE, "get_traffic_sources", { cursor: "nonsense" });
    expect(c.isError).toBe(true);
    expect(textOf(c)).toMatch(/cursor is not valid/);
  });
});
