// get_conversion_funnel against the plain TypeScript reference (reference-funnel.ts) over the rows
// read from this file's seeded database (both organizations; type-only, URL-only and combined
// steps, `*` patterns, per visitor and per session, every breakdown, windows of 1, 7 and 30 days),
// and on fixtures written here whose answers are worked out by hand in the comments.
import { beforeAll, describe, expect, it } from "vitest";
import { roundRate } from "@marketsage/domain";
import { FunnelSteps, matchesStep, type FunnelStepInput } from "../src/funnel/steps.ts";
import { getConversionFunnel } from "../src/tools/get-conversion-funnel.ts";
import { referenceFunnel, type FunnelBreakdown, type FunnelRow, type FunnelUnit, type ReferenceStep } from "./reference-funnel.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([getConversionFunnel]);
const ROLE = "SUPER_ADMIN";
const MIN = 60_000, HOUR = 60 * MIN, DAY = 24 * HOUR;

// ---------- rows for the reference: every touchpoint of a non-bot visitor, with its session's values ----------
async function rowsOf(orgId: string): Promise<FunnelRow[]> {
  // is_new: the session is the visitor's first by (started_at, id) — a window here, not the tool's NOT EXISTS.
  const rows = await lp.q(
    `with s as (select s.*, row_number() over (partition by s.visitor_id order by s.started_at, s.id) as nth from visitor_sessions s where s.organization_id = $1)
     select t.visitor_id::text, t.session_id::text, t.type::text as type, t.url, t.occurred_at, s.device::text as device, trim(s.country) as country,
            case when s.id is not null then marketsage_session_source(s.utm_source, s.referrer) end as source, coalesce(s.nth = 1, false) as is_new
       from touchpoints t join visitors v on v.id = t.visitor_id left join s on s.id = t.session_id
      where t.organization_id = $1 and v.organization_id = $1 and v.is_bot = false
      order by t.occurred_at, t.id`,
    [orgId],
  );
  return rows.map((r) => ({ ...r, occurred_at: new Date(r.occurred_at) }));
}

/**
 * The tool's range on the reference: a unit enters at its first step-1 touchpoint in [from, to);
 * later steps may come up to the window after it. Rows before `from` are dropped and units whose
 * first step-1 touchpoint from `from` on is at or after `to` (or missing) are dropped whole.
 */
function inRange(rows: readonly FunnelRow[], steps: readonly FunnelStepInput[], from: Date, to: Date, windowMs: number, unit: FunnelUnit): FunnelRow[] {
  const kept = rows.filter((r) => r.occurred_at >= from && r.occurred_at.getTime() <= to.getTime() + windowMs);
  const key = (r: FunnelRow) => (unit === "visitor" ? r.visitor_id : r.session_id);
  const firstStep1 = new Map<string, number>();
  for (const r of kept) if (matchesStep(steps[0]!, r) && !firstStep1.has(key(r))) firstStep1.set(key(r), r.occurred_at.getTime());
  return kept.filter((r) => (firstStep1.get(key(r)) ?? Infinity) < to.getTime());
}

interface ToolStep {
  index: number;
  name: string;
  entered: number;
  converted: number | null;
  step_conversion: number | null;
  overall_conversion: number | null;
  drop_off: number | null;
  median_seconds_to_next: number | null;
  p90_seconds_to_next: number | null;
}
interface ToolFunnel {
  range: { from: string; to: string };
  steps: ToolStep[];
  totals: { entered: number; completed: number; conversion: number | null };
  groups: Array<{ value: string | null; other: boolean; values: number; steps: ToolStep[] }> | null;
  groups_total: number | null;
}

function expectSteps(got: ToolStep[], want: ReferenceStep[], what: string) {
  expect(got.length, what).toBe(want.length);
  for (const [k, w] of want.entries()) {
    const g = got[k]!;
    const at = `${what} step ${k + 1}`;
    expect(g.index, at).toBe(w.index);
    expect(g.name, at).toBe(w.name);
    expect(g.entered, at).toBe(w.entered);
    expect(g.converted, at).toBe(w.converted);
    expect(g.drop_off, at).toBe(w.drop_off);
    expect(g.step_conversion, at).toBe(roundRate(w.step_conversion));
    expect(g.overall_conversion, at).toBe(roundRate(w.overall_conversion));
    for (const [key, ref] of [["median_seconds_to_next", w.median_ms_to_next], ["p90_seconds_to_next", w.p90_ms_to_next]] as const) {
      if (ref === null) expect(g[key], `${at} ${key}`).toBeNull();
      else expect(g[key], `${at} ${key}`).toBeCloseTo(ref / 1000, 4);
    }
  }
}

