// Ingestion through track_events (the collector's code path): what is stored, checked with raw
// SQL on the base tables — touchpoints, sessions split at 30 minutes across calls, duplicates by
// event id (also under concurrent retries), page_leave completing its page view, identify linking
// and back-filling, conversions with their value, bots marked, rejected events listed while the
// valid ones are stored, scopes and organization isolation.
import { describe, expect, it } from "vitest";
import { trackEvents } from "../src/tools/track-events.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([trackEvents]);
const ROLE = "SUPER_ADMIN";
const CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const MIN = 60_000;

let n = 0;
const eid = (tag: string) => `${tag}_${String(++n).padStart(6, "0")}`;
const at = (msBeforeNow: number) => lp.now.getTime() - msBeforeNow;

interface Tracked {
  stored: number;
  duplicates: number;
  page_leaves: number;
  page_leaves_unmatched: number;
  sessions_opened: number;
  identified: Array<{ visitor_id: string; contact_id: string | null; backfilled: number }>;
  bot: boolean;
  rejected: Array<{ index: number; id?: string; errors: string[] }>;
}
const track = (events: unknown[], context: Record<string, unknown> = { user_agent: CHROME_ANDROID, tz: "Africa/Lagos" }, org = ORG_A) =>
  lp.call<Tracked>(ROLE, "track_events", { events, context }, org);

async function visitorRow(fp: string, org = ORG_A) {
  const [v] = await lp.q(`select id::text, contact_id::text, device::text, os, browser, trim(country) as country, is_bot, first_seen_at, last_seen_at from visitors where organization_id = $1 and fingerprint = $2`, [org.id, fp]);
  return v;
}
async function sessionsOf(fp: string, org = ORG_A) {
  return lp.q(
    `select s.id::text, s.started_at, s.ended_at, s.landing_url, s.referrer, s.utm_source, s.utm_medium, s.utm_campaign, s.device::text, trim(s.country) as country
       from visitor_sessions s join visitors v on v.id = s.visitor_id where v.organization_id = $1 and v.fingerprint = $2 order by s.started_at`,
    [org.id, fp],
  );
}
async function touchpointsOf(fp: string, org = ORG_A) {
  return lp.q(
    `select t.type::text, t.url, t.title, t.occurred_at, t.duration_sec, t.scroll_depth, t.utm_source, t.session_id::text, t.contact_id::text, t.client_event_id, t.detail
       from touchpoints t join visitors v on v.id = t.visitor_id where v.organization_id = $1 and v.fingerprint = $2 order by t.occurred_at, t.id`,
    [org.id, fp],
  );
}

