// compare_campaigns, get_top_performing_campaigns and get_ab_test_results against independent SQL
// (reference-sql.ts: counts per message with EXISTS, attribution by window function, FX row by row)
// and against the statistics functions — tested on their own in stats.test.ts against published
// values — applied to THOSE SQL counts, never to the tool's own tallies. Holm adjustments, the
// "best" baseline, the verdicts, the ranking and the winner rule are redone here by hand. Campaigns
// with counts known by hand are written into this file's own cloned database.
import { beforeAll, describe, expect, it } from "vitest";
import { roundMoney, roundRate } from "@marketsage/domain";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { normalCdf, probabilityToBeBest, sampleSizePerVariant, twoProportionTest, wilsonInterval } from "../src/stats/index.ts";
import { compareCampaigns } from "../src/tools/compare-campaigns.ts";
import { getAbTestResults } from "../src/tools/get-ab-test-results.ts";
import { getTopPerformingCampaigns } from "../src/tools/get-top-performing-campaigns.ts";
import {
  NOT_APPLICABLE,
  REF_RATES,
  refCampaignIds,
  refConversions,
  refCost,
  refMessageCounts,
  refRevenue,
  reportingCurrency,
  type Channel,
  type RefCounts,
  type RefRateKey,
} from "./reference-sql.ts";
import { ORG_A, ORG_B, textOf, useCampaignAnalytics } from "./setup.ts";

const ca = useCampaignAnalytics();
const q = ca.q;
// The role with the highest call rate limit: this file makes a few hundred calls in a minute.
const ROLE = "SUPER_ADMIN";
type Org = typeof ORG_A;

const NOW = Date.parse("2026-11-20T12:00:00.000Z");
const DAY = 86_400_000;
/** Written out here, not imported: "best" is the lowest rate for these. */
const LOWER_IS_BETTER = new Set<RefRateKey>(["unsubscribe_rate", "bounce_rate", "failure_rate"]);
const RATE_KEYS = Object.keys(REF_RATES) as RefRateKey[];

// ---------- reference figures ----------
interface Binomial { successes: number; trials: number }

// The database does not change after the fixtures are written, so each reference figure is computed once.
const refCache = new Map<string, Promise<unknown>>();
function cached<T>(key: string, f: () => Promise<T>): Promise<T> {
  if (!refCache.has(key)) refCache.set(key, f());
  return refCache.get(key) as Promise<T>;
}

function refCounts(orgId: string, campaignId: string, attributionDays = 7, variantId?: string): Promise<RefCounts> {
  const s = { orgId, campaignId, attributionDays, ...(variantId ? { variantId } : {}) };
  return cached(`counts ${orgId} ${campaignId} ${variantId} ${attributionDays}`, async () => {
    const m = await refMessageCounts(q, s);
    return { ...m, ...(await refConversions(q, s)) };
  });
}

/** Revenue and cost totals of a whole campaign, in the reporting currency, unrounded. */
function refMoneyTotals(orgId: string, campaignId: string, attributionDays: number, rc: string): Promise<{ revenue: number; cost: number }> {
  const s = { orgId, campaignId, attributionDays };
  return cached(`money ${orgId} ${campaignId} ${attributionDays}`, async () => ({ revenue: (await refRevenue(q, s, rc)).total, cost: (await refCost(q, s, rc)).total }));
}

/** The metric's numerator/denominator in reference counts; null when the rate does not exist on the channel. */
function refBinomial(c: RefCounts, metric: RefRateKey, channel: Channel): Binomial | null {
  const [num, den] = REF_RATES[metric];
  if (NOT_APPLICABLE[channel].includes(num) || NOT_APPLICABLE[channel].includes(den)) return null;
  return { successes: c[num], trials: c[den] };
}

async function campaignInfo(ids: string[]): Promise<Map<string, { name: string; channel: Channel; date: Date }>> {
  const rows = await q(`select id::text id, name, channel::text channel, coalesce(sent_at, scheduled_at, created_at) date from campaigns where id = any($1::uuid[])`, [ids]);
  return new Map(rows.map((r) => [r.id, { name: r.name, channel: r.channel, date: r.date }]));
}

const wilson = (b: Binomial) => {
  const w = wilsonInterval(b);
  return w && { low: roundRate(w.low), high: roundRate(w.high) };
};

/** The largest error rounding to 4 decimals, or to 2 significant digits below 0.0001, can leave. */
const pRoundingError = (p: number) => (p >= 0.0001 ? 0.00005 : 0.05 * p) + 1e-15;

function expectP(got: number | null, want: number | null, label: string) {
  if (want === null) return expect.soft(got, label).toBeNull();
  expect.soft(got, label).not.toBeNull();
  expect.soft(Math.abs(got! - want), `${label}: ${got} vs ${want}`).toBeLessThanOrEqual(pRoundingError(want));
}

/**
 * Holm's step-down adjustment, by hand, on the p-values the tool returned (nulls are not tests and
 * do not count in m): the k-th smallest (k from 0) × (m − k), kept monotone, capped at 1. Also returns
 * how far the rounding of the returned raw p-values can move each adjusted one.
 */
function holmByHand(raw: Array<number | null>): { adjusted: Array<number | null>; slack: number[] } {
  const order = raw.map((p, i) => ({ p, i })).filter((x): x is { p: number; i: number } => x.p !== null).sort((a, b) => a.p - b.p);
  const m = order.length;
  const adjusted: Array<number | null> = raw.map(() => null);
  const slack = raw.map(() => 0);
  let running = 0;
  let runningSlack = 0;
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    runningSlack = Math.max(runningSlack, (m - k) * pRoundingError(p));
    adjusted[i] = running;
    slack[i] = runningSlack;
  });
  return { adjusted, slack };
}

function expectHolm(rawReturned: Array<number | null>, adjustedReturned: Array<number | null>, label: string) {
  const { adjusted, slack } = holmByHand(rawReturned);
  adjustedReturned.forEach((got, i) => {
    const want = adjusted[i]!;
    if (want === null) return expect.soft(got, `${label}[${i}] Holm`).toBeNull();
    expect.soft(Math.abs(got! - want), `${label}[${i}] Holm ${got} vs ${want} by hand`).toBeLessThanOrEqual(slack[i]! + pRoundingError(want));
  });
}

/** The test's own "not enough data" rule: fewer than minTrials trials in either, or fewer than 5 expected successes or failures under the pooled rate. */
function enoughData(a: Binomial, b: Binomial, minTrials: number): boolean {
  if (a.trials < minTrials || b.trials < minTrials || a.trials === 0 || b.trials === 0) return false;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  return [a, b].every((x) => pooled * x.trials >= 5 && (1 - pooled) * x.trials >= 5);
}

/**
 * valuesMissingFromText, except a rate beyond ±100% (a relative lift of 1.7857, an ROI of 28.2) that
 * the text writes as the percentage the tools render ("178.57%"): the shared check accepts a
 * percentage only for |x| ≤ 1 (reported to the lead; test/support/text-carries.ts is not this file's).
 * Everything else must appear as the check demands.
 */
function textMisses(value: unknown, schema: Parameters<typeof valuesMissingFromText>[1], text: string) {
  return valuesMissingFromText(value, schema, text).filter((m) => {
    const n = Number(m.value);
    if (!/relative_lift$|^campaigns\[\d+\]\.value$/.test(m.path) || !(Number.isFinite(n) && Math.abs(n) > 1)) return true;
    const asPercent = `${(n * 100).toFixed(2)}%`;
    return !new RegExp(`(?<![\\w.])${asPercent.replace(/[.+\-]/g, "\\$&")}(?![\\d]|\\.\\d)`).test(text);
  });
}

