// The funnel step syntax and the plain reference funnel, on hand-worked examples: every expected
// number below is worked out by hand in the comment beside it, not taken from the code.
import { describe, expect, it } from "vitest";
import { FUNNEL_SYNTAX, FunnelStep, FunnelSteps, matchesStep, stepLabel, type FunnelStepInput } from "../src/funnel/steps.ts";
import { referenceFunnel, median, nearestRank, type FunnelRow } from "./reference-funnel.ts";

const T0 = Date.parse("2026-01-05T10:00:00.000Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

interface Extra {
  session?: string;
  type?: string;
  device?: string | null;
  country?: string | null;
  source?: string | null;
  is_new?: boolean;
}
/** A touchpoint of `visitor` at T0 + `ms` (type PAGEVIEW, session `<visitor>-s1` unless given). */
function tp(visitor: string, ms: number, url: string, x: Extra = {}): FunnelRow {
  return {
    visitor_id: visitor,
    session_id: x.session ?? `${visitor}-s1`,
    type: x.type ?? "PAGEVIEW",
    url: url.startsWith("/") ? `https://shop.example.ng${url}` : url,
    occurred_at: new Date(T0 + ms),
    device: x.device === undefined ? "DESKTOP" : x.device,
    country: x.country === undefined ? "NG" : x.country,
    source: x.source === undefined ? "google" : x.source,
    is_new: x.is_new ?? true,
  };
}
const steps = (...s: FunnelStepInput[]) => FunnelSteps.parse(s);
const entered = (r: ReturnType<typeof referenceFunnel>) => r.steps.map((s) => s.entered);

describe("funnel steps: syntax and refusals", () => {
  it("a step with neither type nor url is refused, naming the step", () => {
    const named = FunnelStep.safeParse({ name: "Pricing" });
    expect(named.success).toBe(false);
    expect(named.error!.issues[0]!.message).toMatch(/step "Pricing" has neither a type nor a url/);
    const inList = FunnelSteps.safeParse([{ url: "/pricing" }, {}]);
    expect(inList.success).toBe(false);
    expect(inList.error!.issues[0]!.path).toEqual([1]);
    expect(inList.error!.issues[0]!.message).toMatch(/a step has neither a type nor a url/);
  });
  it("1 or 9 steps are refused; 2 and 8 are accepted", () => {
    const one = FunnelSteps.safeParse([{ type: "PAGEVIEW" }]);
    expect(one.success).toBe(false);
    expect(one.error!.issues[0]!.message).toBe("a funnel needs at least 2 steps");
    const nine = FunnelSteps.safeParse(Array.from({ length: 9 }, () => ({ type: "CLICK" })));
    expect(nine.success).toBe(false);
    expect(nine.error!.issues[0]!.message).toBe("a funnel has at most 8 steps");
    expect(FunnelSteps.safeParse([{ type: "PAGEVIEW" }, { url: "/x" }]).success).toBe(true);
    expect(FunnelSteps.safeParse(Array.from({ length: 8 }, () => ({ type: "CLICK" }))).success).toBe(true);
  });
  it("unknown keys, unknown types and patterns that are not paths are refused", () => {
    expect(FunnelStep.safeParse({ type: "PAGEVIEW", regex: ".*" }).success).toBe(false);
    expect(FunnelStep.safeParse({ type: "pageview" }).success).toBe(false);
    const bare = FunnelStep.safeParse({ url: "pricing" });
    expect(bare.success).toBe(false);
    expect(bare.error!.issues[0]!.path).toEqual(["url"]);
    expect(FunnelStep.safeParse({ url: "https://shop.example.ng/pricing" }).success).toBe(true);
  });
  it("matchesStep: type and url must both hold when both are given", () => {
    const pricingView = { type: "PAGEVIEW" as const, url: "/pricing" };
    expect(matchesStep(pricingView, { type: "PAGEVIEW", url: "https://a.test/pricing/?utm_source=x" })).toBe(true);
    expect(matchesStep(pricingView, { type: "CLICK", url: "https://a.test/pricing" })).toBe(false);
    expect(matchesStep(pricingView, { type: "PAGEVIEW", url: "https://a.test/pricing-old" })).toBe(false);
    expect(matchesStep({ type: "CLICK" }, { type: "CLICK", url: "https://a.test/anything" })).toBe(true);
    expect(matchesStep({ url: "/blog/*" }, { type: "FORM_VIEW", url: "https://a.test/blog/2026/x" })).toBe(true);
  });
  it("labels and the syntax paragraph", () => {
    expect(stepLabel({ type: "PAGEVIEW", url: "/pricing" })).toBe("PAGEVIEW /pricing");
    expect(stepLabel({ name: "Signed up", type: "FORM_SUBMIT" })).toBe("Signed up");
    for (const word of ["`*`", "strictly later", "window", "unit", "first match"]) expect(FUNNEL_SYNTAX).toContain(word);
  });
});

describe("referenceFunnel: hand-worked examples", () => {
  it("a step done before its predecessor does not count", () => {
    const s = steps({ type: "PAGEVIEW", url: "/pricing" }, { type: "FORM_SUBMIT", url: "/signup" });
    const rows = [
      // a: submits first (0), then views pricing (5 min) → step 1 at 5 min, no submit after → reaches 1
      tp("a", 0, "/signup", { type: "FORM_SUBMIT" }),
      tp("a", 5 * MIN, "/pricing"),
      // b: pricing at 0, submit at 10 min → reaches 2, 10 min to next
      tp("b", 0, "/pricing"),
      tp("b", 10 * MIN, "/signup", { type: "FORM_SUBMIT" }),
      // c: only submits → reaches 0
      tp("c", 0, "/signup", { type: "FORM_SUBMIT" }),
    ];
    const r = referenceFunnel(rows, s);
    // entered [a, b] = 2, [b] = 1; step conversion 1/2; overall 2/2, 1/2; drop-off 2 − 1 = 1
    expect(r.steps[0]).toEqual({
      index: 1, name: "PAGEVIEW /pricing", entered: 2, converted: 1, step_conversion: 0.5, overall_conversion: 1,
      drop_off: 1, median_ms_to_next: 10 * MIN, p90_ms_to_next: 10 * MIN,
    });
    expect(r.steps[1]).toEqual({
      index: 2, name: "FORM_SUBMIT /signup", entered: 1, converted: null, step_conversion: null, overall_conversion: 0.5,
      drop_off: null, median_ms_to_next: null, p90_ms_to_next: null,
    });
    expect(r.units.map((u) => [u.unit, u.reached_at.length])).toEqual([["a", 1], ["b", 2], ["c", 0]]);
  });

  it("the same instant does not progress: strictly after", () => {
    // both touchpoints at 0: step 2 would need a time > 0 → reaches 1
    const r = referenceFunnel([tp("a", 0, "/pricing"), tp("a", 0, "/checkout")], steps({ url: "/pricing" }, { url: "/checkout" }));
    expect(entered(r)).toEqual([1, 0]);
  });

  it("the window edge: exactly windowMs counts, 1 ms later does not; converted up to the last in-window step", () => {
    const s = steps({ url: "/a" }, { url: "/b" }, { url: "/c" });
    const rows = [
      // v1: /a 0, /b at exactly 1 h → in; /c at 1 h + 1 ms → out: reaches 2
      tp("v1", 0, "/a"), tp("v1", HOUR, "/b"), tp("v1", HOUR + 1, "/c"),
      // v2: /a 0, /b at 1 h + 1 ms → out: reaches 1 (the /c after it does not matter)
      tp("v2", 0, "/a"), tp("v2", HOUR + 1, "/b"), tp("v2", HOUR + 2, "/c"),
      // v3: /a 0, /b 30 min, /c exactly 1 h → reaches 3
      tp("v3", 0, "/a"), tp("v3", 30 * MIN, "/b"), tp("v3", HOUR, "/c"),
    ];
    const r = referenceFunnel(rows, s, { windowMs: HOUR });
    // entered: /a 3, /b {v1, v3} 2, /c {v3} 1
    expect(entered(r)).toEqual([3, 2, 1]);
    // /a→/b gaps: v1 60 min, v3 30 min → median 45 min; p90 rank ⌈1.8⌉ = 2 → 60 min
    expect(r.steps[0]!.median_ms_to_next).toBe(45 * MIN);
    expect(r.steps[0]!.p90_ms_to_next).toBe(60 * MIN);
    // /b→/c: only v3, 30 min
    expect(r.steps[1]!.median_ms_to_next).toBe(30 * MIN);
    // the default window is 7 days: v2 and v1's /c are then in → [3, 3, 3]
    expect(entered(referenceFunnel(rows, s))).toEqual([3, 3, 3]);
    // 7 days exactly counts, 7 days + 1 ms does not
    const week = [tp("w1", 0, "/a"), tp("w1", 7 * DAY, "/b"), tp("w2", 0, "/a"), tp("w2", 7 * DAY + 1, "/b")];
    expect(entered(referenceFunnel(week, steps({ url: "/a" }, { url: "/b" })))).toEqual([2, 1]);
  });

  it("per visitor and per session differ on a visitor who converts across two sessions", () => {
    const s = steps({ url: "/pricing" }, { url: "/checkout" });
    const rows = [
      // visitor v: session s1 views pricing at 0; session s2, two days later, checks out
      tp("v", 0, "/pricing", { session: "s1" }),
      tp("v", 2 * DAY, "/checkout", { session: "s2" }),
      // visitor w converts within one session s3 (5 min)
      tp("w", 0, "/pricing", { session: "s3" }),
      tp("w", 5 * MIN, "/checkout", { session: "s3" }),
    ];
    // per visitor: v and w enter, both convert → [2, 2]; gaps 2 days and 5 min → median (2 d + 5 min) / 2
    const perVisitor = referenceFunnel(rows, s);
    expect(entered(perVisitor)).toEqual([2, 2]);
    expect(perVisitor.steps[0]!.median_ms_to_next).toBe((2 * DAY + 5 * MIN) / 2);
    // per session: s1 enters, does not convert; s2 has no pricing view → never enters; s3 converts → [2, 1]
    const perSession = referenceFunnel(rows, s, { unit: "session" });
    expect(entered(perSession)).toEqual([2, 1]);
    expect(perSession.steps[0]!.step_conversion).toBe(0.5);
    expect(perSession.units.map((u) => [u.unit, u.reached_at.length])).toEqual([["s1", 1], ["s2", 0], ["s3", 2]]);
  });

  it("repeated steps: the same step twice in a funnel, and a step repeated by a visitor", () => {
    const twice = steps({ url: "/pricing" }, { url: "/pricing" }, { url: "/checkout" });
    const rows = [
      // a: pricing 0, pricing 5, checkout 10 → reaches 3
      tp("a", 0, "/pricing"), tp("a", 5 * MIN, "/pricing"), tp("a", 10 * MIN, "/checkout"),
      // b: one pricing view cannot be both step 1 and step 2 → reaches 1
      tp("b", 0, "/pricing"), tp("b", 5 * MIN, "/checkout"),
      // c: pricing 0, checkout 5 (before the second pricing view: does not count), pricing 10 → reaches 2
      tp("c", 0, "/pricing"), tp("c", 5 * MIN, "/checkout"), tp("c", 10 * MIN, "/pricing"),
    ];
    const r = referenceFunnel(rows, twice);
    expect(entered(r)).toEqual([3, 2, 1]);
    // step 1→2 gaps: a 5 min, c 10 min → median 7.5 min; step 2→3: a 5 min
    expect(r.steps[0]!.median_ms_to_next).toBe(7.5 * MIN);
    expect(r.steps[1]!.median_ms_to_next).toBe(5 * MIN);

    // a visitor views pricing three times then checks out: step 1 is the first view, 90 min before checkout
    const s = steps({ url: "/pricing" }, { url: "/checkout" });
    const many = [tp("v", 0, "/pricing"), tp("v", 30 * MIN, "/pricing"), tp("v", 60 * MIN, "/pricing"), tp("v", 90 * MIN, "/checkout")];
    expect(referenceFunnel(many, s).steps[0]!.median_ms_to_next).toBe(90 * MIN);
    // the anchor is the first step-1 view: with a 1 h window, pricing 0, pricing 2 h, checkout 2 h 30 → reaches 1 only
    const late = [tp("v", 0, "/pricing"), tp("v", 2 * HOUR, "/pricing"), tp("v", 2.5 * HOUR, "/checkout")];
    expect(entered(referenceFunnel(late, s, { windowMs: HOUR }))).toEqual([1, 0]);
  });

  it("a URL pattern with *", () => {
    const s = steps({ url: "/products/*" }, { url: "/products/*/reviews" });
    const rows = [
      // p1: product page then its reviews → 2
      tp("p1", 0, "/products/abc"), tp("p1", MIN, "/products/abc/reviews"),
      // p2: reviews only: that touchpoint is step 1 (/products/* covers it) and nothing follows → 1
      tp("p2", 0, "/products/x/reviews"),
      // p3: /product/abc (no s) matches neither → 0
      tp("p3", 0, "/product/abc"),
      // p4: "/reviews" in the query does not match step 2; the later /reviews#top does → 2
      tp("p4", 0, "/products/abc?ref=/reviews"), tp("p4", MIN, "/products/abc?ref=/reviews"), tp("p4", 2 * MIN, "/products/abc/reviews#top"),
    ];
    const r = referenceFunnel(rows, s);
    // entered {p1, p2, p4} = 3, converted {p1, p4} = 2; gaps 1 min and 2 min → median 1.5 min, p90 rank 2 → 2 min
    expect(entered(r)).toEqual([3, 2]);
    expect(r.steps[0]!.median_ms_to_next).toBe(1.5 * MIN);
    expect(r.steps[0]!.p90_ms_to_next).toBe(2 * MIN);
  });

  it("type-only and url-only steps", () => {
    const s = steps({ type: "FORM_START" }, { url: "/thank-you" });
    const rows = [
      // t1: starts a form on /contact, then views /thank-you → 2
      tp("t1", 0, "/contact", { type: "FORM_START" }), tp("t1", MIN, "/thank-you"),
      // t2: clicks on /thank-you before starting the form → 1
      tp("t2", 0, "/thank-you", { type: "CLICK" }), tp("t2", MIN, "/contact", { type: "FORM_START" }),
      // t3: form start, then a CONVERSION on /thank-you?o=1 (url-only: any type) → 2
      tp("t3", 0, "/signup", { type: "FORM_START" }), tp("t3", 2 * MIN, "/thank-you?o=1", { type: "CONVERSION" }),
      // t4: only page views → 0
      tp("t4", 0, "/contact"), tp("t4", MIN, "/thank-you"),
    ];
    const r = referenceFunnel(rows, s);
    expect(entered(r)).toEqual([3, 2]);
    expect(r.steps[0]!.drop_off).toBe(1);
    expect(r.steps[0]!.step_conversion).toBe(2 / 3);
  });

  it("breakdown by device: the value at the step-1 touchpoint; units never entering are in no group", () => {
    const s = steps({ url: "/pricing" }, { type: "CONVERSION" });
    const rows = [
      // m1 MOBILE converts; m2 MOBILE enters only
      tp("m1", 0, "/pricing", { device: "MOBILE" }), tp("m1", MIN, "/done", { type: "CONVERSION", device: "MOBILE" }),
      tp("m2", 0, "/pricing", { device: "MOBILE" }),
      // d1 DESKTOP converts after 3 min
      tp("d1", 0, "/pricing"), tp("d1", 3 * MIN, "/done", { type: "CONVERSION" }),
      // n1 without a device enters only
      tp("n1", 0, "/pricing", { device: null }),
      // t1 TABLET never views pricing → no group
      tp("t1", 0, "/home", { device: "TABLET" }),
      // x: a DESKTOP session without pricing, then pricing on MOBILE (a new session) → group MOBILE, enters only
      tp("x", 0, "/home", { session: "x-s1" }), tp("x", DAY, "/pricing", { session: "x-s2", device: "MOBILE" }),
    ];
    const r = referenceFunnel(rows, s, { breakdown: "device" });
    // overall: entered {m1, m2, d1, n1, x} = 5, converted {m1, d1} = 2
    expect(entered(r)).toEqual([5, 2]);
    // DESKTOP {d1}: 1 → 1, 3 min; MOBILE {m1, m2, x}: 3 → 1, 1 min; null {n1}: 1 → 0
    expect(r.breakdown!.map((g) => [g.value, ...g.steps.map((st) => st.entered)])).toEqual([
      ["DESKTOP", 1, 1],
      ["MOBILE", 3, 1],
      [null, 1, 0],
    ]);
    expect(r.breakdown![0]!.steps[0]!.median_ms_to_next).toBe(3 * MIN);
    expect(r.breakdown![1]!.steps[0]!.step_conversion).toBe(1 / 3);
    expect(r.breakdown![2]!.steps[0]!.median_ms_to_next).toBeNull();
    // new vs returning on the same rows: is_new is true everywhere but x's MOBILE session made returning
    const rows2 = rows.map((row) => (row.session_id === "x-s2" ? { ...row, is_new: false } : row));
    const nr = referenceFunnel(rows2, s, { breakdown: "new_vs_returning" });
    // new {m1, m2, d1, n1}: 4 → 2; returning {x}: 1 → 0
    expect(nr.breakdown!.map((g) => [g.value, ...g.steps.map((st) => st.entered)])).toEqual([["new", 4, 2], ["returning", 1, 0]]);
  });

  it("median and p90 (nearest rank) on a small set", () => {
    const s = steps({ url: "/a" }, { url: "/b" });
    const gapsOf = (gaps: number[]) => gaps.flatMap((g, i) => [tp(`u${i}`, 0, "/a"), tp(`u${i}`, g * MIN, "/b")]);
    // gaps 1, 2, 3, 4, 10 min: median 3; p90 rank ⌈4.5⌉ = 5 → 10
    const odd = referenceFunnel(gapsOf([4, 1, 10, 3, 2]), s).steps[0]!;
    expect([odd.median_ms_to_next, odd.p90_ms_to_next]).toEqual([3 * MIN, 10 * MIN]);
    // gaps 1, 2, 3, 10: median (2 + 3) / 2 = 2.5; p90 rank ⌈3.6⌉ = 4 → 10
    const even = referenceFunnel(gapsOf([10, 2, 3, 1]), s).steps[0]!;
    expect([even.median_ms_to_next, even.p90_ms_to_next]).toEqual([2.5 * MIN, 10 * MIN]);
    // 1..10 min: p90 rank ⌈9⌉ = 9 → 9 min (interpolation would give 9.1)
    expect(referenceFunnel(gapsOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), s).steps[0]!.p90_ms_to_next).toBe(9 * MIN);
    // a single value is its own median and p90
    expect([median([7]), nearestRank([7], 0.9)]).toEqual([7, 7]);
    expect([median([]), nearestRank([], 0.9)]).toEqual([null, null]);
  });

  it("8 steps", () => {
    const urls = ["/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8"];
    const s = steps(...urls.map((url) => ({ url })));
    // e1 does all 8 a minute apart; e2 the first 4; e3 steps 2..8 but never 1 → 0
    const rows = [
      ...urls.map((u, i) => tp("e1", i * MIN, u)),
      ...urls.slice(0, 4).map((u, i) => tp("e2", i * MIN, u)),
      ...urls.slice(1).map((u, i) => tp("e3", i * MIN, u)),
    ];
    const r = referenceFunnel(rows, s);
    expect(entered(r)).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
    // step 4: 2 → 1, 1/2; step 8 overall 1/2, last step has no next
    expect(r.steps[3]).toMatchObject({ converted: 1, step_conversion: 0.5, drop_off: 1, median_ms_to_next: MIN });
    expect(r.steps[7]).toMatchObject({ index: 8, entered: 1, overall_conversion: 0.5, converted: null, drop_off: null, p90_ms_to_next: null });
  });

  it("no rows: nothing entered, rates null", () => {
    const r = referenceFunnel([], steps({ url: "/a" }, { url: "/b" }));
    expect(r.steps[0]).toMatchObject({ entered: 0, converted: 0, step_conversion: null, overall_conversion: null, drop_off: 0 });
    expect(r.units).toEqual([]);
  });
});