describe("track_events stores a visit", () => {
  it("page view with UTM and referrer, click, form, conversion and page leave: one session, every row as sent", async () => {
    const vid = "visitor_full_1";
    const pv = eid("pv");
    const t0 = at(20 * MIN);
    const events = [
      { type: "pageview", id: pv, ts: t0, visitor_id: vid, url: "https://shop.test/pricing?utm_source=fb", title: "Pricing", referrer: "https://l.facebook.com/", utm: { source: "facebook", medium: "paid_social", campaign: "black-friday" } },
      { type: "click", id: eid("c"), ts: t0 + 5_000, visitor_id: vid, url: "https://shop.test/pricing", text: "Buy now", href: "https://shop.test/checkout" },
      { type: "form_start", id: eid("fs"), ts: t0 + 10_000, visitor_id: vid, url: "https://shop.test/pricing", form_id: "signup" },
      { type: "form_submit", id: eid("fu"), ts: t0 + 20_000, visitor_id: vid, url: "https://shop.test/pricing", form_id: "signup" },
      { type: "conversion", id: eid("cv"), ts: t0 + 30_000, visitor_id: vid, url: "https://shop.test/thanks", goal: "purchase", value: 12500.5, currency: "NGN" },
      { type: "page_leave", id: eid("pl"), ts: t0 + 60_000, visitor_id: vid, url: "https://shop.test/pricing?utm_source=fb", pageview_id: pv, scroll_depth: 72.4, duration_sec: 59.6 },
    ];
    const r = await track(events);
    expect(r).toMatchObject({ stored: 5, duplicates: 0, page_leaves: 1, page_leaves_unmatched: 0, sessions_opened: 1, bot: false, rejected: [] });

    const v = await visitorRow(vid);
    expect(v).toMatchObject({ device: "MOBILE", os: "Android", browser: "Chrome", country: "NG", is_bot: false, contact_id: null });
    expect(v.first_seen_at.getTime()).toBe(t0);
    expect(v.last_seen_at.getTime()).toBe(t0 + 60_000);

    const s = await sessionsOf(vid);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ landing_url: "https://shop.test/pricing?utm_source=fb", referrer: "https://l.facebook.com/", utm_source: "facebook", utm_medium: "paid_social", utm_campaign: "black-friday", device: "MOBILE", country: "NG" });
    expect(s[0].started_at.getTime()).toBe(t0);
    expect(s[0].ended_at.getTime()).toBe(t0 + 60_000);

    const tps = await touchpointsOf(vid);
    expect(tps.map((t) => t.type)).toEqual(["PAGEVIEW", "CLICK", "FORM_START", "FORM_SUBMIT", "CONVERSION"]);
    expect(new Set(tps.map((t) => t.session_id))).toEqual(new Set([s[0].id]));
    expect(tps[0]).toMatchObject({ title: "Pricing", duration_sec: 60, scroll_depth: 72, utm_source: "facebook", client_event_id: pv });
    expect(tps[1].detail).toEqual({ text: "Buy now", href: "https://shop.test/checkout" });
    expect(tps[2].detail).toEqual({ form_id: "signup" });

    const conv = await lp.q(`select c.type, c.value::text, trim(c.currency) as currency, c.occurred_at, c.contact_id from conversions c join visitors v on v.id = c.visitor_id where v.fingerprint = $1`, [vid]);
    expect(conv).toEqual([{ type: "purchase", value: "12500.50", currency: "NGN", occurred_at: new Date(t0 + 30_000), contact_id: null }]);
  });

  it("a goal without a value is a conversion worth 0 in the reporting currency", async () => {
    await track([{ type: "conversion", id: eid("cv0"), ts: at(MIN), visitor_id: "visitor_goal_1", url: "https://shop.test/newsletter", goal: "newsletter" }]);
    const conv = await lp.q(`select value::text, trim(currency) as currency from conversions c join visitors v on v.id = c.visitor_id where v.fingerprint = 'visitor_goal_1'`);
    expect(conv).toEqual([{ value: "0.00", currency: ORG_A.reportingCurrency }]);
  });

  it("a page leave without pageview_id completes the latest view of that URL; one with nothing to complete is counted as unmatched", async () => {
    const vid = "visitor_leave_1";
    await track([
      { type: "pageview", id: eid("pv"), ts: at(10 * MIN), visitor_id: vid, url: "https://shop.test/a" },
      { type: "pageview", id: eid("pv"), ts: at(8 * MIN), visitor_id: vid, url: "https://shop.test/a" },
    ]);
    const r = await track([
      { type: "page_leave", id: eid("pl"), ts: at(7 * MIN), visitor_id: vid, url: "https://shop.test/a", scroll_depth: 40, duration_sec: 61 },
      { type: "page_leave", id: eid("pl"), ts: at(7 * MIN), visitor_id: vid, url: "https://shop.test/never-viewed", scroll_depth: 40, duration_sec: 5 },
    ]);
    expect(r).toMatchObject({ page_leaves: 1, page_leaves_unmatched: 1 });
    const tps = await touchpointsOf(vid);
    expect(tps.map((t) => [t.duration_sec, t.scroll_depth])).toEqual([[null, null], [61, 40]]);
  });
});