// ---------- fixtures: campaigns whose counts are known by hand ----------
const fid = (n: number) => `f0000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
let messageN = 1_000_000;

/** The outcomes of one arm (a campaign or a variant): `delivered` messages are SENT then DELIVERED; of
 *  those the first `opened`/`clicked`/`replied` were opened/clicked/replied to, the last `unsubscribed`
 *  unsubscribed; `failed` more messages only FAILED, `bounced` more were SENT then BOUNCED. */
interface Arm { delivered: number; clicked?: number; opened?: number; replied?: number; unsubscribed?: number; failed?: number; bounced?: number; cost?: string }

async function insertCampaign(org: string, cid: string, name: string, channel: Channel, dates: { sent?: string; scheduled?: string; created?: string }) {
  await q(`insert into campaigns (id, organization_id, name, channel, status, sent_at, scheduled_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)`, [
    cid, org, name, channel, dates.sent ? "SENT" : "SCHEDULED", dates.sent ?? null, dates.scheduled ?? null, dates.created ?? dates.sent ?? dates.scheduled,
  ]);
}

async function insertArm(org: string, cid: string, vid: string | null, channel: Channel, at: string, arm: Arm) {
  const ids: string[] = [];
  const ev: { mid: string[]; type: string[]; mins: number[] } = { mid: [], type: [], mins: [] };
  const add = (mid: string, type: string, mins: number) => (ev.mid.push(mid), ev.type.push(type), ev.mins.push(mins));
  for (let i = 0; i < arm.delivered; i++) {
    const mid = fid(messageN++);
    ids.push(mid);
    add(mid, "QUEUED", 0), add(mid, "SENT", 1), add(mid, "DELIVERED", 2);
    if (i < (arm.opened ?? 0)) add(mid, "OPENED", 60);
    if (i < (arm.clicked ?? 0)) add(mid, "CLICKED", 120);
    if (i < (arm.replied ?? 0)) add(mid, "REPLIED", 180);
    if (i >= arm.delivered - (arm.unsubscribed ?? 0)) add(mid, "UNSUBSCRIBED", 240);
  }
  for (let i = 0; i < (arm.failed ?? 0); i++) {
    const mid = fid(messageN++);
    ids.push(mid);
    add(mid, "FAILED", 1);
  }
  for (let i = 0; i < (arm.bounced ?? 0); i++) {
    const mid = fid(messageN++);
    ids.push(mid);
    add(mid, "SENT", 1), add(mid, "BOUNCED", 3);
  }
  await q(
    `insert into messages (id, organization_id, campaign_id, variant_id, contact_id, channel, direction, recipient, cost, currency, status, created_at)
     select m.id, $2, $3, $4, c.ids[1 + (m.n % c.len)::int], $5, 'OUTBOUND', 'bulk fixture', $6::numeric, $7, 'QUEUED', $8
       from unnest($1::uuid[]) with ordinality m(id, n),
            (select array_agg(id order by id) ids, count(*) len from contacts where organization_id = $2) c`,
    [ids, org, cid, vid, channel, arm.cost ?? null, arm.cost ? "NGN" : null, at],
  );
  await q(
    `insert into message_events (id, organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at)
     select (select coalesce(max(id), 0) from message_events) + e.n, m.organization_id, m.id, m.campaign_id, m.variant_id, m.contact_id, m.channel,
            e.type::"MessageEventType", m.created_at + e.mins * interval '1 minute'
       from unnest($1::uuid[], $2::text[], $3::int[]) with ordinality e(mid, type, mins, n) join messages m on m.id = e.mid`,
    [ev.mid, ev.type, ev.mins],
  );
}

async function campaignWith(org: string, cid: string, name: string, channel: Channel, at: string, arm: Arm) {
  await insertCampaign(org, cid, name, channel, { sent: at });
  await insertArm(org, cid, null, channel, at, arm);
}

async function abCampaign(org: string, cid: string, name: string, at: string, variants: Array<{ id: string; name: string; control: boolean; arm: Arm }>) {
  await insertCampaign(org, cid, name, "EMAIL", { sent: at });
  for (const v of variants) {
    await q(`insert into campaign_variants (id, organization_id, campaign_id, name, weight, is_control) values ($1, $2, $3, $4, $5, $6)`, [v.id, org, cid, v.name, 1 / variants.length, v.control]);
    await insertArm(org, cid, v.id, "EMAIL", at, v.arm);
  }
}

const K = { base: fid(1), strong: fid(2), similar: fid(3), small: fid(4), weak: fid(5), sms: fid(6), rareA: fid(7), rareB: fid(8), old: fid(9), sched: fid(10), late: fid(11), unopened: fid(12) };
const AB = { win: fid(20), small: fid(21), same: fid(22), zero: fid(23), three: fid(24), lose: fid(25), unmarked: fid(26) };
const VAR = {
  winA: fid(30), winB: fid(31), smallA: fid(32), smallB: fid(33), sameA: fid(34), sameB: fid(35), zeroA: fid(36), zeroB: fid(37),
  alpha: fid(38), beta: fid(39), gamma: fid(40), loseA: fid(41), loseB: fid(42), loseC: fid(45), x: fid(43), y: fid(44),
};

async function insertFixtures() {
  const A = ORG_A.id;
  // Email campaigns for comparisons (click rates 10%, 15%, 10.5%, 20% on 50, 6%), with opens,
  // unsubscribes (1%, 0.2%, 2.5%, 0%, 0.9%) and failures (20, 5, 12, 0, 30 of their messages).
  await campaignWith(A, K.base, "Cmp base", "EMAIL", "2026-10-10T10:00:00.000Z", { delivered: 1000, clicked: 100, opened: 400, unsubscribed: 10, failed: 20, bounced: 5, cost: "2.0000" });
  await campaignWith(A, K.strong, "Cmp strong", "EMAIL", "2026-10-11T10:00:00.000Z", { delivered: 1000, clicked: 150, opened: 450, unsubscribed: 2, failed: 5, cost: "1.0000" });
  await campaignWith(A, K.similar, "Cmp similar", "EMAIL", "2026-10-12T10:00:00.000Z", { delivered: 1000, clicked: 105, opened: 380, unsubscribed: 25, failed: 12 });
  await campaignWith(A, K.small, "Cmp small but high", "EMAIL", "2026-10-13T10:00:00.000Z", { delivered: 50, clicked: 10, opened: 30, unsubscribed: 0 });
  await campaignWith(A, K.weak, "Cmp weak", "EMAIL", "2026-10-14T10:00:00.000Z", { delivered: 1000, clicked: 60, opened: 200, unsubscribed: 9, failed: 30 });
  await campaignWith(A, K.sms, "Cmp SMS", "SMS", "2026-10-15T10:00:00.000Z", { delivered: 600, clicked: 90, replied: 30, unsubscribed: 6 });
  // Enough trials, too few successes for a z-test: 3/1000 vs 1/1000, 2 expected successes each.
  await campaignWith(A, K.rareA, "Cmp rare A", "EMAIL", "2026-10-16T10:00:00.000Z", { delivered: 1000, clicked: 3 });
  await campaignWith(A, K.rareB, "Cmp rare B", "EMAIL", "2026-10-17T10:00:00.000Z", { delivered: 1000, clicked: 1 });
  // Delivered, never opened or clicked: click_to_open_rate has no trials (a click counts as an open).
  await campaignWith(A, K.unopened, "Cmp unopened", "EMAIL", "2026-10-19T10:00:00.000Z", { delivered: 200 });
  // Conversions 12 hours, 3 days and 20 days after the message, 10 contacts each (the demo data
  // convert within a day, so every attribution window gives the same counts there).
  await campaignWith(A, K.late, "Cmp late conversions", "EMAIL", "2026-10-18T10:00:00.000Z", { delivered: 300, clicked: 30 });
  await q(
    `insert into conversions (id, organization_id, contact_id, campaign_id, type, value, currency, occurred_at)
     select ('f1000000-0000-4000-8000-' || lpad(m.n::text, 12, '0'))::uuid, $1, m.contact_id, $2, 'purchase', 1000, 'NGN',
            m.created_at + case when m.n <= 10 then interval '12 hours' when m.n <= 20 then interval '3 days' else interval '20 days' end
       from (select contact_id, created_at, row_number() over (order by id) n from messages where campaign_id = $2) m
      where m.n <= 30`,
    [A, K.late],
  );
  // Dated by coalesce(sent_at, scheduled_at, created_at): sent in July although created in October
  // (outside 90 days), and scheduled in October although created in June (inside).
  await insertCampaign(A, K.old, "Top sent long ago", "EMAIL", { sent: "2026-07-01T10:00:00.000Z", created: "2026-10-01T10:00:00.000Z" });
  await insertArm(A, K.old, null, "EMAIL", "2026-07-01T10:00:00.000Z", { delivered: 500, clicked: 400 });
  await insertCampaign(A, K.sched, "Top scheduled in October", "EMAIL", { scheduled: "2026-10-20T10:00:00.000Z", created: "2026-06-01T10:00:00.000Z" });
  await insertArm(A, K.sched, null, "EMAIL", "2026-10-20T10:00:00.000Z", { delivered: 500, clicked: 350 });

  // A/B tests on click_rate.
  await abCampaign(A, AB.win, "AB clear winner", "2026-10-20T10:00:00.000Z", [
    { id: VAR.winA, name: "A", control: true, arm: { delivered: 2000, clicked: 1000 } },
    { id: VAR.winB, name: "B", control: false, arm: { delivered: 2000, clicked: 1150 } },
  ]);
  await abCampaign(A, AB.small, "AB big lift small sample", "2026-10-21T10:00:00.000Z", [
    { id: VAR.smallA, name: "A", control: true, arm: { delivered: 100, clicked: 20 } },
    { id: VAR.smallB, name: "B", control: false, arm: { delivered: 100, clicked: 40 } },
  ]);
  await abCampaign(A, AB.same, "AB identical", "2026-10-22T10:00:00.000Z", [
    { id: VAR.sameA, name: "A", control: true, arm: { delivered: 400, clicked: 200 } },
    { id: VAR.sameB, name: "B", control: false, arm: { delivered: 400, clicked: 200 } },
  ]);
  await abCampaign(A, AB.zero, "AB no clicks", "2026-10-23T10:00:00.000Z", [
    { id: VAR.zeroA, name: "A", control: true, arm: { delivered: 300, clicked: 0 } },
    { id: VAR.zeroB, name: "B", control: false, arm: { delivered: 300, clicked: 0 } },
  ]);
  // Three variants; the control is the middle one by name, not the first.
  await abCampaign(A, AB.three, "AB three variants", "2026-10-24T10:00:00.000Z", [
    { id: VAR.alpha, name: "Alpha", control: false, arm: { delivered: 400, clicked: 260 } },
    { id: VAR.beta, name: "Beta", control: true, arm: { delivered: 400, clicked: 200 } },
    { id: VAR.gamma, name: "Gamma", control: false, arm: { delivered: 400, clicked: 210 } },
  ]);
  // Both challengers are significantly worse on clicks (the control wins) and significantly better on
  // unsubscribes, where lower is better: B (2.5%) beats C (5%) beats the control (10%).
  await abCampaign(A, AB.lose, "AB control holds", "2026-10-25T10:00:00.000Z", [
    { id: VAR.loseA, name: "A", control: true, arm: { delivered: 400, clicked: 260, unsubscribed: 40 } },
    { id: VAR.loseB, name: "B", control: false, arm: { delivered: 400, clicked: 200, unsubscribed: 10 } },
    { id: VAR.loseC, name: "C", control: false, arm: { delivered: 400, clicked: 205, unsubscribed: 20 } },
  ]);
  // No variant marked as the control: the first by name is.
  await abCampaign(A, AB.unmarked, "AB no control marked", "2026-10-26T10:00:00.000Z", [
    { id: VAR.y, name: "Y", control: false, arm: { delivered: 100, clicked: 35 } },
    { id: VAR.x, name: "X", control: false, arm: { delivered: 100, clicked: 30 } },
  ]);
}

// ---------- compare_campaigns, recomputed ----------
interface CompareArgs { ids: string[]; metric?: RefRateKey; against?: "first" | "best"; min_volume?: number; attribution_days?: number }
const verdictsSeen = new Map<string, number>();

/** Calls compare_campaigns and checks every figure against SQL counts and the stats functions; returns the output (or the error text when one is expected). */
async function expectCompare(args: CompareArgs, org: Org = ORG_A): Promise<any> {
  const metric = args.metric ?? "click_rate";
  const minVolume = args.min_volume ?? 100;
  const days = args.attribution_days ?? 7;
  const label = `${org.slug} ${metric} ${args.against ?? "first"} min ${minVolume} [${args.ids.join(",")}]`;
  const info = await campaignInfo(args.ids);
  const arms: Array<{ id: string; channel: Channel; b: Binomial | null }> = [];
  for (const cid of args.ids) {
    const channel = info.get(cid)!.channel;
    arms.push({ id: cid, channel, b: refBinomial(await refCounts(org.id, cid, days), metric, channel) });
  }
  const rate = (b: Binomial | null) => (b && b.trials ? b.successes / b.trials : null);

  // The baseline: the first, or the best rate among campaigns with at least min_volume trials.
  let base = arms[0]!;
  if (args.against === "best") {
    const eligible = arms.filter((a) => a.b && a.b.trials > 0 && a.b.trials >= minVolume);
    if (!eligible.length) {
      const r = await ca.callRaw(ROLE, "compare_campaigns", { ...args }, org);
      expect(r.isError, label).toBe(true);
      expect(textOf(r), label).toMatch(/INVALID_INPUT.*no best/);
      return textOf(r);
    }
    const lower = LOWER_IS_BETTER.has(metric);
    const extreme = (lower ? Math.min : Math.max)(...eligible.map((a) => rate(a.b)!));
    base = eligible.find((a) => rate(a.b) === extreme)!;
  }
  if (!base.b) {
    const r = await ca.callRaw(ROLE, "compare_campaigns", { ...args }, org);
    expect(r.isError, label).toBe(true);
    expect(textOf(r), label).toMatch(/INVALID_INPUT/);
    expect(textOf(r), label).toContain(`${metric} does not exist on ${base.channel}`);
    return textOf(r);
  }

  const r = await ca.callRaw(ROLE, "compare_campaigns", { ...args }, org);
  expect(r.isError, `${label}: ${textOf(r)}`).toBeFalsy();
  const out = r.structuredContent as any;
  expect.soft(textMisses(out, compareCampaigns.output, textOf(r)), `${label} text`).toEqual([]);
  expect(out.metric).toBe(metric);
  expect(out.baseline_id, label).toBe(base.id);
  expect(out.campaigns.map((c: any) => c.id)).toEqual(args.ids);
  for (const [i, a] of arms.entries()) {
    const c = out.campaigns[i];
    const l = `${label} ${a.id}`;
    expect.soft({ name: c.name, channel: c.channel }, l).toEqual({ name: info.get(a.id)!.name, channel: a.channel });
    expect.soft({ successes: c.successes, trials: c.trials }, `${l} counts`).toEqual(a.b ?? { successes: null, trials: null });
    expect.soft(c.rate, `${l} rate`).toBe(roundRate(rate(a.b)));
    expect.soft(c.interval, `${l} Wilson`).toEqual(a.b ? wilson(a.b) : null);
  }

  const others = arms.filter((a) => a !== base);
  expect(out.comparisons.map((x: any) => x.id), label).toEqual(others.map((a) => a.id));
  for (const [i, a] of others.entries()) {
    const x = out.comparisons[i];
    const l = `${label} ${a.id} vs ${base.id}`;
    if (!a.b) {
      expect.soft(x, l).toMatchObject({ verdict: "not applicable", difference: null, interval: null, relative_lift: null, p_value: null, p_adjusted: null });
      expect.soft(x.reason, l).toContain(`does not exist on ${a.channel}`);
      verdictsSeen.set(x.verdict, (verdictsSeen.get(x.verdict) ?? 0) + 1);
      continue;
    }
    const t = twoProportionTest(base.b, a.b, { minTrials: minVolume });
    const enough = enoughData(base.b, a.b, minVolume);
    expect.soft(t.sufficient, `${l} the stats function's sufficiency agrees with the test's rule`).toBe(enough);
    const rA = rate(base.b), rB = rate(a.b);
    expect.soft(x.difference, `${l} difference`).toBe(rA !== null && rB !== null ? roundRate(rB - rA) : null);
    expect.soft(x.relative_lift, `${l} lift`).toBe(rA && rB !== null ? roundRate((rB - rA) / rA) : null);
    expect.soft(x.interval, `${l} Newcombe`).toEqual(t.interval && { low: roundRate(t.interval.low), high: roundRate(t.interval.high) });
    expectP(x.p_value, enough ? t.p_value : null, `${l} p`);
    if (!enough) {
      expect.soft(x.verdict, l).toBe("not enough data");
      expect.soft(x.p_adjusted, l).toBeNull();
      expect.soft(x.reason, l).toMatch(/fewer than|no trials/);
    } else {
      expect.soft(x.reason, l).toBeNull();
      const better = (rB! > rA!) !== LOWER_IS_BETTER.has(metric);
      expect.soft(x.verdict, `${l} verdict (Holm p ${x.p_adjusted})`).toBe(x.p_adjusted < 0.05 ? (better ? "better" : "worse") : "no significant difference");
    }
    verdictsSeen.set(x.verdict, (verdictsSeen.get(x.verdict) ?? 0) + 1);
  }
  expectHolm(out.comparisons.map((x: any) => x.p_value), out.comparisons.map((x: any) => x.p_adjusted), label);
  return out;
}

// ---------- get_ab_test_results, recomputed ----------
/** R's power.prop.test (stats/R/power.R, two-sided, strict = FALSE) solved for n in closed form, with
 *  qnorm(0.975) and qnorm(0.8) written out; R reports this n before rounding up. */
function powerPropTestN(p1: number, p2: number): number {
  const zAlpha = 1.959963984540054; // qnorm(0.975)
  const zPower = 0.8416212335729143; // qnorm(0.8)
  const pBar = (p1 + p2) / 2;
  return (zAlpha * Math.sqrt(2 * pBar * (1 - pBar)) + zPower * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p1 - p2) ** 2;
}
/** R's power at n per group: pnorm((√n·|p1 − p2| − qnorm(0.975)·√((p1 + p2)(1 − (p1 + p2)/2))) / √(p1(1 − p1) + p2(1 − p2))). */
const powerPropTestPower = (n: number, p1: number, p2: number) =>
  normalCdf((Math.sqrt(n) * Math.abs(p1 - p2) - 1.959963984540054 * Math.sqrt((p1 + p2) * (1 - (p1 + p2) / 2))) / Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)));

interface AbArgs { id: string; metric?: RefRateKey; min_effect?: number; attribution_days?: number }

async function expectAb(args: AbArgs, org: Org = ORG_A): Promise<any> {
  const metric = args.metric ?? "click_rate";
  const minEffect = args.min_effect ?? 0.1;
  const days = args.attribution_days ?? 7;
  const label = `${org.slug} A/B ${args.id} ${metric}`;
  const channel = (await campaignInfo([args.id])).get(args.id)!.channel;
  const variants = await q(`select id::text id, name, is_control from campaign_variants where campaign_id = $1 order by name`, [args.id]);
  const arms: Array<{ id: string | null; name: string; control: boolean; b: Binomial }> = [];
  if (variants.length)
    for (const v of variants) arms.push({ id: v.id, name: v.name, control: v.is_control, b: refBinomial(await refCounts(org.id, args.id, days, v.id), metric, channel)! });
  else arms.push({ id: null, name: "(whole campaign)", control: true, b: refBinomial(await refCounts(org.id, args.id, days), metric, channel)! });
  const control = arms.find((a) => a.control) ?? arms[0]!;

  const r = await ca.callRaw(ROLE, "get_ab_test_results", { ...args }, org);
  expect(r.isError, `${label}: ${textOf(r)}`).toBeFalsy();
  const out = r.structuredContent as any;
  expect.soft(textMisses(out, getAbTestResults.output, textOf(r)), `${label} text`).toEqual([]);
  expect(out.campaign_id).toBe(args.id);
  expect(out.variants.map((v: any) => [v.id, v.name, v.is_control]), label).toEqual(arms.map((a) => [a.id, a.name, a === control]));

  const rate = (b: Binomial) => (b.trials ? b.successes / b.trials : null);
  // "Best" is the highest rate, or the lowest where lower is better: P(p_i lowest) = P(1 − p_i highest),
  // and 1 − p_i has the Beta posterior of the failures (the Beta(1, 1) prior is symmetric).
  const lower = LOWER_IS_BETTER.has(metric);
  const p2b = probabilityToBeBest(arms.map((a) => (lower ? { successes: a.b.trials - a.b.successes, trials: a.b.trials } : a.b)));
  const rivals = arms.filter((a) => a !== control);
  for (const [k, a] of arms.entries()) {
    const v = out.variants[k];
    const l = `${label} ${a.name}`;
    expect.soft({ successes: v.successes, trials: v.trials }, `${l} counts`).toEqual(a.b);
    expect.soft(v.rate, `${l} rate`).toBe(roundRate(rate(a.b)));
    expect.soft(v.interval, `${l} Wilson`).toEqual(wilson(a.b));
    expect.soft(v.probability_to_be_best, `${l} P(best)`).toBe(roundRate(p2b[k]!));
    if (a === control) {
      expect.soft(v, `${l} control`).toMatchObject({ difference: null, difference_interval: null, relative_lift: null, p_value: null, p_adjusted: null });
      continue;
    }
    const t = twoProportionTest(control.b, a.b, { minTrials: 1 });
    const rA = rate(control.b), rB = rate(a.b);
    expect.soft(t.sufficient, `${l} sufficiency`).toBe(enoughData(control.b, a.b, 1));
    expect.soft(v.difference, `${l} difference`).toBe(rA !== null && rB !== null ? roundRate(rB - rA) : null);
    expect.soft(v.relative_lift, `${l} lift`).toBe(rA && rB !== null ? roundRate((rB - rA) / rA) : null);
    expect.soft(v.difference_interval, `${l} Newcombe`).toEqual(t.interval && { low: roundRate(t.interval.low), high: roundRate(t.interval.high) });
    expectP(v.p_value, t.sufficient ? t.p_value : null, `${l} p`);
  }
  const rivalIdx = rivals.map((a) => arms.indexOf(a));
  expectHolm(rivalIdx.map((k) => out.variants[k].p_value), rivalIdx.map((k) => out.variants[k].p_adjusted), label);
  const sum = out.variants.reduce((s: number, v: any) => s + v.probability_to_be_best, 0);
  expect(Math.abs(sum - 1), `${label} P(best) sums to 1`).toBeLessThanOrEqual(0.00005 * arms.length + 1e-9);

  // The planned sample and the winner rule, by hand.
  const baseRate = rate(control.b);
  const target = baseRate === null ? null : baseRate * (lower ? 1 - minEffect : 1 + minEffect);
  const required = target !== null && baseRate! > 0 && baseRate! < 1 && target > 0 && target < 1 ? Math.ceil(powerPropTestN(baseRate!, target)) : null;
  expect(out.required_per_variant, `${label} required (R's power.prop.test)`).toBe(required);
  const fewest = Math.min(...arms.map((a) => a.b.trials));
  expect(out.more_needed_per_variant, `${label} more needed`).toBe(required === null ? null : Math.max(0, required - fewest));
  const significant = rivals.map((a) => out.variants[arms.indexOf(a)].p_adjusted).map((p) => p !== null && p < 0.05);
  expect(out.significant, label).toBe(significant.some(Boolean));
  let winner: { id: string | null; name: string } | null = null;
  if (rivals.length && required !== null && required <= fewest && significant.some(Boolean)) {
    const beats = rivals.filter((a, i) => significant[i] && (lower ? rate(a.b)! < baseRate! : rate(a.b)! > baseRate!));
    const pick = beats.length ? beats.reduce((x, y) => (p2b[arms.indexOf(y)]! > p2b[arms.indexOf(x)]! ? y : x)) : significant.every(Boolean) ? control : null;
    winner = pick && { id: pick.id, name: pick.name };
  }
  expect(out.winner, `${label} winner`).toEqual(winner);
  if (!rivals.length) expect(out.verdict).toMatch(/^Not an A\/B test/);
  return out;
}