const rowsByOrg = new Map<string, FunnelRow[]>();

interface Case {
  steps: FunnelStepInput[];
  range?: { preset: string } | { from: string; to: string };
  window_days?: number;
  unit?: FunnelUnit;
  breakdown?: FunnelBreakdown;
}

/** The tool and the reference on the same question; returns the tool's answer. */
async function compare(org: typeof ORG_A, c: Case, maxGroups = 20): Promise<ToolFunnel> {
  const args: Record<string, unknown> = { steps: c.steps, max_groups: maxGroups };
  for (const k of ["range", "window_days", "unit", "breakdown"] as const) if (c[k] !== undefined) args[k] = c[k];
  const got = await lp.call<ToolFunnel>(ROLE, "get_conversion_funnel", args, org);
  const windowMs = (c.window_days ?? 7) * DAY;
  const unit = c.unit ?? "visitor";
  const steps = FunnelSteps.parse(c.steps);
  const rows = inRange(rowsByOrg.get(org.id)!, steps, new Date(got.range.from), new Date(got.range.to), windowMs, unit);
  const ref = referenceFunnel(rows, steps, { windowMs, unit, ...(c.breakdown ? { breakdown: c.breakdown } : {}) });
  const what = `${org.slug} ${JSON.stringify(c)}`;
  expectSteps(got.steps, ref.steps, what);
  expect(got.totals.entered).toBe(ref.steps[0]!.entered);
  expect(got.totals.completed).toBe(ref.steps.at(-1)!.entered);
  if (c.breakdown) {
    expect(got.groups, what).not.toBeNull();
    const refGroups = ref.breakdown!;
    expect(got.groups_total, what).toBe(refGroups.length);
    if (refGroups.length <= maxGroups) {
      expect(got.groups!.map((g) => g.value).sort(), what).toEqual(refGroups.map((g) => g.value).sort());
      for (const g of got.groups!) {
        expect(g.other).toBe(false);
        expect(g.values).toBe(1);
        expectSteps(g.steps, refGroups.find((r) => r.value === g.value)!.steps, `${what} group ${g.value}`);
      }
    }
  } else {
    expect(got.groups).toBeNull();
  }
  return got;
}

