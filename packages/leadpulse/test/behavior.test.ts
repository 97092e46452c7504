// analyze_visitor_behavior against test/reference-behavior.ts (hand-written SQL for the rows, the
// definitions in TypeScript): the population over the default and explicit ranges, each filter
// alone and combined, one visitor; fixtures for the edges (a session without touchpoints, time on
// the last page counted in the duration, absolute URLs, a UTM source in capitals, a bot).
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { analyzeVisitorBehavior } from "../src/tools/analyze-visitor-behavior.ts";
import { referenceBehavior } from "./reference-behavior.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([analyzeVisitorBehavior]);
const MIN = 60_000;
const DAY = 86_400_000;
const figures = ({ range: _r, visitor_id: _v, filters: _f, ...rest }: Record<string, unknown>) => rest;

describe("analyze_visitor_behavior", () => {
  const fx: Record<string, string> = {};
  beforeAll(async () => {
    const now = lp.now.getTime();
    const visitor = async (bot = false) => {
      const id = randomUUID();
      await lp.q(`insert into visitors (id, organization_id, fingerprint, device, country, first_seen_at, last_seen_at, is_bot) values ($1, $2, $3, 'TABLET', 'GH', $4, $4, $5)`,
        [id, ORG_A.id, `fx-${id}`, new Date(now - DAY), bot]);
      return id;
    };
    const session = async (v: string, hoursAgo: number, utm: string | null) => {
      const id = randomUUID();
      await lp.q(`insert into visitor_sessions (id, organization_id, visitor_id, started_at, utm_source, device, country) values ($1, $2, $3, $4, $5, 'TABLET', 'GH')`,
        [id, ORG_A.id, v, new Date(now - hoursAgo * 3_600_000), utm]);
      return id;
    };
    const tp = (v: string, s: string, type: string, url: string, at: number, dur: number | null, scroll: number | null) =>
      lp.q(`insert into touchpoints (organization_id, visitor_id, session_id, type, url, occurred_at, duration_sec, scroll_depth) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [ORG_A.id, v, s, type, url, new Date(at), dur, scroll]);
    fx.v = await visitor();
    // Session 1 (2 days ago): 3 page views; the last page's 300 s count: duration 60 + 60 + 300 = 420 s.
    const s1 = await session(fx.v, 48, " Newsletter ");
    const t1 = now - 48 * 3_600_000;
    await tp(fx.v, s1, "PAGEVIEW", "https://shop.test/deals/?utm_source=Newsletter", t1, 60, 20);
    await tp(fx.v, s1, "PAGEVIEW", "https://shop.test/deals/tv#specs", t1 + 60_000, 60, null);
    await tp(fx.v, s1, "CLICK", "/deals/tv", t1 + 90_000, null, null);
    await tp(fx.v, s1, "PAGEVIEW", "/checkout", t1 + 120_000, 300, 100);
    // Session 2 (1 hour ago): no touchpoints at all.
    await session(fx.v, 1, null);
    // A bot with a session and page views: never counted.
    fx.bot = await visitor(true);
    const sb = await session(fx.bot, 3, "newsletter");
    await tp(fx.bot, sb, "PAGEVIEW", "/deals", now - 3 * 3_600_000, 10, 50);
  });

  it("the population over the default 30 days equals the reference", async () => {
    const r = await lp.call("USER", "analyze_visitor_behavior", {});
    expect(r.range.preset).toBe("30d");
    const ref = await referenceBehavior(lp.q, ORG_A.id, { from: new Date(lp.now.getTime() - 30 * DAY), to: lp.now });
    expect(figures(r)).toEqual(ref);
    expect(r.visitors).toBeGreaterThan(20);
    expect(r.top_paths.length).toBe(10);
  });

  it("each filter, alone and combined, over explicit ranges, equals the reference", async () => {
    const from = new Date(lp.now.getTime() - 90 * DAY);
    const cases: Array<Record<string, unknown>> = [
      { device: "MOBILE" }, { device: "TABLET" }, { country: "ng" }, { source: "google.com" }, { source: "NEWSLETTER" }, { source: "direct" },
      { visitor_type: "new" }, { visitor_type: "returning" }, { identified: true }, { identified: false },
      { device: "MOBILE", country: "NG", visitor_type: "returning" }, { country: "ZZ" },
    ];
    for (const c of cases) {
      const r = await lp.call("USER", "analyze_visitor_behavior", { ...c, range: { from: from.toISOString(), to: lp.now.toISOString() }, top: 5 });
      const filters = { ...c, ...(typeof c.country === "string" ? { country: c.country.toUpperCase() } : {}), ...(typeof c.source === "string" ? { source: c.source.toLowerCase() } : {}) };
      const ref = await referenceBehavior(lp.q, ORG_A.id, { from, to: lp.now, filters, top: 5 });
      expect(figures(r), JSON.stringify(c)).toEqual(ref);
      expect(r.filters).toMatchObject(filters);
    }
    const past = { from: "2026-08-01T00:00:00Z", to: "2026-09-01T00:00:00Z" };
    const r = await lp.call("USER", "analyze_visitor_behavior", { range: past });
    expect(figures(r)).toEqual(await referenceBehavior(lp.q, ORG_A.id, { from: new Date(past.from), to: new Date(past.to) }));
    const b = await lp.call("USER", "analyze_visitor_behavior", { range: { preset: "90d" } }, ORG_B);
    expect(figures(b)).toEqual(await referenceBehavior(lp.q, ORG_B.id, { from, to: lp.now }));
  });

  it("one visitor: the fixtures' figures worked by hand, and the reference for a seeded one", async () => {
    const r = await lp.call("USER", "analyze_visitor_behavior", { id: fx.v });
    expect(r.range).toBeNull();
    expect(r).toMatchObject({
      visitor_id: fx.v, visitors: 1, sessions: 2, page_views: 3, sessions_per_visitor: 2, pages_per_session: 1.5,
      session_duration_sec: { median: 420, mean: 420, sessions: 1 },
      scroll_depth_pct: { median: 60, mean: 60, page_views: 2 },
      returning_visitors: 1, return_rate: 1, identified_visitors: 0, identified_share: 0,
      top_paths: [{ path: "/checkout", views: 1, visitors: 1 }, { path: "/deals", views: 1, visitors: 1 }, { path: "/deals/tv", views: 1, visitors: 1 }],
      top_entry_paths: [{ path: "/deals", sessions: 1 }],
    });
    const newsletter = await lp.call("USER", "analyze_visitor_behavior", { id: fx.v, source: "newsletter", range: { preset: "7d" } });
    expect(newsletter).toMatchObject({ sessions: 1, returning_visitors: 1, page_views: 3 });
    const firstOnly = await lp.call("USER", "analyze_visitor_behavior", { id: fx.v, visitor_type: "returning", range: { preset: "7d" } });
    expect(firstOnly).toMatchObject({ sessions: 1, page_views: 0, session_duration_sec: { median: null, mean: null, sessions: 0 }, pages_per_session: 0 });
    const [seeded] = await lp.q<{ id: string }>(`select visitor_id::text id from visitor_sessions s join visitors v on v.id = s.visitor_id where s.organization_id = $1 and not v.is_bot group by 1 order by count(*) desc, 1 limit 1`, [ORG_A.id]);
    const one = await lp.call("USER", "analyze_visitor_behavior", { id: seeded!.id });
    expect(figures(one)).toEqual(await referenceBehavior(lp.q, ORG_A.id, { from: null, to: lp.now, visitorId: seeded!.id }));
    expect(one.sessions).toBeGreaterThan(2);
  });

  it("a bot, another organization's visitor and unknown arguments are refused with reasons", async () => {
    const bot = await lp.callRaw("USER", "analyze_visitor_behavior", { id: fx.bot });
    expect(textOf(bot)).toMatch(/INVALID_INPUT: .* is a bot/);
    const [b] = await lp.q<{ id: string }>(`select id::text from visitors where organization_id = $1 limit 1`, [ORG_B.id]);
    expect(textOf(await lp.callRaw("USER", "analyze_visitor_behavior", { id: b!.id }))).toMatch(/NOT_FOUND/);
    for (const args of [{ country: "Nigeria" }, { device: "PHONE" }, { visitor_type: "old" }, { top: 0 }, { range: { preset: "2d" } }, { segment: "x" }]) {
      expect((await lp.callRaw("USER", "analyze_visitor_behavior", args)).isError, JSON.stringify(args)).toBe(true);
    }
  });

  it("the text carries every value of the structured content", async () => {
    for (const args of [{}, { id: fx.v }, { country: "ZZ" }, { identified: true, top: 3 }]) {
      const raw = await lp.callRaw("USER", "analyze_visitor_behavior", args);
      expect(raw.isError).toBeFalsy();
      expect(valuesMissingFromText(raw.structuredContent, analyzeVisitorBehavior.output, textOf(raw)), JSON.stringify(args)).toEqual([]);
    }
  });
});
