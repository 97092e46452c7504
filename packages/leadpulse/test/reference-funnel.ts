// A plain reference for get_conversion_funnel over touchpoint rows in memory (tiny data), written
// from the definition and not from the tool's query, so the tool's tests compare against it.
//
// Definition. Per unit (a visitor, or a session), its touchpoints in time order (ties keep the
// given order, and cannot progress anyway: every step must be strictly later than the previous):
//   - step 1 is reached at the first touchpoint matching step 1;
//   - step k+1 at the first touchpoint matching it strictly after the time step k was reached and
//     at most `windowMs` after step 1's time (exactly windowMs counts, 1 ms more does not);
//   - the unit stops at the first step it cannot reach: it is converted up to its last step.
//
// Why earliest match (greedy) for steps 2..n: take any chain the unit could have, step 1 at t1
// and later steps at s2 < s3 < … < sm, all ≤ t1 + windowMs. Greedy's g2 is the earliest match of
// step 2 after t1 within the window, so g2 ≤ s2. If g_k ≤ s_k, then s_{k+1} > s_k ≥ g_k is a
// qualifying touchpoint for step k+1, so greedy finds one and g_{k+1} ≤ s_{k+1}. By induction
// greedy reaches step m whenever any chain does: for strict ordering it never converts fewer
// steps than another choice, and the window (anchored at t1) only helps an earlier choice.
// Caveat (by definition, not by greedy): step 1 is anchored at the FIRST step-1 touchpoint. A unit
// that repeats step 1 later and completes within a window of that later time but not of the first
// is converted only up to the steps inside the first window (a test pins this).
//
// Breakdown: a unit's value is read from the touchpoint where it reached step 1 (is_new → "new" /
// "returning"); units that never reach step 1 are in no group. Times to next step are in ms:
// median = mean of the two middle values for an even count (percentile_cont(0.5)); p90 by the
// nearest-rank method, the ⌈0.9·n⌉-th smallest (percentile_disc(0.9)).
import { matchesStep, stepLabel, type FunnelStepInput } from "../src/funnel/steps.ts";

export interface FunnelRow {
  visitor_id: string;
  session_id: string;
  type: string;
  url: string;
  occurred_at: Date;
  device: string | null;
  country: string | null;
  source: string | null;
  is_new: boolean;
}

export type FunnelUnit = "visitor" | "session";
export type FunnelBreakdown = "device" | "country" | "source" | "new_vs_returning";

export interface ReferenceFunnelOptions {
  /** Default 7 days. */
  windowMs?: number;
  /** Default "visitor". */
  unit?: FunnelUnit;
  breakdown?: FunnelBreakdown;
}

export interface ReferenceStep {
  /** 1-based. */
  index: number;
  name: string;
  /** Units that reached this step. */
  entered: number;
  /** Units that reached the next step; null on the last step. */
  converted: number | null;
  /** converted / entered; null on the last step or when entered is 0. */
  step_conversion: number | null;
  /** entered / step 1's entered; null when step 1's entered is 0. */
  overall_conversion: number | null;
  /** entered − converted; null on the last step. */
  drop_off: number | null;
  /** Over units that reached this step and the next; null when there are none (and on the last step). */
  median_ms_to_next: number | null;
  p90_ms_to_next: number | null;
}

export interface ReferenceUnit {
  unit: string;
  /** The time each reached step was reached (length = steps reached, 0 when step 1 never matched). */
  reached_at: Date[];
  /** The breakdown value (from the step-1 touchpoint), when a breakdown was asked and step 1 reached. */
  group?: string | null;
}

export interface ReferenceFunnel {
  steps: ReferenceStep[];
  /** Per breakdown value (null = the value is missing), sorted by value with null last. */
  breakdown?: Array<{ value: string | null; steps: ReferenceStep[] }>;
  /** Every unit with at least one touchpoint, sorted by id. */
  units: ReferenceUnit[];
}