// ---------- get_top_performing_campaigns, recomputed ----------
interface TopArgs { metric?: RefRateKey | "revenue" | "roi"; channel?: Channel; range?: { preset?: string; from?: string; to?: string }; min_volume?: number; limit?: number; attribution_days?: number }
const PRESET_MS: Record<string, number> = { "1h": 3_600_000, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, "90d": 90 * DAY, "1y": 365 * DAY };

async function expectTop(args: TopArgs, org: Org = ORG_A): Promise<any> {
  const metric = args.metric ?? "conversion_rate";
  const minVolume = args.min_volume ?? 100;
  const limit = args.limit ?? 10;
  const days = args.attribution_days ?? 7;
  const label = `${org.slug} top ${JSON.stringify(args)}`;
  const to = args.range?.to ? new Date(args.range.to) : new Date(NOW);
  const from = args.range?.from ? new Date(args.range.from) : new Date(to.getTime() - PRESET_MS[args.range?.preset ?? "90d"]!);
  const rc = await reportingCurrency(q, org.id);
  const ids = await refCampaignIds(q, org.id, { from, to, ...(args.channel ? { channel: args.channel } : {}) });
  const info = await campaignInfo(ids);
  const rateKey = metric === "revenue" || metric === "roi" ? null : metric;
  const rows: Array<{ id: string; value: number | null; successes: number | null; trials: number; revenue: number }> = [];
  for (const cid of ids) {
    const c = info.get(cid)!;
    const counts = await refCounts(org.id, cid, days);
    const { revenue, cost } = await refMoneyTotals(org.id, cid, days, rc);
    if (rateKey) {
      const b = refBinomial(counts, rateKey, c.channel);
      if (!b) continue; // not applicable on the channel: not considered
      rows.push({ id: cid, value: b.trials ? b.successes / b.trials : null, successes: b.successes, trials: b.trials, revenue });
    } else {
      const value = metric === "revenue" ? revenue : cost > 0 ? (revenue - cost) / cost : null;
      rows.push({ id: cid, value, successes: null, trials: counts.delivered, revenue });
    }
  }
  const lower = rateKey !== null && LOWER_IS_BETTER.has(rateKey);
  const ranked = rows
    .filter((x): x is typeof x & { value: number } => x.trials >= minVolume && x.value !== null)
    .sort((a, b) => (lower ? a.value - b.value : b.value - a.value) || b.trials - a.trials || (a.id < b.id ? -1 : 1));

  const r = await ca.callRaw(ROLE, "get_top_performing_campaigns", { ...args }, org);
  expect(r.isError, `${label}: ${textOf(r)}`).toBeFalsy();
  const out = r.structuredContent as any;
  expect.soft(textMisses(out, getTopPerformingCampaigns.output, textOf(r)), `${label} text`).toEqual([]);
  const explicit = Boolean(args.range?.from || args.range?.to);
  expect(out.range, label).toEqual({
    from: from.toISOString(),
    to: to.toISOString(),
    preset: explicit ? null : (args.range?.preset ?? "90d"),
    previous_from: new Date(2 * from.getTime() - to.getTime()).toISOString(),
  });
  expect({ considered: out.considered, left_out: out.left_out, min_volume: out.min_volume }, label).toEqual({
    considered: rows.length,
    left_out: rows.length - ranked.length,
    min_volume: minVolume,
  });
  expect(out.campaigns.map((c: any) => c.id), `${label} ranking`).toEqual(ranked.slice(0, limit).map((x) => x.id));
  for (const [i, x] of ranked.slice(0, limit).entries()) {
    const c = out.campaigns[i];
    if (!c) break;
    const l = `${label} #${i + 1} ${x.id}`;
    const ci = info.get(x.id)!;
    expect.soft({ rank: c.rank, name: c.name, channel: c.channel, date: c.date }, l).toEqual({ rank: i + 1, name: ci.name, channel: ci.channel, date: ci.date.toISOString() });
    expect.soft({ successes: c.successes, trials: c.trials }, `${l} counts`).toEqual({ successes: x.successes, trials: x.trials });
    if (metric === "revenue") expect.soft(Math.abs(c.value - roundMoney(x.value, rc)), `${l} revenue value`).toBeLessThanOrEqual(0.01);
    else if (metric === "roi") expect.soft(Math.abs(c.value - x.value), `${l} roi ${c.value} vs ${x.value}`).toBeLessThanOrEqual(0.0001 + 1e-9);
    else expect.soft(c.value, `${l} rate`).toBe(roundRate(x.value));
    expect.soft(c.interval, `${l} Wilson`).toEqual(rateKey ? wilson({ successes: x.successes!, trials: x.trials }) : null);
    expect.soft(c.revenue.currency, l).toBe(rc);
    expect.soft(Math.abs(c.revenue.amount - roundMoney(x.revenue, rc)), `${l} revenue`).toBeLessThanOrEqual(0.01);
  }
  return out;
}