// ---------- fixtures (organization A unless said), URLs /fx/a, /fx/b, /fx/c that the seed never uses ----------
const F = Date.parse("2026-11-01T00:00:00.000Z");
const TO = Date.parse("2026-11-10T00:00:00.000Z");
const T = Date.parse("2026-11-02T10:00:00.000Z");
const FX_RANGE = { from: new Date(F).toISOString(), to: new Date(TO).toISOString() };
const FX_STEPS = [{ url: "/fx/a" }, { url: "/fx/b" }, { url: "/fx/c" }];
const uuid = (n: number) => `f0000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

interface FxVisitor {
  n: number;
  org?: string;
  bot?: boolean;
  device?: string;
  /** [url path, ms, session number (default 1)] */
  tps: Array<[string, number, number?]>;
}
const FIXTURES: FxVisitor[] = [
  // v1: a, b, c an hour apart then two: complete; gaps 3600 s and 7200 s. Its c is in a second session.
  { n: 1, device: "MOBILE", tps: [["/fx/a", T], ["/fx/b", T + HOUR], ["/fx/c", T + 3 * HOUR, 2]] },
  // v2: b an hour BEFORE a: the b does not count, step 1 only.
  { n: 2, tps: [["/fx/b", T - HOUR], ["/fx/a", T]] },
  // v3: a and b at the same instant: step 1 only.
  { n: 3, tps: [["/fx/a", T], ["/fx/b", T]] },
  // v4: b exactly 7 days after a: step 2 with a 7-day window (gap 604800 s), not with a 1-day one.
  { n: 4, tps: [["/fx/a", T], ["/fx/b", T + 7 * DAY]] },
  // v5: b 7 days and 1 ms after a: step 1 only.
  { n: 5, tps: [["/fx/a", T], ["/fx/b", T + 7 * DAY + 1]] },
  // v6: an a before the range (session 1), then a and b inside it (session 2): anchored at the
  // in-range a, gap 3600 s (not 10800 s from the earlier a); a returning visitor at step 1.
  { n: 6, tps: [["/fx/a", F - HOUR], ["/fx/a", F + HOUR, 2], ["/fx/b", F + 2 * HOUR, 2]] },
  // v7: a a minute before the range's end, b an hour after it: step 2 counts (gap 3660 s).
  { n: 7, tps: [["/fx/a", TO - MIN], ["/fx/b", TO + HOUR]] },
  // v8: a exactly at the range's end (exclusive): not in the funnel.
  { n: 8, tps: [["/fx/a", TO], ["/fx/b", TO + MIN]] },
  // v9: a bot doing everything: never counted.
  { n: 9, bot: true, tps: [["/fx/a", T], ["/fx/b", T + MIN], ["/fx/c", T + 2 * MIN]] },
  // v10: organization B doing everything: never in A's answer; B's only unit.
  { n: 10, org: ORG_B.id, tps: [["/fx/a", T], ["/fx/b", T + MIN], ["/fx/c", T + 2 * MIN]] },
  // v11: a then c without b: step 1 only.
  { n: 11, tps: [["/fx/a", T], ["/fx/c", T + HOUR]] },
  // v12: a, b, b, then c between the two b's: greedy takes the first b (gap 3600 s), c at +90 min (gap 1800 s).
  { n: 12, tps: [["/fx/a", T], ["/fx/b", T + HOUR], ["/fx/b", T + 2 * HOUR], ["/fx/c", T + 90 * MIN]] },
];

async function insertFixtures() {
  let [{ next }] = await lp.q(`select coalesce(max(id), 0) + 1 as next from touchpoints`);
  next = Number(next);
  for (const v of FIXTURES) {
    const org = v.org ?? ORG_A.id;
    const vid = uuid(v.n);
    const first = Math.min(...v.tps.map((t) => t[1]));
    await lp.q(
      `insert into visitors (id, organization_id, fingerprint, device, country, first_seen_at, last_seen_at, is_bot) values ($1, $2, $3, $4, 'NG', $5, $5, $6)`,
      [vid, org, `fx-${v.n}`, v.device ?? "DESKTOP", new Date(first), v.bot ?? false],
    );
    const sessions = new Map<number, number>();
    for (const [, ms, s = 1] of v.tps) sessions.set(s, Math.min(sessions.get(s) ?? Infinity, ms));
    for (const [s, start] of sessions)
      await lp.q(
        `insert into visitor_sessions (id, organization_id, visitor_id, started_at, device, country, referrer) values ($1, $2, $3, $4, $5, 'NG', 'https://www.fx-ref.test/x')`,
        [uuid(v.n * 100 + s), org, vid, new Date(start), v.device ?? "DESKTOP"],
      );
    for (const [path, ms, s = 1] of v.tps)
      await lp.q(
        `insert into touchpoints (id, organization_id, visitor_id, session_id, type, url, occurred_at) values ($1, $2, $3, $4, 'PAGEVIEW', $5, $6)`,
        [next++, org, vid, uuid(v.n * 100 + s), `https://shop.test${path}?utm=x`, new Date(ms)],
      );
  }
}

beforeAll(async () => {
  await insertFixtures();
  for (const org of [ORG_A, ORG_B]) rowsByOrg.set(org.id, await rowsOf(org.id));
});

