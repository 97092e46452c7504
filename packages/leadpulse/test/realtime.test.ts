// get_real_time_visitors: organization A's recent history is cleared in this file's database and
// replaced by fixtures at lp.now − k minutes whose answers are worked out by hand below (window
// boundaries, bots, a future touchpoint, absolute URLs, a visitor with two sessions, one without);
// organization B's seeded live visitors are checked against a plain TypeScript count over its rows.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { getRealTimeVisitors } from "../src/tools/get-real-time-visitors.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([getRealTimeVisitors]);
const MIN = 60_000;

describe("get_real_time_visitors on hand-made fixtures", () => {
  beforeAll(async () => {
    const now = lp.now.getTime();
    await lp.q(`delete from touchpoints where organization_id = $1 and occurred_at > $2`, [ORG_A.id, new Date(now - 3 * 3_600_000)]);
    const visitor = async (country: string, device: string, bot = false) => {
      const id = randomUUID();
      await lp.q(`insert into visitors (id, organization_id, fingerprint, device, country, first_seen_at, last_seen_at, is_bot) values ($1, $2, $3, $4, $5, $6, $6, $7)`,
        [id, ORG_A.id, `fx-${id}`, device, country, new Date(now - 3_600_000), bot]);
      return id;
    };
    const session = async (v: string, utm: string | null, referrer: string | null) => {
      const id = randomUUID();
      await lp.q(`insert into visitor_sessions (id, organization_id, visitor_id, started_at, referrer, utm_source, device) values ($1, $2, $3, $4, $5, $6, 'MOBILE')`,
        [id, ORG_A.id, v, new Date(now - 20 * MIN), referrer, utm]);
      return id;
    };
    const tp = (v: string, s: string | null, type: string, url: string, minutesAgo: number) =>
      lp.q(`insert into touchpoints (organization_id, visitor_id, session_id, type, url, occurred_at) values ($1, $2, $3, $4, $5, $6)`,
        [ORG_A.id, v, s, type, url, new Date(now - minutesAgo * MIN)]);

    const v1 = await visitor("NG", "MOBILE");
    const s1a = await session(v1, null, "https://l.facebook.com/");
    const s1b = await session(v1, " Newsletter ", null);
    await tp(v1, s1a, "PAGEVIEW", "https://shop.test/pricing/", 2);
    await tp(v1, s1b, "PAGEVIEW", "https://shop.test/pricing?x=1", 1);
    const v2 = await visitor("KE", "DESKTOP");
    const s2 = await session(v2, null, "https://www.google.com/search?q=x");
    await tp(v2, s2, "PAGEVIEW", "/", 4 + 59 / 60);
    await tp(v2, s2, "CLICK", "/", 0.5);
    const v3 = await visitor("NG", "MOBILE");
    await tp(v3, null, "PAGEVIEW", "/blog/a", 5); // exactly N minutes ago: the previous window
    await tp(v3, null, "PAGEVIEW", "https://shop.test/blog/a#top", 7);
    const bot = await visitor("NG", "DESKTOP", true);
    await tp(bot, null, "PAGEVIEW", "/pricing", 1);
    const v5 = await visitor("GH", "TABLET");
    const s5 = await session(v5, "WhatsApp", "android-app://com.whatsapp/");
    await tp(v5, s5, "PAGEVIEW", "/products/x", 9);
    await tp(v5, s5, "PAGEVIEW", "/products/y", 10); // exactly 2N ago: in neither window
    await tp(v5, s5, "PAGEVIEW", "/future", -1); // after now: in neither
    const v6 = await visitor("NG", "MOBILE");
    const s6 = await session(v6, null, null);
    await tp(v6, s6, "PAGEVIEW", "/", 0); // exactly now: the current window
  });

  it("5 minutes: counts, pages, countries, devices and sources in both windows, worked by hand", async () => {
    const r = await lp.call("USER", "get_real_time_visitors", { top: 20 });
    expect(r.window).toEqual({ minutes: 5, from: new Date(lp.now.getTime() - 5 * MIN).toISOString(), to: lp.now.toISOString(), previous_from: new Date(lp.now.getTime() - 10 * MIN).toISOString() });
    expect(r.active_visitors).toEqual({ current: 3, previous: 2, change: 1, change_rate: 0.5 });
    expect(r.page_views).toEqual({ current: 4, previous: 3, change: 1, change_rate: 0.3333 });
    expect(r.top_pages).toEqual([
      { path: "/", current: 2, previous: 0, change: 2, change_rate: null, views: 2, previous_views: 0 },
      { path: "/pricing", current: 1, previous: 0, change: 1, change_rate: null, views: 2, previous_views: 0 },
      { path: "/blog/a", current: 0, previous: 1, change: -1, change_rate: -1, views: 0, previous_views: 2 },
      { path: "/products/x", current: 0, previous: 1, change: -1, change_rate: -1, views: 0, previous_views: 1 },
    ]);
    const kv = (xs: Array<{ key: string; current: number; previous: number }>) => xs.map((x) => [x.key, x.current, x.previous]);
    expect(kv(r.countries)).toEqual([["NG", 2, 1], ["KE", 1, 0], ["GH", 0, 1]]);
    expect(kv(r.devices)).toEqual([["MOBILE", 2, 1], ["DESKTOP", 1, 0], ["TABLET", 0, 1]]);
    expect(kv(r.sources)).toEqual([["direct", 1, 0], ["google.com", 1, 0], ["newsletter", 1, 0], ["unknown", 0, 1], ["whatsapp", 0, 1]]);
    expect(r.truncated).toEqual({ pages: 0, countries: 0, devices: 0, sources: 0 });
  });

  it("1 minute: the boundary touchpoint at now − 1 min falls in the previous window", async () => {
    const r = await lp.call("USER", "get_real_time_visitors", { minutes: 1, top: 20 });
    expect(r.active_visitors).toEqual({ current: 2, previous: 1, change: 1, change_rate: 1 });
    expect(r.page_views).toEqual({ current: 1, previous: 1, change: 0, change_rate: 0 });
    expect(r.top_pages.map((p: { path: string; views: number; previous_views: number }) => [p.path, p.views, p.previous_views])).toEqual([["/", 1, 0], ["/pricing", 0, 1]]);
    // v2 (KE) is active through its click alone; its source is its session's referrer host.
    expect(r.sources.map((s: { key: string; current: number }) => [s.key, s.current])).toEqual([["direct", 1], ["google.com", 1], ["newsletter", 0]]);
  });

  it("top limits each list and says how many were left out; the text carries the figures", async () => {
    const raw = await lp.callRaw("USER", "get_real_time_visitors", { top: 1 });
    const r = raw.structuredContent as { top_pages: unknown[]; truncated: Record<string, number> };
    expect(r.top_pages).toHaveLength(1);
    expect(r.truncated).toEqual({ pages: 3, countries: 2, devices: 2, sources: 4 });
    const text = textOf(raw);
    expect(text).toContain("Visitors: 3 (previous 2, +1, +50.00%)");
    expect(text).toContain("page views: 4 (previous 3, +1, +33.33%)");
    expect(text).toContain("/ 2 (previous 0, +2), views 2 (previous 0) (+3 more)");
    for (const args of [{ top: 1 }, { top: 20 }, { minutes: 1, top: 20 }]) {
      const x = await lp.callRaw("USER", "get_real_time_visitors", args);
      expect(valuesMissingFromText(x.structuredContent, getRealTimeVisitors.output, textOf(x))).toEqual([]);
    }
  });

  it("minutes outside 1–60 and unknown arguments are refused", async () => {
    for (const args of [{ minutes: 0 }, { minutes: 61 }, { minutes: 2.5 }, { window: 5 }]) {
      expect((await lp.callRaw("USER", "get_real_time_visitors", args)).isError).toBe(true);
    }
  });
});