// ---------- the tests ----------
interface DemoCampaign { id: string; org: Org; channel: Channel; delivered: number }
let demo: DemoCampaign[] = [];
let demoAb: Array<{ id: string; org: Org; channel: Channel }> = [];

beforeAll(async () => {
  // Demo campaigns first, before this file's own rows are added.
  const rows = await q(
    `select c.id::text id, c.organization_id::text org, c.channel::text channel,
            (select count(*)::int from messages m where m.campaign_id = c.id and exists (select 1 from message_events e where e.message_id = m.id and e.type = 'DELIVERED')) delivered
       from campaigns c where exists (select 1 from messages m where m.campaign_id = c.id)
      order by c.organization_id, coalesce(c.sent_at, c.scheduled_at, c.created_at), c.id`,
  );
  demo = rows.map((r) => ({ ...r, org: r.org === ORG_A.id ? ORG_A : ORG_B }));
  const ab = await q(
    `select c.id::text id, c.organization_id::text org, c.channel::text channel from campaigns c
      where exists (select 1 from campaign_variants v where v.campaign_id = c.id) and exists (select 1 from messages m where m.campaign_id = c.id) order by c.organization_id, c.id`,
  );
  demoAb = ab.map((r) => ({ ...r, org: r.org === ORG_A.id ? ORG_A : ORG_B }));
  await insertFixtures();
});

