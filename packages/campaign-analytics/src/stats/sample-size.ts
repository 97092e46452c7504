// Trials per variant for a two-sided two-proportion test, matching R's power.prop.test.
//
// R (stats/R/power.R, strict = FALSE, the default) defines the power at n per group as
//   Φ( (√n·|p1 − p2| − z_{1−α/2}·√((p1 + p2)(1 − (p1 + p2)/2))) / √(p1(1 − p1) + p2(1 − p2)) )
// and finds n with uniroot. Setting that equal to the target power and solving for n gives exactly
//   n = (z_{1−α/2}·√(2·p̄(1 − p̄)) + z_power·√(p1(1 − p1) + p2(1 − p2)))² / (p1 − p2)²,  p̄ = (p1 + p2)/2,
// because (p1 + p2)(1 − (p1 + p2)/2) = 2·p̄(1 − p̄). The closed form is therefore R's root without the
// root finder's tolerance (R documents "at least four significant digits").
import { normalCdf, normalQuantile } from "./normal.ts";

export interface PowerOptions { alpha?: number; power?: number }

function checkProbability(name: string, value: number): void {
  if (!(value > 0 && value < 1)) throw new RangeError(`${name} must be in (0, 1), got ${value}`);
}

const isRate = (p: number) => p > 0 && p < 1;

/** Power of the two-sided test with n trials per variant (R's power.prop.test with n given). */
export function twoProportionPower(n: number, p1: number, p2: number, opts: { alpha?: number } = {}): number {
  const alpha = opts.alpha ?? 0.05;
  checkProbability("alpha", alpha);
  if (!(n > 0)) throw new RangeError(`n must be > 0, got ${n}`);
  checkProbability("p1", p1);
  checkProbability("p2", p2);
  const zAlpha = normalQuantile(1 - alpha / 2);
  const spreadUnderH0 = Math.sqrt((p1 + p2) * (1 - (p1 + p2) / 2));
  const spreadUnderH1 = Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return normalCdf((Math.sqrt(n) * Math.abs(p1 - p2) - zAlpha * spreadUnderH0) / spreadUnderH1);
}

/** The real-valued n that power.prop.test reports (before rounding up); null when p1 = p2 or a rate is
 *  outside (0, 1). */
export function sampleSizePerVariantExact(p1: number, p2: number, opts: PowerOptions = {}): number | null {
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  checkProbability("alpha", alpha);
  checkProbability("power", power);
  // Below 50 % power the formula's two terms can cancel and the squared root would be spurious.
  if (power < 0.5) throw new RangeError(`power must be at least 0.5, got ${power}`);
  if (!isRate(p1) || !isRate(p2) || p1 === p2) return null;
  const pBar = (p1 + p2) / 2;
  const root =
    normalQuantile(1 - alpha / 2) * Math.sqrt(2 * pBar * (1 - pBar)) +
    normalQuantile(power) * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return (root * root) / ((p1 - p2) * (p1 - p2));
}

/** Trials per variant to detect p1 → p2 with a two-sided two-proportion test (R's power.prop.test),
 *  rounded UP to an integer. null when p1 = p2 or a rate is outside (0,1). */
export function sampleSizePerVariant(p1: number, p2: number, opts: PowerOptions = {}): number | null {
  const n = sampleSizePerVariantExact(p1, p2, opts);
  // The relative nudge keeps an exact integer (computed as 100.00000000000001) from becoming 101.
  return n === null ? null : Math.max(1, Math.ceil(n * (1 - 1e-12)));
}