describe("get_real_time_visitors on organization B's seeded live visitors", () => {
  it("equals a count over its touchpoint rows in TypeScript, for 5 and 30 minutes", async () => {
    const rows = await lp.q<{ visitor_id: string; occurred_at: Date; type: string; url: string; country: string; device: string; is_bot: boolean }>(`
      select t.visitor_id::text, t.occurred_at, t.type::text, t.url, trim(v.country) country, v.device::text device, v.is_bot
        from touchpoints t join visitors v on v.id = t.visitor_id where t.organization_id = $1 and t.occurred_at > $2`,
      [ORG_B.id, new Date(lp.now.getTime() - 2 * 60 * MIN)]);
    for (const minutes of [5, 30]) {
      const now = lp.now.getTime();
      const inWin = (t: Date, lo: number, hi: number) => t.getTime() > lo && t.getTime() <= hi;
      const cur = rows.filter((r) => !r.is_bot && inWin(r.occurred_at, now - minutes * MIN, now));
      const prev = rows.filter((r) => !r.is_bot && inWin(r.occurred_at, now - 2 * minutes * MIN, now - minutes * MIN));
      const visitors = (xs: typeof rows) => new Set(xs.map((x) => x.visitor_id)).size;
      const r = await lp.call("USER", "get_real_time_visitors", { minutes, top: 20 }, ORG_B);
      expect(r.active_visitors.current).toBe(visitors(cur));
      expect(r.active_visitors.previous).toBe(visitors(prev));
      expect(r.page_views.current).toBe(cur.filter((x) => x.type === "PAGEVIEW").length);
      if (minutes === 30) expect(visitors(cur)).toBeGreaterThan(0);
      const byCountry = new Map<string, Set<string>>();
      for (const x of cur) byCountry.set(x.country, (byCountry.get(x.country) ?? new Set()).add(x.visitor_id));
      for (const c of r.countries) if (c.current > 0) expect(c.current).toBe(byCountry.get(c.key)?.size);
      const pages = new Map<string, Set<string>>();
      for (const x of cur.filter((y) => y.type === "PAGEVIEW")) {
        const path = new URL(x.url, "https://x.test").pathname.replace(/(.)\/$/, "$1");
        pages.set(path, (pages.get(path) ?? new Set()).add(x.visitor_id));
      }
      for (const p of r.top_pages) if (p.current > 0) expect(p.current).toBe(pages.get(p.path)?.size);
      expect(r.top_pages.filter((p: { current: number }) => p.current > 0).length).toBe(Math.min(20, pages.size));
    }
  });
});