describe("the fixtures hold the counts they were written with", () => {
  it("reference SQL counts of the constructed campaigns", async () => {
    expect(await refCounts(ORG_A.id, K.base)).toMatchObject({ messages: 1025, sent: 1005, delivered: 1000, failed: 20, bounced: 5, opened: 400, clicked: 100, unsubscribed: 10, converted: 0 });
    expect(await refCounts(ORG_A.id, K.sms)).toMatchObject({ messages: 600, delivered: 600, clicked: 90, replied: 30, unsubscribed: 6 });
    expect(await refCounts(ORG_A.id, AB.three, 7, VAR.alpha)).toMatchObject({ messages: 400, delivered: 400, clicked: 260 });
    expect(demo.filter((c) => c.org === ORG_A).length).toBeGreaterThanOrEqual(10);
    expect(demoAb.length).toBeGreaterThanOrEqual(4);
  });
});

describe("compare_campaigns", () => {
  it("counts equal SQL and every statistic equals the stats functions on those counts, on demo campaigns of both organizations", async () => {
    const metrics: RefRateKey[] = ["click_rate", "delivery_rate", "conversion_rate", "failure_rate", "unsubscribe_rate", "open_rate", "reply_rate", "bounce_rate", "click_to_open_rate"];
    let calls = 0;
    for (const org of [ORG_A, ORG_B]) {
      const mine = demo.filter((c) => c.org === org);
      const byVolume = [...mine].sort((a, b) => b.delivered - a.delivered);
      const sets = [mine.slice(0, 5), mine.slice(5, 9), mine.slice(-3), byVolume.slice(0, 5), byVolume.slice(0, 2), [byVolume[0]!, mine[0]!]].map((s) => s.map((c) => c.id));
      for (const ids of sets) {
        expect(new Set(ids).size).toBe(ids.length);
        for (const metric of metrics)
          for (const against of ["first", "best"] as const)
            for (const min_volume of [10, 100]) {
              await expectCompare({ ids, metric, against, min_volume }, org);
              calls++;
            }
      }
    }
    expect(calls).toBeGreaterThan(100);
  });

  it("attribution_days reaches the conversion counts (1, 7, 30 days)", async () => {
    const demoIds = [...demo.filter((c) => c.org === ORG_A)].sort((a, b) => b.delivered - a.delivered).slice(0, 3).map((c) => c.id);
    const late = [];
    for (const attribution_days of [1, 7, 30]) {
      const out = await expectCompare({ ids: [K.late, ...demoIds], metric: "conversion_rate", min_volume: 10, attribution_days });
      late.push(out.campaigns[0].successes);
    }
    expect(late).toEqual([10, 20, 30]); // 12 h, 3 d and 20 d after the message
  });

  it("five constructed campaigns against the first: better, worse, no significant difference, not enough data; Holm by hand", async () => {
    const out = await expectCompare({ ids: [K.base, K.strong, K.similar, K.small, K.weak] });
    expect(out.campaigns.map((c: any) => [c.successes, c.trials, c.rate])).toEqual([[100, 1000, 0.1], [150, 1000, 0.15], [105, 1000, 0.105], [10, 50, 0.2], [60, 1000, 0.06]]);
    const [strong, similar, small, weak] = out.comparisons;
    expect([strong.verdict, similar.verdict, small.verdict, weak.verdict]).toEqual(["better", "no significant difference", "not enough data", "worse"]);
    expect(small.reason).toContain("fewer than 100 trials in B (50)");
    expect(strong).toMatchObject({ difference: 0.05, relative_lift: 0.5 });
    expect(weak).toMatchObject({ difference: -0.04, relative_lift: -0.4 });
    // Holm over the 3 tests made (not enough data is no test): the smallest × 3, then × 2 (kept ≥ the previous), then × 1.
    const [p1, p2, p3] = [strong.p_value, weak.p_value, similar.p_value];
    expect(p1 < p2 && p2 < p3).toBe(true);
    const a1 = Math.min(1, 3 * p1), a2 = Math.max(a1, Math.min(1, 2 * p2)), a3 = Math.max(a2, p3);
    expect(Math.abs(strong.p_adjusted - a1)).toBeLessThanOrEqual(3 * pRoundingError(p1) + pRoundingError(a1));
    expect(Math.abs(weak.p_adjusted - a2)).toBeLessThanOrEqual(3 * pRoundingError(p1) + 2 * pRoundingError(p2) + pRoundingError(a2));
    expect(Math.abs(similar.p_adjusted - a3)).toBeLessThanOrEqual(3 * pRoundingError(p1) + 2 * pRoundingError(p2) + pRoundingError(p3) + pRoundingError(a3));
    expect(strong.p_adjusted).toBeGreaterThan(strong.p_value); // the adjustment did something
    expect(weak.p_adjusted).toBeGreaterThan(weak.p_value);
    expect(small).toMatchObject({ p_value: null, p_adjusted: null });
    // The pooled z-test by hand for 150/1000 vs 100/1000: pooled 0.125, z = 0.05 / √(0.125·0.875·0.002).
    const z = 0.05 / Math.sqrt(0.125 * 0.875 * 0.002);
    expectP(strong.p_value, 2 * (1 - normalCdf(z)), "150/1000 vs 100/1000");
  });

  it('against "best" picks the highest eligible rate, not a higher one under min_volume', async () => {
    const out = await expectCompare({ ids: [K.base, K.small, K.similar, K.strong, K.weak], against: "best" });
    expect(out.baseline_id).toBe(K.strong); // 15% on 1000; "small but high" has 20% on 50 trials only
    expect(out.comparisons.map((x: any) => x.id)).toEqual([K.base, K.small, K.similar, K.weak]);
    expect(out.comparisons.map((x: any) => x.verdict)).toEqual(["worse", "not enough data", "worse", "worse"]);
    // with a minimum the small campaign reaches, it is the best
    expect((await expectCompare({ ids: [K.base, K.small, K.strong], against: "best", min_volume: 50 })).baseline_id).toBe(K.small);
  });

  it('against "best" on a lower-is-better rate picks the lowest eligible one (unsubscribe, failure)', async () => {
    const unsub = await expectCompare({ ids: [K.base, K.small, K.similar, K.strong, K.weak], metric: "unsubscribe_rate", against: "best" });
    expect(unsub.baseline_id).toBe(K.strong); // 0.2%; "small" has 0% on 50 delivered: under min_volume
    expect(unsub.comparisons.find((x: any) => x.id === K.similar).verdict).toBe("worse"); // 2.5% vs 0.2%
    const fail = await expectCompare({ ids: [K.base, K.similar, K.strong, K.weak], metric: "failure_rate", against: "best" });
    expect(fail.baseline_id).toBe(K.strong); // 5/1005
    expect(fail.campaigns.map((c: any) => [c.successes, c.trials])).toEqual([[20, 1025], [12, 1012], [5, 1005], [30, 1030]]);
    expect(fail.comparisons.find((x: any) => x.id === K.weak).verdict).toBe("worse");
    // against the first, a lower failure rate is "better" although the difference is negative
    const first = await expectCompare({ ids: [K.weak, K.strong], metric: "failure_rate" });
    expect(first.comparisons[0]).toMatchObject({ verdict: "better" });
    expect(first.comparisons[0].difference).toBeLessThan(0);
    // no campaign reaches the minimum: no best to compare against
    expect(await expectCompare({ ids: [K.base, K.strong], against: "best", min_volume: 5000 })).toMatch(/INVALID_INPUT/);
  });

  it('"not enough data" with enough trials but fewer than 5 expected successes', async () => {
    const out = await expectCompare({ ids: [K.rareA, K.rareB, K.base] });
    const [rare, base] = out.comparisons;
    expect(out.campaigns.map((c: any) => [c.successes, c.trials])).toEqual([[3, 1000], [1, 1000], [100, 1000]]);
    expect(rare).toMatchObject({ verdict: "not enough data", p_value: null, p_adjusted: null, difference: -0.002 });
    expect(rare.reason).toContain("fewer than 5 expected successes in A (2.0)");
    expect(rare.interval).not.toBeNull(); // Newcombe's interval holds in small samples; the z-test does not
    // the one test made is adjusted over m = 1: unchanged
    expect(base.verdict).toBe("better");
    expect(base.p_adjusted).toBe(base.p_value);
  });

  it('a rate that does not exist on a campaign\'s channel: that comparison is "not applicable"; on the baseline, INVALID_INPUT', async () => {
    const out = await expectCompare({ ids: [K.base, K.sms, K.strong], metric: "open_rate" });
    expect(out.campaigns[1]).toMatchObject({ id: K.sms, successes: null, trials: null, rate: null, interval: null });
    expect(out.comparisons[0]).toMatchObject({ id: K.sms, verdict: "not applicable", reason: "open_rate does not exist on SMS" });
    expect(out.comparisons[1]).toMatchObject({ id: K.strong, verdict: "better", p_adjusted: out.comparisons[1].p_value }); // m = 1
    expect(await expectCompare({ ids: [K.sms, K.base], metric: "open_rate" })).toContain("open_rate does not exist on SMS");
    // reply_rate exists on SMS, not on email
    const reply = await expectCompare({ ids: [K.sms, K.base], metric: "reply_rate" });
    expect(reply.comparisons[0].verdict).toBe("not applicable");
    // "best" never picks a campaign the rate does not apply to
    expect((await expectCompare({ ids: [K.sms, K.weak, K.base], metric: "open_rate", against: "best" })).baseline_id).toBe(K.base);
  });

  it("the text carries a campaign with no trials: its 0 successes and 0 trials", async () => {
    // "Cmp unopened" has deliveries but no open: click_to_open_rate has 0 trials there.
    const r = await ca.callRaw(ROLE, "compare_campaigns", { ids: [K.base, K.unopened], metric: "click_to_open_rate" });
    expect(r.isError, textOf(r)).toBeFalsy();
    const out = r.structuredContent as any;
    expect(out.campaigns[1]).toMatchObject({ successes: 0, trials: 0, rate: null, interval: null });
    expect(out.comparisons[0]).toMatchObject({ verdict: "not enough data", difference: null });
    expect(valuesMissingFromText(out, compareCampaigns.output, textOf(r))).toEqual([]);
  });

  it("duplicate ids are refused; another organization's campaign is NOT_FOUND; 1 or 6 ids are invalid", async () => {
    const dup = await ca.callRaw(ROLE, "compare_campaigns", { ids: [K.base, K.strong, K.base] });
    expect(dup.isError).toBe(true);
    expect(textOf(dup)).toMatch(/INVALID_INPUT.*once/);
    const bId = demo.find((c) => c.org === ORG_B)!.id;
    const other = await ca.callRaw(ROLE, "compare_campaigns", { ids: [K.base, bId] });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toMatch(/NOT_FOUND/);
    expect(textOf(other)).toContain(bId);
    expect(other.structuredContent).toBeUndefined();
    // and org A's own fixture from org B's key
    const fromB = await ca.callRaw(ROLE, "compare_campaigns", { ids: [bId, K.base] }, ORG_B);
    expect(textOf(fromB)).toMatch(/NOT_FOUND/);
    for (const ids of [[K.base], [K.base, K.strong, K.similar, K.small, K.weak, K.sms]]) {
      const r = await ca.callRaw(ROLE, "compare_campaigns", { ids });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/INVALID_INPUT.*ids/);
    }
  });

  it("every kind of verdict was met in this file's comparisons", () => {
    expect([...verdictsSeen.keys()].sort()).toEqual(["better", "no significant difference", "not applicable", "not enough data", "worse"]);
  });
});

