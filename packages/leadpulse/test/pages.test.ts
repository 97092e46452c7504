// get_page_analytics against an independent computation (reference-pages.ts: window functions
// over the page views, summed in TypeScript) on the seeded data of both organizations for several
// patterns and ranges, and on fixtures written here with every figure worked out by hand.
import { beforeAll, describe, expect, it } from "vitest";
import { ratio, roundTo } from "@marketsage/domain";
import { getPageAnalytics } from "../src/tools/get-page-analytics.ts";
import { referencePages } from "./reference-pages.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([getPageAnalytics]);
const ROLE = "SUPER_ADMIN";
const MIN = 60_000, DAY = 86_400_000;

interface Pages {
  range: { from: string; to: string };
  url: string;
  views: number;
  unique_visitors: number;
  sessions: number;
  pages: Array<{ path: string; views: number }>;
  paths_total: number;
  time_on_page: { median_seconds: number | null; mean_seconds: number | null; views_timed: number; views_without_duration: number };
  landings: number;
  bounces: number;
  bounce_rate: number | null;
  exits: number;
  exit_rate: number | null;
  scroll_depth: Array<{ bucket: string; views: number; share: number | null }>;
  views_without_scroll: number;
  referrers: Array<{ host: string; sessions: number }>;
  sessions_without_referrer: number;
  utm_sources: Array<{ source: string; sessions: number }>;
  sessions_without_utm: number;
}

/** A top-N list equals the reference's counts: each item's count is right, and no left-out key has more. */
function expectTop(items: readonly object[], key: string, value: string, ref: Map<string, number>, limit: number, what: string) {
  const got = items as Array<Record<string, string | number>>;
  expect(got.length, what).toBe(Math.min(limit, ref.size));
  for (const g of got) expect(g[value], `${what} ${g[key]}`).toBe(ref.get(String(g[key])));
  const counts = got.map((g) => Number(g[value]));
  expect([...counts].sort((a, b) => b - a), `${what} sorted`).toEqual(counts);
  const shown = new Set(got.map((g) => String(g[key])));
  const least = Math.min(...counts);
  for (const [k, n] of ref) if (!shown.has(k)) expect(n, `${what} left out ${k}`).toBeLessThanOrEqual(least);
}

async function compare(org: typeof ORG_A, url: string, range: Record<string, string>, limit = 20): Promise<Pages> {
  const got = await lp.call<Pages>(ROLE, "get_page_analytics", { url, range, limit }, org);
  const ref = await referencePages(lp.q, org.id, url, new Date(got.range.from), new Date(got.range.to));
  const what = `${org.slug} ${url} ${JSON.stringify(range)}`;
  expect(got.views, what).toBe(ref.views);
  expect(got.unique_visitors, what).toBe(ref.unique_visitors);
  expect(got.sessions, what).toBe(ref.sessions);
  expect(got.paths_total, what).toBe(ref.paths.size);
  expectTop(got.pages, "path", "views", ref.paths, limit, `${what} pages`);
  expect(got.time_on_page, what).toEqual({
    median_seconds: roundTo(ref.median_seconds, 2),
    mean_seconds: roundTo(ref.mean_seconds, 2),
    views_timed: ref.timed,
    views_without_duration: ref.views - ref.timed,
  });
  expect([got.landings, got.bounces, got.exits], what).toEqual([ref.landings, ref.bounces, ref.exits]);
  expect(got.bounce_rate, what).toBe(ratio(ref.bounces, ref.landings));
  expect(got.exit_rate, what).toBe(ratio(ref.exits, ref.views));
  expect(got.scroll_depth.map((b) => b.views), what).toEqual(ref.scroll);
  expect(got.scroll_depth.map((b) => b.share), what).toEqual(ref.scroll.map((n) => ratio(n, ref.scrolled)));
  expect(got.views_without_scroll, what).toBe(ref.views - ref.scrolled);
  expectTop(got.referrers, "host", "sessions", ref.referrers, limit, `${what} referrers`);
  expect(got.sessions_without_referrer, what).toBe(ref.no_referrer);
  expectTop(got.utm_sources, "source", "sessions", ref.sources, limit, `${what} utm`);
  expect(got.sessions_without_utm, what).toBe(ref.no_source);
  return got;
}