describe("sessions split after 30 minutes of inactivity, across calls", () => {
  it("29:59 after the last event continues the session; 30:00 opens a new one", async () => {
    const vid = "visitor_gap_1";
    const t0 = at(3 * 60 * MIN);
    const pv = (ts: number) => ({ type: "pageview", id: eid("g"), ts, visitor_id: vid, url: "https://shop.test/" });
    expect((await track([pv(t0)])).sessions_opened).toBe(1);
    expect((await track([pv(t0 + 30 * MIN - 1_000)])).sessions_opened).toBe(0);
    const last = t0 + 30 * MIN - 1_000;
    expect((await track([pv(last + 30 * MIN)])).sessions_opened).toBe(1);
    const s = await sessionsOf(vid);
    expect(s.map((x) => [x.started_at.getTime(), x.ended_at.getTime()])).toEqual([[t0, last], [last + 30 * MIN, last + 30 * MIN]]);
    const tps = await touchpointsOf(vid);
    expect(tps.map((t) => t.session_id)).toEqual([s[0].id, s[0].id, s[1].id]);
  });
});

describe("idempotent by the client's event id", () => {
  it("a retried batch stores nothing twice and opens no session", async () => {
    const vid = "visitor_retry_1";
    const batch = [
      { type: "pageview", id: eid("r"), ts: at(5 * MIN), visitor_id: vid, url: "https://shop.test/" },
      { type: "click", id: eid("r"), ts: at(5 * MIN) + 1_000, visitor_id: vid, url: "https://shop.test/", text: "Menu" },
    ];
    expect(await track(batch)).toMatchObject({ stored: 2, duplicates: 0, sessions_opened: 1 });
    expect(await track(batch)).toMatchObject({ stored: 0, duplicates: 2, sessions_opened: 0 });
    expect(await touchpointsOf(vid)).toHaveLength(2);
    expect(await sessionsOf(vid)).toHaveLength(1);
  });

  it("the same batch sent 6 times at once is stored once", async () => {
    const vid = "visitor_race_1";
    const batch = Array.from({ length: 8 }, (_, i) => ({ type: "pageview", id: eid("x"), ts: at(4 * MIN) + i * 1_000, visitor_id: vid, url: `https://shop.test/p${i}` }));
    const results = await Promise.all(Array.from({ length: 6 }, () => track(batch)));
    expect(results.reduce((s, r) => s + r.stored, 0)).toBe(8);
    expect(results.reduce((s, r) => s + r.duplicates, 0)).toBe(8 * 5);
    expect(await touchpointsOf(vid)).toHaveLength(8);
    expect(await sessionsOf(vid)).toHaveLength(1);
  });

  it("event ids are per organization: the same ids in another organization are another visitor's", async () => {
    const batch = [{ type: "pageview", id: "shared_event_id_1", ts: at(2 * MIN), visitor_id: "visitor_shared_1", url: "https://shop.test/" }];
    expect((await track(batch)).stored).toBe(1);
    expect((await track(batch, undefined, ORG_B)).stored).toBe(1);
    const a = await visitorRow("visitor_shared_1", ORG_A);
    const b = await visitorRow("visitor_shared_1", ORG_B);
    expect(a.id).not.toBe(b.id);
    const [cross] = await lp.q(`select count(*)::int n from touchpoints where visitor_id = $1 and organization_id <> $2`, [a.id, ORG_A.id]);
    expect(cross.n).toBe(0);
  });
});