export const DEFAULT_WINDOW_MS = 7 * 24 * 3_600_000;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest rank: the ⌈p·n⌉-th smallest value (1-based). */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(p * s.length));
  return s[rank - 1]!;
}

function walk(rows: readonly FunnelRow[], steps: readonly FunnelStepInput[], windowMs: number): { reached_at: Date[]; first?: FunnelRow } {
  const ordered = rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.occurred_at.getTime() - b.r.occurred_at.getTime() || a.i - b.i)
    .map((x) => x.r);
  const reached_at: Date[] = [];
  let first: FunnelRow | undefined;
  let start = 0;
  let lastTime = -Infinity;
  for (const [k, step] of steps.entries()) {
    let found: FunnelRow | undefined;
    for (let i = start; i < ordered.length; i++) {
      const r = ordered[i]!;
      const t = r.occurred_at.getTime();
      if (k > 0 && t - reached_at[0]!.getTime() > windowMs) break;
      if (t > lastTime && matchesStep(step, r)) {
        found = r;
        start = i + 1;
        break;
      }
    }
    if (!found) break;
    if (k === 0) first = found;
    reached_at.push(found.occurred_at);
    lastTime = found.occurred_at.getTime();
  }
  return first ? { reached_at, first } : { reached_at };
}

function stepFigures(steps: readonly FunnelStepInput[], units: ReadonlyArray<{ reached_at: Date[] }>): ReferenceStep[] {
  const entered = steps.map((_, k) => units.filter((u) => u.reached_at.length > k).length);
  return steps.map((step, k) => {
    const last = k === steps.length - 1;
    const next = last ? null : entered[k + 1]!;
    const gaps = last
      ? []
      : units.filter((u) => u.reached_at.length > k + 1).map((u) => u.reached_at[k + 1]!.getTime() - u.reached_at[k]!.getTime());
    return {
      index: k + 1,
      name: stepLabel(step),
      entered: entered[k]!,
      converted: next,
      step_conversion: next === null || entered[k] === 0 ? null : next / entered[k]!,
      overall_conversion: entered[0] === 0 ? null : entered[k]! / entered[0]!,
      drop_off: next === null ? null : entered[k]! - next,
      median_ms_to_next: median(gaps),
      p90_ms_to_next: nearestRank(gaps, 0.9),
    };
  });
}

function groupOf(row: FunnelRow, breakdown: FunnelBreakdown): string | null {
  if (breakdown === "new_vs_returning") return row.is_new ? "new" : "returning";
  return row[breakdown];
}

export function referenceFunnel(rows: readonly FunnelRow[], steps: readonly FunnelStepInput[], opts: ReferenceFunnelOptions = {}): ReferenceFunnel {
  const windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
  const unit = opts.unit ?? "visitor";
  const byUnit = new Map<string, FunnelRow[]>();
  for (const r of rows) {
    const id = unit === "visitor" ? r.visitor_id : r.session_id;
    const list = byUnit.get(id);
    if (list) list.push(r);
    else byUnit.set(id, [r]);
  }
  const units: ReferenceUnit[] = [...byUnit.keys()].sort().map((id) => {
    const { reached_at, first } = walk(byUnit.get(id)!, steps, windowMs);
    return opts.breakdown && first ? { unit: id, reached_at, group: groupOf(first, opts.breakdown) } : { unit: id, reached_at };
  });
  const result: ReferenceFunnel = { steps: stepFigures(steps, units), units };
  if (opts.breakdown) {
    const groups = new Map<string | null, ReferenceUnit[]>();
    for (const u of units) {
      if (u.reached_at.length === 0) continue;
      const g = u.group ?? null;
      const list = groups.get(g);
      if (list) list.push(u);
      else groups.set(g, [u]);
    }
    result.breakdown = [...groups.keys()]
      .sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0))
      .map((value) => ({ value, steps: stepFigures(steps, groups.get(value)!) }));
  }
  return result;
}