describe("get_conversion_funnel on hand-made fixtures", () => {
  const fx = (args: Record<string, unknown>, org = ORG_A) => lp.call<ToolFunnel>(ROLE, "get_conversion_funnel", { steps: FX_STEPS, range: FX_RANGE, ...args }, org);

  it("order, same instant, window end, range end, bots and another organization: counts and times by hand", async () => {
    const o = await fx({});
    // Step 1: v1 v2 v3 v4 v5 v6 v7 v11 v12 = 9 (v8 at the range's end, v9 a bot, v10 in B).
    // Step 2: v1 v4 v6 v7 v12 = 5. Step 3: v1 v12 = 2.
    expect(o.steps.map((s) => s.entered)).toEqual([9, 5, 2]);
    expect(o.steps.map((s) => s.converted)).toEqual([5, 2, null]);
    expect(o.steps.map((s) => s.drop_off)).toEqual([4, 3, null]);
    expect(o.steps.map((s) => s.step_conversion)).toEqual([0.5556, 0.4, null]);
    expect(o.steps.map((s) => s.overall_conversion)).toEqual([1, 0.5556, 0.2222]);
    // 1→2 gaps 3600, 3600, 3600, 3660, 604800: median 3600, p90 = 5th of 5 = 604800.
    // 2→3 gaps 1800, 7200: median 4500, p90 = 2nd of 2 = 7200.
    expect(o.steps.map((s) => s.median_seconds_to_next)).toEqual([3600, 4500, null]);
    expect(o.steps.map((s) => s.p90_seconds_to_next)).toEqual([604800, 7200, null]);
    expect(o.totals).toEqual({ entered: 9, completed: 2, conversion: 0.2222 });
    expect(textOf(await lp.callRaw(ROLE, "get_conversion_funnel", { steps: FX_STEPS, range: FX_RANGE }))).toContain("9 entered");
  });

  it("a 1-day window drops v4's b at exactly 7 days", async () => {
    const o = await fx({ window_days: 1 });
    expect(o.steps.map((s) => s.entered)).toEqual([9, 4, 2]);
    // gaps 3600, 3600, 3600, 3660: median 3600, p90 = 4th of 4 = 3660.
    expect(o.steps[0]!.median_seconds_to_next).toBe(3600);
    expect(o.steps[0]!.p90_seconds_to_next).toBe(3660);
  });

  it("per session: v1's c is in another session, v6's first a is in a session before the range", async () => {
    const o = await fx({ unit: "session" });
    // Sessions reaching a in range: v1s1 v2s1 v3s1 v4s1 v5s1 v6s2 v7s1 v11s1 v12s1 = 9; b: v1s1 v4s1 v6s2 v7s1 v12s1 = 5; c: v12s1 = 1.
    expect(o.steps.map((s) => s.entered)).toEqual([9, 5, 1]);
    expect(o.steps[1]!.median_seconds_to_next).toBe(1800);
  });

  it("breakdown new vs returning and device at step 1", async () => {
    const nvr = await fx({ breakdown: "new_vs_returning" });
    const g = (o: ToolFunnel, v: string) => o.groups!.find((x) => x.value === v)!.steps.map((s) => s.entered);
    // v6 reached a in its second session: returning (1 at step 1, 1 at step 2); the other eight are new.
    expect(g(nvr, "returning")).toEqual([1, 1, 0]);
    expect(g(nvr, "new")).toEqual([8, 4, 2]);
    expect(nvr.groups_total).toBe(2);
    const dev = await fx({ breakdown: "device" });
    expect(g(dev, "MOBILE")).toEqual([1, 1, 1]);
    expect(g(dev, "DESKTOP")).toEqual([8, 4, 1]);
    const src = await fx({ breakdown: "source" });
    expect(g(src, "fx-ref.test")).toEqual([9, 5, 2]);
  });

  it("organization B sees only its own visitor", async () => {
    const o = await fx({}, ORG_B);
    expect(o.steps.map((s) => s.entered)).toEqual([1, 1, 1]);
    expect(o.steps.map((s) => s.median_seconds_to_next)).toEqual([60, 60, null]);
  });

  it("an empty funnel says so with zeros and n/a", async () => {
    const o = await fx({ steps: [{ url: "/fx/nowhere" }, { url: "/fx/b" }] });
    expect(o.steps.map((s) => s.entered)).toEqual([0, 0]);
    expect(o.steps[0]!.step_conversion).toBeNull();
    expect(o.steps[0]!.median_seconds_to_next).toBeNull();
    expect(o.totals).toEqual({ entered: 0, completed: 0, conversion: null });
  });

  it("the fixtures' answers also equal the reference", async () => {
    await compare(ORG_A, { steps: FX_STEPS, range: FX_RANGE });
    await compare(ORG_A, { steps: FX_STEPS, range: FX_RANGE, unit: "session", window_days: 1, breakdown: "new_vs_returning" });
  });
});