describe("get_top_performing_campaigns", () => {
  it("default (conversion_rate, 90 days, min_volume 100) equals the ranking from SQL, in both organizations", async () => {
    const a = await expectTop({});
    const b = await expectTop({}, ORG_B);
    expect(a.considered).toBeGreaterThan(5);
    expect(b.considered).toBeGreaterThan(3);
    expect(a.campaigns.length).toBeGreaterThan(3);
    expect(a.left_out + b.left_out).toBeGreaterThan(0); // the guard is exercised
  });

  it("every rate, each min_volume, with and without a channel filter", async () => {
    for (const metric of RATE_KEYS)
      for (const min_volume of [1, 30, 100])
        for (const channel of [undefined, "EMAIL", "SMS", "WHATSAPP"] as const)
          await expectTop({ metric, min_volume, limit: 25, range: { preset: "1y" }, ...(channel ? { channel } : {}) });
  });

  it("a rate that does not exist on a channel: those campaigns are not considered", async () => {
    const all = await expectTop({ metric: "click_rate", min_volume: 1, range: { preset: "1y" }, limit: 25 });
    const open = await expectTop({ metric: "open_rate", min_volume: 1, range: { preset: "1y" }, limit: 25 });
    const sms = (await refCampaignIds(q, ORG_A.id, { channel: "SMS", from: new Date(NOW - 365 * DAY), to: new Date(NOW) })).length;
    expect(sms).toBeGreaterThan(0);
    expect(open.considered).toBe(all.considered - sms);
    expect(open.campaigns.every((c: any) => c.channel !== "SMS")).toBe(true);
    expect((await expectTop({ metric: "open_rate", channel: "SMS" })).considered).toBe(0);
  });

  it("dated by coalesce(sent_at, scheduled_at, created_at); the minimum volume leaves out the 20% on 50", async () => {
    const out = await expectTop({ metric: "click_rate" });
    const ids = out.campaigns.map((c: any) => c.id);
    expect(ids[0]).toBe(K.sched); // 70% on 500, scheduled in range, created in June
    expect(ids).not.toContain(K.old); // 80% on 500, created in range but sent in July
    expect(ids).not.toContain(K.small); // 20% on 50 < 100
    expect((await expectTop({ metric: "click_rate", range: { preset: "1y" } })).campaigns[0].id).toBe(K.old);
    expect((await expectTop({ metric: "click_rate", min_volume: 50 })).campaigns.map((c: any) => c.id)).toContain(K.small);
  });

  it("lower is better for unsubscribe, bounce and failure rates: ascending", async () => {
    for (const metric of ["unsubscribe_rate", "bounce_rate", "failure_rate"] as const) {
      const out = await expectTop({ metric, min_volume: 20, limit: 25 });
      const values = out.campaigns.map((c: any) => c.value);
      expect(values.length).toBeGreaterThan(2);
      expect(values).toEqual([...values].sort((x, y) => x - y));
      expect(values[0]).toBeLessThan(values[values.length - 1]); // not all equal: the order is exercised
    }
  });

  it("revenue and ROI, in the reporting currency, equal SQL row by row", async () => {
    for (const org of [ORG_A, ORG_B])
      for (const metric of ["revenue", "roi"] as const)
        for (const min_volume of [1, 20]) {
          const out = await expectTop({ metric, min_volume, limit: 25, range: { preset: "1y" } }, org);
          expect(out.campaigns.length, `${org.slug} ${metric}`).toBeGreaterThan(1);
          expect(out.campaigns.every((c: any) => c.interval === null && c.successes === null)).toBe(true);
        }
    const revenue = await expectTop({ metric: "revenue", min_volume: 1, range: { preset: "1y" } });
    expect(revenue.campaigns[0].value).toBeGreaterThan(0);
    // campaigns without cost have no ROI: left out and counted
    const roi = await expectTop({ metric: "roi", min_volume: 1, limit: 25 });
    expect(roi.campaigns.map((c: any) => c.id)).not.toContain(K.similar);
    expect(roi.campaigns.map((c: any) => c.id)).toContain(K.base);
    expect(roi.left_out).toBeGreaterThan(0);
  });

  it("attribution_days reaches the conversion rates (1, 7, 30 days)", async () => {
    const late = [];
    for (const attribution_days of [1, 7, 30]) {
      const out = await expectTop({ attribution_days, limit: 25 });
      late.push(out.campaigns.find((c: any) => c.id === K.late)?.successes);
    }
    expect(late).toEqual([10, 20, 30]);
  });

  it("limit, an explicit range across a month boundary, and the range echoed", async () => {
    const three = await expectTop({ metric: "click_rate", min_volume: 1, limit: 3 });
    expect(three.campaigns).toHaveLength(3);
    const more = await expectTop({ metric: "click_rate", min_volume: 1, limit: 25 });
    expect(more.campaigns.slice(0, 3)).toEqual(three.campaigns);
    const range = { from: "2026-10-12T00:00:00+01:00", to: "2026-11-17T00:00:00.000Z" };
    const out = await expectTop({ metric: "click_rate", min_volume: 10, range });
    expect(out.range.from).toBe("2026-10-11T23:00:00.000Z");
    expect(out.campaigns.map((c: any) => c.id)).toContain(K.similar);
    expect(out.campaigns.map((c: any) => c.id)).not.toContain(K.strong); // 2026-10-11T10:00Z, before from
    expect(out.campaigns.length).toBeGreaterThan(3);
  });
});