// ---------- fixtures: paths under /fxp/ that the seed never uses ----------
const F = Date.parse("2026-11-01T00:00:00.000Z");
const TO = Date.parse("2026-11-10T00:00:00.000Z");
const T = Date.parse("2026-11-03T09:00:00.000Z");
const RANGE = { from: new Date(F).toISOString(), to: new Date(TO).toISOString() };
const uuid = (n: number) => `f1000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

interface FxSession {
  n: number;
  visitor: number;
  org?: string;
  bot?: boolean;
  referrer?: string;
  utm?: string;
  /** [path, ms, duration_sec, scroll_depth] */
  views: Array<[string, number, number | null, number | null]>;
}
const SESSIONS: FxSession[] = [
  // P1: lands on /fxp/page, then /fxp/other: a landing, not a bounce, not an exit.
  { n: 1, visitor: 1, referrer: "https://www.google.com/search?q=x", views: [["/fxp/page", T, 10, 50], ["/fxp/other", T + MIN, 20, 80]] },
  // P2: /fxp/page alone, no duration or depth: landing, bounce, exit.
  { n: 2, visitor: 2, utm: " WhatsApp ", views: [["/fxp/page", T, null, null]] },
  // P3: /fxp/elsewhere, then /fxp/page?x=1 last: an exit, not a landing.
  { n: 3, visitor: 3, referrer: "https://l.facebook.com/", utm: "facebook", views: [["/fxp/elsewhere", T, 15, 30], ["/fxp/page?x=1", T + 2 * MIN, 30, 100]] },
  // P4: /fxp/page exactly at the range's start: in (landing, bounce, exit). P4b: at its end: out.
  { n: 4, visitor: 4, views: [["/fxp/page", F, 40, 0]] },
  { n: 41, visitor: 4, views: [["/fxp/page/", TO, 99, 99]] },
  // P5: two views of /fxp/page at the same instant: the first (by id) lands, the second exits; no bounce.
  { n: 5, visitor: 1, referrer: "android-app://com.whatsapp/", views: [["/fxp/page", T + DAY, 5, 24], ["/fxp/page", T + DAY, 6, 25]] },
  // P8: a session that started two days before the range (its referrer is read by the session's id, not the range scan).
  { n: 8, visitor: 8, referrer: "https://old.fx-ref.test/", utm: "OldMail", views: [["/fxp-old/start", F - 2 * DAY, 5, 5], ["/fxp-old/page", F + MIN, 7, 70]] },
  // A bot and organization B: never in A's figures.
  { n: 6, visitor: 6, bot: true, views: [["/fxp/page", T, 1, 1]] },
  { n: 7, visitor: 7, org: ORG_B.id, referrer: "https://www.bing.com/", views: [["/fxp/page", T, 12, 60]] },
];

async function insertFixtures() {
  let next = Number((await lp.q(`select coalesce(max(id), 0) + 1 as next from touchpoints`))[0].next);
  const seen = new Set<number>();
  for (const s of SESSIONS) {
    const org = s.org ?? ORG_A.id;
    const vid = uuid(s.visitor);
    if (!seen.has(s.visitor)) {
      seen.add(s.visitor);
      await lp.q(`insert into visitors (id, organization_id, fingerprint, device, first_seen_at, last_seen_at, is_bot) values ($1, $2, $3, 'MOBILE', $4, $4, $5)`, [
        vid, org, `fxp-${s.visitor}`, new Date(F), s.bot ?? false,
      ]);
    }
    const sid = uuid(1000 + s.n);
    await lp.q(`insert into visitor_sessions (id, organization_id, visitor_id, started_at, device, referrer, utm_source) values ($1, $2, $3, $4, 'MOBILE', $5, $6)`, [
      sid, org, vid, new Date(s.views[0]![1]), s.referrer ?? null, s.utm ?? null,
    ]);
    for (const [path, ms, dur, depth] of s.views)
      await lp.q(`insert into touchpoints (id, organization_id, visitor_id, session_id, type, url, occurred_at, duration_sec, scroll_depth) values ($1, $2, $3, $4, 'PAGEVIEW', $5, $6, $7, $8)`, [
        next++, org, vid, sid, `https://shop.test${path}`, new Date(ms), dur, depth,
      ]);
  }
}

beforeAll(insertFixtures);