describe("get_conversion_funnel equals the reference on the seeded data", () => {
  const TYPE_ONLY: FunnelStepInput[] = [{ type: "PAGEVIEW" }, { type: "FORM_START" }, { type: "FORM_SUBMIT" }];
  const URL_ONLY: FunnelStepInput[] = [{ url: "/" }, { url: "/products/*" }, { url: "/checkout" }];
  const BOTH: FunnelStepInput[] = [{ type: "PAGEVIEW", url: "/pricing" }, { type: "FORM_START" }, { type: "FORM_SUBMIT", url: "/signup" }, { type: "CONVERSION" }];
  const STARS: FunnelStepInput[] = [{ name: "Blog", url: "/blog/*" }, { name: "Any product", url: "https://shop.example/products/*" }, { name: "Checkout", type: "PAGEVIEW", url: "/checkout*" }];
  const LIST = [["type-only", TYPE_ONLY], ["url-only", URL_ONLY], ["both", BOTH], ["patterns", STARS]] as const;

  for (const org of [ORG_A, ORG_B])
    for (const [label, steps] of LIST)
      it(`${org.slug}: ${label}, windows 1/7/30 days, visitor and session, 1y and 30d`, async () => {
        for (const window_days of [1, 7, 30])
          for (const unit of ["visitor", "session"] as const) await compare(org, { steps, range: { preset: "1y" }, window_days, unit });
        await compare(org, { steps });
        await compare(org, { steps, range: { preset: "90d" }, unit: "session" });
      });

  for (const org of [ORG_A, ORG_B])
    it(`${org.slug}: every breakdown, per visitor and per session`, async () => {
      for (const breakdown of ["device", "country", "source", "new_vs_returning"] as const) {
        await compare(org, { steps: URL_ONLY, range: { preset: "1y" }, breakdown });
        await compare(org, { steps: TYPE_ONLY, range: { preset: "90d" }, breakdown, unit: "session", window_days: 1 });
      }
    });

  it("a real funnel has people in it (the comparisons above are not all zeros)", async () => {
    const o = await compare(ORG_A, { steps: URL_ONLY, range: { preset: "1y" }, window_days: 30 });
    expect(o.steps[0]!.entered).toBeGreaterThan(50);
    expect(o.steps[2]!.entered).toBeGreaterThan(5);
    expect(o.steps[0]!.median_seconds_to_next).toBeGreaterThan(0);
  });

  it("groups beyond max_groups are merged into other, which equals the reference over those units", async () => {
    const c: Case = { steps: URL_ONLY, range: { preset: "1y" }, breakdown: "source" };
    const all = await compare(ORG_A, c);
    expect(all.groups!.length).toBeGreaterThan(4);
    const capped = await lp.call<ToolFunnel>(ROLE, "get_conversion_funnel", { ...c, max_groups: 3 });
    expect(capped.groups!.length).toBe(4);
    const kept = capped.groups!.filter((g) => !g.other);
    const other = capped.groups!.find((g) => g.other)!;
    expect(kept.length).toBe(3);
    expect(other.value).toBeNull();
    expect(other.values).toBe(all.groups!.length - 3);
    // The kept groups have the most units at step 1.
    const minKept = Math.min(...kept.map((g) => g.steps[0]!.entered));
    for (const g of all.groups!) if (!kept.some((k) => k.value === g.value)) expect(g.steps[0]!.entered).toBeLessThanOrEqual(minKept);
    for (const g of kept) expect(g.steps).toEqual(all.groups!.find((a) => a.value === g.value)!.steps);
    // "other" = the reference over the rows of the units in the merged groups.
    const steps = FunnelSteps.parse(URL_ONLY);
    const rows = inRange(rowsByOrg.get(ORG_A.id)!, steps, new Date(all.range.from), new Date(all.range.to), 7 * DAY, "visitor");
    const ref = referenceFunnel(rows, steps, { breakdown: "source" });
    const merged = new Set(ref.units.filter((u) => u.reached_at.length > 0 && !kept.some((k) => k.value === (u.group ?? null))).map((u) => u.unit));
    const otherRef = referenceFunnel(rows.filter((r) => merged.has(r.visitor_id)), steps);
    expectSteps(other.steps, otherRef.steps, "other");
  });

  it("bad input is refused with a message naming the problem", async () => {
    const r = await lp.callRaw(ROLE, "get_conversion_funnel", { steps: [{ url: "/a" }, { name: "B" }] });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/step "B" has neither a type nor a url/);
    const w = await lp.callRaw(ROLE, "get_conversion_funnel", { steps: URL_ONLY, window_days: 91 });
    expect(w.isError).toBe(true);
    const p = await lp.callRaw(ROLE, "get_conversion_funnel", { steps: URL_ONLY, range: { preset: "7d", from: "2026-11-01T00:00:00Z" } });
    expect(p.isError).toBe(true);
    expect(textOf(p)).toMatch(/either a preset or from\/to/);
  });
});