describe("identify", () => {
  it("links the visitor to the contact by email (any case) and back-fills the anonymous history; later events carry it", async () => {
    const [c] = await lp.q(`select id::text, email from contacts where organization_id = $1 and email is not null order by id limit 1`, [ORG_A.id]);
    const vid = "visitor_ident_1";
    await track([
      { type: "pageview", id: eid("i"), ts: at(15 * MIN), visitor_id: vid, url: "https://shop.test/" },
      { type: "pageview", id: eid("i"), ts: at(14 * MIN), visitor_id: vid, url: "https://shop.test/pricing" },
    ]);
    const r = await track([{ type: "identify", id: eid("id"), ts: at(13 * MIN), visitor_id: vid, email: c.email.toUpperCase() }]);
    expect(r.identified).toEqual([{ visitor_id: vid, contact_id: c.id, backfilled: 2 }]);
    await track([{ type: "pageview", id: eid("i"), ts: at(12 * MIN), visitor_id: vid, url: "https://shop.test/checkout" }]);
    expect((await visitorRow(vid)).contact_id).toBe(c.id);
    expect((await touchpointsOf(vid)).map((t) => t.contact_id)).toEqual([c.id, c.id, c.id]);
  });

  it("by phone written locally (the organization's country); an unknown email links nothing", async () => {
    const [c] = await lp.q(`select id::text, phone from contacts where organization_id = $1 and phone like '+234%' order by id limit 1`, [ORG_A.id]);
    const local = `0${c.phone.slice(4)}`;
    const r = await track([
      { type: "identify", id: eid("id"), ts: at(MIN), visitor_id: "visitor_ident_2", phone: local },
      { type: "identify", id: eid("id"), ts: at(MIN), visitor_id: "visitor_ident_3", email: "nobody-here@example.test" },
    ]);
    expect(r.identified).toEqual([
      { visitor_id: "visitor_ident_2", contact_id: c.id, backfilled: 0 },
      { visitor_id: "visitor_ident_3", contact_id: null, backfilled: 0 },
    ]);
  });

  it("never links to another organization's contact", async () => {
    const [b] = await lp.q(`select email from contacts where organization_id = $1 and email is not null order by id limit 1`, [ORG_B.id]);
    const r = await track([{ type: "identify", id: eid("id"), ts: at(MIN), visitor_id: "visitor_ident_4", email: b.email }]);
    const [same] = await lp.q(`select count(*)::int n from contacts where organization_id = $1 and email = $2`, [ORG_A.id, b.email]);
    if (same.n === 0) expect(r.identified[0]!.contact_id).toBeNull();
  });
});

describe("bad input and bots", () => {
  it("invalid events are listed with their problems while the valid ones are stored", async () => {
    const r = await lp.callRaw(ROLE, "track_events", {
      events: [
        { type: "pageview", id: eid("ok"), ts: at(MIN), visitor_id: "visitor_mixed_1", url: "https://shop.test/" },
        { type: "pageview", id: "bad id!", ts: at(MIN), visitor_id: "visitor_mixed_1", url: "not a url" },
        { type: "teleport", id: eid("t"), ts: at(MIN), visitor_id: "visitor_mixed_1" },
        { type: "pageview", id: eid("old"), ts: at(8 * 24 * 60 * MIN), visitor_id: "visitor_mixed_1", url: "https://shop.test/" },
      ],
    });
    expect(r.isError).toBeFalsy();
    const o = r.structuredContent as Tracked;
    expect(o.stored).toBe(1);
    expect(o.rejected.map((x) => x.index)).toEqual([1, 2, 3]);
    expect(o.rejected[0]!.errors.join(" ")).toMatch(/events\[1\]\.id: must be 8–64.*events\[1\]\.url: not an absolute http\(s\) URL/);
    expect(o.rejected[1]!.errors.join(" ")).toMatch(/type must be one of/);
    expect(o.rejected[2]!.errors.join(" ")).toMatch(/more than 7 days old/);
    expect(textOf(r)).toMatch(/Rejected 3/);
  });

  it("a call where no event is valid is refused with the reasons, storing nothing", async () => {
    const r = await lp.callRaw(ROLE, "track_events", { events: [{ type: "pageview", id: "x" }] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/No event was valid: .*events\[0\]\.id/);
  });

  it("an obvious bot is stored and marked", async () => {
    const r = await track([{ type: "pageview", id: eid("b"), ts: at(MIN), visitor_id: "visitor_bot_1", url: "https://shop.test/" }], { user_agent: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" });
    expect(r.bot).toBe(true);
    expect((await visitorRow("visitor_bot_1")).is_bot).toBe(true);
  });

  it("unknown fields in the call are refused by name", async () => {
    const r = await lp.callRaw(ROLE, "track_events", { events: [{}], organization_id: ORG_B.id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/organization_id/);
  });
});

describe("scopes", () => {
  it("needs leadpulse:write: USER and AI_AGENT are refused, ADMIN may", async () => {
    const ev = () => [{ type: "pageview", id: eid("s"), ts: at(MIN), visitor_id: "visitor_scope_1", url: "https://shop.test/" }];
    for (const role of ["USER", "AI_AGENT"] as const) {
      const r = await lp.callRaw(role, "track_events", { events: ev() });
      expect(r.isError, role).toBe(true);
    }
    expect((await lp.call<Tracked>("ADMIN", "track_events", { events: ev() })).stored).toBe(1);
  });
});
