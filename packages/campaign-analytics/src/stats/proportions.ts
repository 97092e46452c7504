// Conversion rates: Wilson intervals, Newcombe's interval for a difference, the pooled two-proportion
// z-test with an explicit "not enough data" verdict, and Holm's multiple-comparison adjustment.
import { normalQuantile, normalSf } from "./normal.ts";

export interface Counts { successes: number; trials: number }
export interface Interval { low: number; high: number }

export interface ProportionTest {
  rate_a: number | null;
  rate_b: number | null;
  /** rate_b − rate_a (absolute). */
  difference: number | null;
  /** CI of the difference: Newcombe's hybrid score interval (method 10, from the two Wilson intervals). */
  interval: Interval | null;
  /** (rate_b − rate_a) / rate_a; null when rate_a = 0. */
  relative_lift: number | null;
  /** Pooled two-proportion z-test, two-sided. */
  z: number | null;
  p_value: number | null;
  /** false → "not enough data". */
  sufficient: boolean;
  /** Why not sufficient, in words a marketer understands. */
  reason: string | null;
}

/** Throws a RangeError unless successes and trials are whole numbers with 0 ≤ successes ≤ trials. */
export function assertCounts(c: Counts, label = "counts"): void {
  const { successes, trials } = c;
  if (!Number.isSafeInteger(successes) || !Number.isSafeInteger(trials) || successes < 0 || successes > trials) {
    throw new RangeError(`${label}: need whole numbers with 0 ≤ successes ≤ trials, got ${successes}/${trials}`);
  }
}

function zForConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  return normalQuantile(1 - (1 - confidence) / 2);
}

function wilsonWithZ(c: Counts, z: number): Interval {
  const n = c.trials;
  const p = c.successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // The bounds are exactly 0 and 1 at the extremes; do not let rounding leave 1e-17 or 1 − 1e-16.
  return {
    low: c.successes === 0 ? 0 : Math.max(0, centre - half),
    high: c.successes === n ? 1 : Math.min(1, centre + half),
  };
}

/** Wilson score interval; null when trials = 0. */
export function wilsonInterval(c: Counts, confidence = 0.95): Interval | null {
  assertCounts(c);
  const z = zForConfidence(confidence);
  return c.trials === 0 ? null : wilsonWithZ(c, z);
}

const oneDecimal = (x: number) => x.toFixed(1);

/** b against a. Not sufficient (z/p null) when either trials < minTrials, or any expected success/failure
 *  count under the pooled rate is < minExpected. Rates, difference and interval are given whenever both
 *  variants have trials: Newcombe's interval stays valid in small samples, the z-test does not. */
export function twoProportionTest(
  a: Counts,
  b: Counts,
  opts: { confidence?: number; minTrials?: number; minExpected?: number } = {},
): ProportionTest {
  assertCounts(a, "variant A");
  assertCounts(b, "variant B");
  const zCrit = zForConfidence(opts.confidence ?? 0.95);
  const minTrials = opts.minTrials ?? 100;
  const minExpected = opts.minExpected ?? 5;
  const rateA = a.trials > 0 ? a.successes / a.trials : null;
  const rateB = b.trials > 0 ? b.successes / b.trials : null;

  const reasons: string[] = [];
  for (const [name, c] of [["A", a], ["B", b]] as const) {
    if (c.trials === 0) reasons.push(`no trials in ${name} yet`);
    else if (c.trials < minTrials) reasons.push(`fewer than ${minTrials} trials in ${name} (${c.trials}); need more volume`);
  }
  const totalTrials = a.trials + b.trials;
  const pooled = totalTrials > 0 ? (a.successes + b.successes) / totalTrials : 0;
  if (a.trials > 0 && b.trials > 0) {
    for (const [name, c] of [["A", a], ["B", b]] as const) {
      const expectedSuccesses = pooled * c.trials;
      const expectedFailures = (1 - pooled) * c.trials;
      if (expectedSuccesses < minExpected) {
        reasons.push(`fewer than ${minExpected} expected successes in ${name} (${oneDecimal(expectedSuccesses)}); need more volume`);
      }
      if (expectedFailures < minExpected) {
        reasons.push(`fewer than ${minExpected} expected failures in ${name} (${oneDecimal(expectedFailures)}); need more volume`);
      }
    }
  }

  let difference: number | null = null;
  let interval: Interval | null = null;
  let relativeLift: number | null = null;
  if (rateA !== null && rateB !== null) {
    difference = rateB - rateA;
    // Newcombe (1998) method 10: each side of the difference combines the matching sides of the two
    // Wilson intervals in quadrature.
    const wa = wilsonWithZ(a, zCrit);
    const wb = wilsonWithZ(b, zCrit);
    interval = {
      low: difference - Math.sqrt((rateB - wb.low) ** 2 + (wa.high - rateA) ** 2),
      high: difference + Math.sqrt((wb.high - rateB) ** 2 + (rateA - wa.low) ** 2),
    };
    relativeLift = rateA > 0 ? difference / rateA : null;
  }

  let z: number | null = null;
  let pValue: number | null = null;
  const sufficient = reasons.length === 0;
  if (sufficient && difference !== null) {
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
    // se = 0 only when every trial succeeded or every one failed: both rates are equal, no evidence of a gap.
    z = se > 0 ? difference / se : 0;
    pValue = Math.min(1, 2 * normalSf(Math.abs(z)));
  }
  return {
    rate_a: rateA,
    rate_b: rateB,
    difference,
    interval,
    relative_lift: relativeLift,
    z,
    p_value: pValue,
    sufficient,
    reason: sufficient ? null : reasons.join("; "),
  };
}

/** Holm–Bonferroni adjusted p-values, same order as given; nulls stay null and do not count in m. */
export function holmAdjust(p: Array<number | null>): Array<number | null> {
  const present: Array<{ index: number; value: number }> = [];
  p.forEach((value, index) => {
    if (value === null) return;
    if (!(value >= 0 && value <= 1)) throw new RangeError(`holmAdjust: p-values must be in [0, 1], got ${value}`);
    present.push({ index, value });
  });
  present.sort((x, y) => x.value - y.value);
  const m = present.length;
  const out: Array<number | null> = p.map(() => null);
  let runningMax = 0;
  present.forEach(({ index, value }, rank) => {
    // Step-down: the k-th smallest is multiplied by (m − k + 1), then made monotone (R's cummax).
    runningMax = Math.max(runningMax, Math.min(1, (m - rank) * value));
    out[index] = runningMax;
  });
  return out;
}