describe("get_page_analytics on hand-made fixtures", () => {
  it("/fxp/page: views, visitors, time, landings, bounces, exits, scroll, referrers and sources by hand", async () => {
    const o = await lp.call<Pages>(ROLE, "get_page_analytics", { url: "/fxp/page", range: RANGE });
    // Views: P1 P2 P3(?x=1) P4 P5 P5 = 6 (P4b at the end, the bot and B left out); visitors 1 2 3 4; sessions P1–P5.
    expect([o.views, o.unique_visitors, o.sessions]).toEqual([6, 4, 5]);
    expect(o.pages).toEqual([{ path: "/fxp/page", views: 6 }]);
    expect(o.paths_total).toBe(1);
    // Durations 10, 30, 40, 5, 6 (P2 has none): median 10, mean 91 / 5 = 18.2.
    expect(o.time_on_page).toEqual({ median_seconds: 10, mean_seconds: 18.2, views_timed: 5, views_without_duration: 1 });
    // Landings P1 P2 P4 P5(first) = 4; bounces P2 P4 = 2; exits P2 P3 P4 P5(second) = 4 of 6.
    expect([o.landings, o.bounces, o.bounce_rate, o.exits, o.exit_rate]).toEqual([4, 2, 0.5, 4, 0.6667]);
    // Depths 50, 100, 0, 24, 25 (P2 none): [0,25) 2, [25,50) 1, [50,75) 1, [75,100) 0, 100: 1.
    expect(o.scroll_depth).toEqual([
      { bucket: "0-25", views: 2, share: 0.4 },
      { bucket: "25-50", views: 1, share: 0.2 },
      { bucket: "50-75", views: 1, share: 0.2 },
      { bucket: "75-100", views: 0, share: 0 },
      { bucket: "100", views: 1, share: 0.2 },
    ]);
    expect(o.views_without_scroll).toBe(1);
    expect([...o.referrers].sort((a, b) => a.host.localeCompare(b.host))).toEqual([
      { host: "com.whatsapp", sessions: 1 },
      { host: "google.com", sessions: 1 },
      { host: "l.facebook.com", sessions: 1 },
    ]);
    expect(o.sessions_without_referrer).toBe(2);
    expect([...o.utm_sources].sort((a, b) => a.source.localeCompare(b.source))).toEqual([{ source: "facebook", sessions: 1 }, { source: "whatsapp", sessions: 1 }]);
    expect(o.sessions_without_utm).toBe(3);
    const text = textOf(await lp.callRaw(ROLE, "get_page_analytics", { url: "/fxp/page", range: RANGE }));
    for (const s of ["6 views by 4 visitors in 5 sessions", "Bounce 50.00%", "exit 66.67%", "median 10s", "mean 18.2s", "0-25 2 (40.00%)", "google.com 1"]) expect(text).toContain(s);
  });

  it("/fxp/* adds /fxp/other and /fxp/elsewhere: landings and exits move", async () => {
    const o = await lp.call<Pages>(ROLE, "get_page_analytics", { url: "/fxp/*", range: RANGE });
    expect(o.views).toBe(8);
    expect(o.paths_total).toBe(3);
    expect(o.pages[0]).toEqual({ path: "/fxp/page", views: 6 });
    // Landings P1 P2 P3(elsewhere) P4 P5 = 5, bounces P2 P4 = 2; exits P1(other) P2 P3 P4 P5 = 5 of 8.
    expect([o.landings, o.bounces, o.exits, o.exit_rate]).toEqual([5, 2, 5, 0.625]);
  });

  it("a limit of 1 keeps the top item of each list", async () => {
    const o = await lp.call<Pages>(ROLE, "get_page_analytics", { url: "/fxp/*", range: RANGE, limit: 1 });
    expect(o.pages).toEqual([{ path: "/fxp/page", views: 6 }]);
    expect(o.referrers.length).toBe(1);
    expect(o.utm_sources.length).toBe(1);
  });

  it("a session that started days before the range still gives its referrer and source; its view is not a landing", async () => {
    const o = await lp.call<Pages>(ROLE, "get_page_analytics", { url: "/fxp-old/*", range: RANGE });
    expect([o.views, o.sessions, o.landings, o.exits]).toEqual([1, 1, 0, 1]);
    expect(o.referrers).toEqual([{ host: "old.fx-ref.test", sessions: 1 }]);
    expect(o.utm_sources).toEqual([{ source: "oldmail", sessions: 1 }]);
  });

  it("organization B sees only its own view", async () => {
    const o = await lp.call<Pages>(ROLE, "get_page_analytics", { url: "/fxp/page", range: RANGE }, ORG_B);
    expect([o.views, o.unique_visitors, o.landings, o.bounces, o.exits]).toEqual([1, 1, 1, 1, 1]);
    expect(o.referrers).toEqual([{ host: "bing.com", sessions: 1 }]);
  });

  it("no matching views: zeros and n/a", async () => {
    const o = await lp.call<Pages>(ROLE, "get_page_analytics", { url: "/fxp/none", range: RANGE });
    expect([o.views, o.landings, o.bounce_rate, o.exit_rate, o.time_on_page.median_seconds]).toEqual([0, 0, null, null, null]);
    expect(o.scroll_depth.every((b) => b.views === 0 && b.share === null)).toBe(true);
  });

  it("the fixtures also equal the reference", async () => {
    await compare(ORG_A, "/fxp/*", RANGE);
    await compare(ORG_B, "/fxp/page", RANGE);
  });
});

describe("get_page_analytics equals the reference on the seeded data", () => {
  const PATTERNS = ["/pricing", "/", "/products/*", "/blog/*", "/checkout*", "https://any.host/signup/"];
  for (const org of [ORG_A, ORG_B])
    it(`${org.slug}: ${PATTERNS.length} patterns over 30d, 90d and 1y`, async () => {
      for (const url of PATTERNS) for (const preset of ["30d", "90d", "1y"]) await compare(org, url, { preset });
    });

  it("short lists keep the most viewed paths, referrers and sources", async () => {
    const o = await compare(ORG_A, "/products/*", { preset: "1y" }, 3);
    expect(o.pages.length).toBe(3);
    expect(o.paths_total).toBeGreaterThan(3);
    expect(o.views).toBeGreaterThan(100);
    expect(o.bounces).toBeGreaterThan(0);
  });

  it("bad input is refused", async () => {
    const r = await lp.callRaw(ROLE, "get_page_analytics", { url: "pricing" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/not a URL path pattern/);
    expect((await lp.callRaw(ROLE, "get_page_analytics", { url: "/x", limit: 21 })).isError).toBe(true);
  });
});
