// The standard normal distribution: density, distribution function (both tails with full relative
// accuracy, so tiny p-values stay meaningful), quantile, and the chi-square(1) survival function.

const SQRT_2PI = Math.sqrt(2 * Math.PI);

export function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / SQRT_2PI;
}

/** Q(x) = 1 − Φ(x) for x ≥ 0, to about 1e-15 relative. */
function upperTail(x: number): number {
  if (x === Infinity) return 0;
  if (x < 2.5) {
    // Marsaglia (2004), J. Stat. Software 11(4): Φ(x) = 1/2 + φ(x)·(x + x³/3 + x⁵/(3·5) + …).
    // Every term is positive, so the sum has no cancellation; below 2.5 the final 1/2 − … loses
    // at most two digits (Q(2.5) ≈ 0.006).
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let k = 1; term > 1e-17 * sum; k++) {
      term *= x2 / (2 * k + 1);
      sum += term;
    }
    return 0.5 - normalPdf(x) * sum;
  }
  // Laplace's continued fraction for the Mills ratio, Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))),
  // evaluated bottom-up; 120 levels reach double precision from x = 2.5 on (fewer are needed further out).
  let f = x;
  for (let k = 120; k >= 1; k--) f = x + k / f;
  return normalPdf(x) / f;
}

/** Φ(z), the standard normal distribution function. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return z >= 0 ? 1 - upperTail(z) : upperTail(-z);
}

/** 1 − Φ(z), computed without cancellation for large z. */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return z >= 0 ? upperTail(z) : 1 - upperTail(-z);
}

// Acklam's rational approximation (relative error < 1.15e-9), refined below by one Halley step
// (Newton's step with a curvature term) against the accurate Φ above: error well under 1e-12.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

function acklamLowerHalf(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) /
    (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
}

/** z with Φ(z) = p. p = 0 → −∞, p = 1 → +∞; p outside [0, 1] is a RangeError. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  // Work in the lower half, where p itself (not 1 − p) carries the precision; 1 − p is exact for p ≥ 0.5.
  if (p > 0.5) return -normalQuantile(1 - p);
  let x = acklamLowerHalf(p);
  const density = normalPdf(x);
  if (density > 0) {
    const u = (normalCdf(x) - p) / density;
    x = x - u / (1 + (x * u) / 2);
  }
  return x;
}

/** P(χ²₁ > x) = 2·Q(√x): the p-value of a squared standard normal statistic. */
export function chiSquare1Sf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  return Math.min(1, 2 * upperTail(Math.sqrt(x)));
}