describe("get_ab_test_results", () => {
  it("(a) a clear winner with enough sample: winner, significant, nothing more needed", async () => {
    const out = await expectAb({ id: AB.win });
    expect(out.variants.map((v: any) => [v.name, v.successes, v.trials, v.rate])).toEqual([["A", 1000, 2000, 0.5], ["B", 1150, 2000, 0.575]]);
    expect(out.required_per_variant).toBe(sampleSizePerVariant(0.5, 0.5 * 1.1));
    expect(out.required_per_variant).toBe(Math.ceil(powerPropTestN(0.5, 0.55)));
    expect(out.required_per_variant).toBeLessThanOrEqual(2000);
    expect(out).toMatchObject({ significant: true, more_needed_per_variant: 0, winner: { id: VAR.winB, name: "B" } });
    expect(out.verdict).toBe("Winner: B.");
    expect(out.variants[1].probability_to_be_best).toBeGreaterThan(0.999);
    expect(out.variants[1].p_adjusted).toBe(out.variants[1].p_value); // one comparison: Holm changes nothing
  });

  it("(b) a big lift on too small a sample: no winner, more_needed = planned sample − fewest trials (R's power.prop.test)", async () => {
    const out = await expectAb({ id: AB.small });
    expect(out.variants.map((v: any) => [v.successes, v.trials])).toEqual([[20, 100], [40, 100]]);
    expect(out.variants[1].relative_lift).toBe(1);
    const planned = sampleSizePerVariant(0.2, 0.2 * 1.1)!;
    const r = powerPropTestN(0.2, 0.22);
    expect(planned).toBe(Math.ceil(r));
    // R's own definition of that n: the power reaches 80% at n and not at n − 1
    expect(powerPropTestPower(planned, 0.2, 0.22)).toBeGreaterThanOrEqual(0.8);
    expect(powerPropTestPower(planned - 1, 0.2, 0.22)).toBeLessThan(0.8);
    expect(planned).toBeGreaterThan(6000); // ≈ 6500 per variant for 20% → 22%
    expect(out.required_per_variant).toBe(planned);
    expect(out.more_needed_per_variant).toBe(planned - 100);
    expect(out.winner).toBeNull();
    expect(out.significant).toBe(true); // significant, but the planned sample is not reached
    expect(out.verdict).toContain(`${planned - 100} more`);
    // the Beta posteriors Beta(21, 81), Beta(41, 61) by a normal approximation, independently
    const mean = (a: number, b: number) => a / (a + b), variance = (a: number, b: number) => (a * b) / ((a + b) ** 2 * (a + b + 1));
    const approx = normalCdf((mean(41, 61) - mean(21, 81)) / Math.sqrt(variance(41, 61) + variance(21, 81)));
    expect(Math.abs(out.variants[1].probability_to_be_best - approx)).toBeLessThan(0.005);
  });

  it("(c) identical variants: no winner, P(best) ≈ 0.5 each (min_effect 20%: planned sample reached)", async () => {
    const out = await expectAb({ id: AB.same, min_effect: 0.2 });
    expect(out.required_per_variant).toBe(Math.ceil(powerPropTestN(0.5, 0.6)));
    expect(out.more_needed_per_variant).toBe(0);
    for (const v of out.variants) expect(Math.abs(v.probability_to_be_best - 0.5)).toBeLessThanOrEqual(0.0001);
    expect(out.variants[1]).toMatchObject({ difference: 0, relative_lift: 0, p_value: 1, p_adjusted: 1 });
    expect(out).toMatchObject({ significant: false, winner: null });
    expect(out.verdict).toMatch(/^No winner: the planned sample is reached/);
    // at the default 10% the same data still need more trials
    const def = await expectAb({ id: AB.same });
    expect(def.more_needed_per_variant).toBe(Math.ceil(powerPropTestN(0.5, 0.55)) - 400);
  });

  it("(d) zero successes in both: rates 0, no test, no plan, no winner, P(best) 0.5 each", async () => {
    const out = await expectAb({ id: AB.zero });
    expect(out.variants.map((v: any) => [v.successes, v.trials, v.rate])).toEqual([[0, 300, 0], [0, 300, 0]]);
    expect(out.variants.map((v: any) => v.interval.low)).toEqual([0, 0]);
    for (const v of out.variants) expect(Math.abs(v.probability_to_be_best - 0.5)).toBeLessThanOrEqual(0.0001);
    expect(out.variants[1]).toMatchObject({ difference: 0, relative_lift: null, p_value: null, p_adjusted: null });
    expect(out).toMatchObject({ required_per_variant: null, more_needed_per_variant: null, significant: false, winner: null });
    expect(out.verdict).toMatch(/^Cannot plan the sample/);
  });

  it('(e) a campaign without variants: "Not an A/B test", one arm with P(best) 1', async () => {
    for (const [id, org] of [[K.base, ORG_A], [demo.find((c) => c.org === ORG_B && c.delivered > 0 && !demoAb.some((x) => x.id === c.id))!.id, ORG_B]] as const) {
      const out = await expectAb({ id }, org);
      expect(out.variants).toHaveLength(1);
      expect(out.variants[0]).toMatchObject({ id: null, name: "(whole campaign)", is_control: true, probability_to_be_best: 1, p_value: null });
      expect(out).toMatchObject({ significant: false, winner: null });
      expect(out.verdict).toBe("Not an A/B test: the campaign has one variant.");
    }
  });

  it("(f) three variants, the control not first by name: Holm over 2 comparisons, P(best) sums to 1", async () => {
    const out = await expectAb({ id: AB.three, min_effect: 0.2 });
    expect(out.variants.map((v: any) => [v.name, v.is_control, v.successes, v.trials])).toEqual([["Alpha", false, 260, 400], ["Beta", true, 200, 400], ["Gamma", false, 210, 400]]);
    const [alpha, , gamma] = out.variants;
    // by hand: the smaller p × 2, the larger × 1 and not below the first
    expect(alpha.p_value).toBeLessThan(gamma.p_value);
    const adjAlpha = Math.min(1, 2 * alpha.p_value), adjGamma = Math.max(adjAlpha, gamma.p_value);
    expect(Math.abs(alpha.p_adjusted - adjAlpha)).toBeLessThanOrEqual(2 * pRoundingError(alpha.p_value) + pRoundingError(adjAlpha));
    expect(Math.abs(gamma.p_adjusted - adjGamma)).toBeLessThanOrEqual(2 * pRoundingError(alpha.p_value) + pRoundingError(gamma.p_value) + pRoundingError(adjGamma));
    expect(gamma.p_adjusted).toBeGreaterThanOrEqual(0.05);
    expect(out).toMatchObject({ significant: true, more_needed_per_variant: 0, winner: { id: VAR.alpha, name: "Alpha" } });
    const total = out.variants.reduce((s: number, v: any) => s + v.probability_to_be_best, 0);
    expect(Math.abs(total - 1)).toBeLessThanOrEqual(0.00015);
    expect(alpha.probability_to_be_best).toBeGreaterThan(0.99);
    expect(out.method).toContain("Holm over the 2 comparison(s) with enough data");
  });

  it("(g) every challenger significantly worse: the control is the winner", async () => {
    const clicks = await expectAb({ id: AB.lose, min_effect: 0.2 });
    expect(clicks.variants.map((v: any) => [v.name, v.successes, v.trials])).toEqual([["A", 260, 400], ["B", 200, 400], ["C", 205, 400]]);
    expect(clicks.variants.slice(1).every((v: any) => v.p_adjusted < 0.05 && v.difference < 0)).toBe(true);
    expect(clicks).toMatchObject({ significant: true, more_needed_per_variant: 0, winner: { id: VAR.loseA, name: "A" } });
    expect(clicks.variants[0].probability_to_be_best).toBeGreaterThan(0.99);
  });

  it("(g') a lower-is-better rate (unsubscribes): the lowest rate is the best, in P(best) and in the winner", async () => {
    const unsub = await ca.call(ROLE, "get_ab_test_results", { id: AB.lose, metric: "unsubscribe_rate", min_effect: 0.6 });
    expect(unsub.variants.map((v: any) => [v.name, v.successes, v.trials])).toEqual([["A", 40, 400], ["B", 10, 400], ["C", 20, 400]]);
    // planned for 10% → 4% (lower is better: the control's rate × (1 − 0.6)), reached
    expect(unsub.required_per_variant).toBe(Math.ceil(powerPropTestN(0.1, 0.1 * (1 - 0.6))));
    expect(unsub.more_needed_per_variant).toBe(0);
    expect(unsub.variants.slice(1).every((v: any) => v.p_adjusted < 0.05 && v.difference < 0)).toBe(true); // both beat the control
    // B unsubscribes 2.5%, C 5%, the control 10%: B is the best and the winner
    const p2b = unsub.variants.map((v: any) => v.probability_to_be_best);
    expect.soft(unsub.variants[p2b.indexOf(Math.max(...p2b))].name, `highest P(best) of ${JSON.stringify(p2b)}`).toBe("B");
    expect.soft(unsub.variants[1].probability_to_be_best).toBeGreaterThan(0.9);
    expect.soft(unsub.winner).toEqual({ id: VAR.loseB, name: "B" });
    await expectAb({ id: AB.lose, metric: "unsubscribe_rate", min_effect: 0.6 });
  });

  it("(h) no variant marked as the control: the first by name is the control", async () => {
    const out = await expectAb({ id: AB.unmarked });
    expect(out.variants.map((v: any) => [v.name, v.is_control, v.successes])).toEqual([["X", true, 30], ["Y", false, 35]]);
    expect(out.variants[1]).toMatchObject({ difference: 0.05, relative_lift: roundRate(0.05 / 0.3) });
  });

  it("demo A/B campaigns of both organizations: per-variant counts equal SQL, for several rates and windows", async () => {
    let checked = 0;
    for (const c of demoAb)
      for (const metric of ["click_rate", "delivery_rate", "conversion_rate", "open_rate", "failure_rate", "unsubscribe_rate"] as const) {
        const [num, den] = REF_RATES[metric];
        if (NOT_APPLICABLE[c.channel].includes(num) || NOT_APPLICABLE[c.channel].includes(den)) {
          const r = await ca.callRaw(ROLE, "get_ab_test_results", { id: c.id, metric }, c.org);
          expect(r.isError).toBe(true);
          expect(textOf(r)).toMatch(new RegExp(`INVALID_INPUT.*${metric} does not exist on ${c.channel}`));
          continue;
        }
        for (const attribution_days of metric === "conversion_rate" ? [1, 7, 30] : [7]) {
          const out = await expectAb({ id: c.id, metric, attribution_days }, c.org);
          expect(out.variants.length).toBe(2);
          checked++;
        }
      }
    expect(checked).toBeGreaterThan(20);
  });

  it("another organization's campaign is NOT_FOUND", async () => {
    const r = await ca.callRaw(ROLE, "get_ab_test_results", { id: AB.win }, ORG_B);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/NOT_FOUND/);
    expect(textOf(r)).toContain(AB.win);
    expect(r.structuredContent).toBeUndefined();
  });
});
