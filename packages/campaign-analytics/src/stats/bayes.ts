// Probability that each variant has the highest true conversion rate, under independent Beta
// posteriors, by deterministic quadrature: P_i = ∫ f_i(x) Π_{j≠i} F_j(x) dx.
//
// Why this layout: a posterior after 1e6 trials is ~1e-4 wide while one after 100 trials is ~0.1
// wide, and one integrand can hold both (a wide density times a near-step CDF). So each arm gets a
// window holding all but 1e-13 of its mass on each side (mean ± 12 sd, widened until the exact tail
// masses say so), the window edges split [0, 1] into segments, and every segment is integrated with
// composite 10-point Gauss–Legendre at the resolution of the narrowest window covering it (200
// panels, 2000 nodes, per window width). Outside its window an arm's density is taken as 0 and its
// CDF as 0 or 1. Everything is multiplied in log space, so sharp posteriors do not underflow.
import { logBeta, logRegularizedIncompleteBeta } from "./beta.ts";
import { assertCounts, type Counts } from "./proportions.ts";

const MAX_ARMS = 10;
const MIN_PRIOR_SHAPE = 0.1;
const TAIL_MASS = 1e-13;
const PANELS_PER_WINDOW = 200;

// Gauss–Legendre, 10 points on [−1, 1] (Abramowitz & Stegun, Table 25.4).
const GL_X = [0.1488743389816312, 0.4333953941292472, 0.6794095682990244, 0.8650633666889845, 0.9739065285171717];
const GL_W = [0.2955242247147529, 0.2692667193099963, 0.219086362515982, 0.1494513491505806, 0.0666713443086881];

interface Posterior { a: number; b: number; logB: number; lo: number; hi: number }

/** [lo, hi] holding all but TAIL_MASS of Beta(a, b) on each side. */
function massWindow(a: number, b: number): [number, number] {
  const mean = a / (a + b);
  const sd = Math.sqrt((a * b) / ((a + b) * (a + b) * (a + b + 1)));
  for (let k = 12; ; k *= 1.5) {
    const lo = Math.max(0, mean - k * sd);
    const hi = Math.min(1, mean + k * sd);
    // Skewed posteriors (few successes in many trials) have tails longer than a normal's.
    const below = lo > 0 ? Math.exp(logRegularizedIncompleteBeta(lo, a, b)) : 0;
    const above = hi < 1 ? -Math.expm1(logRegularizedIncompleteBeta(hi, a, b)) : 0;
    if (below < TAIL_MASS && above < TAIL_MASS) return [lo, hi];
  }
}

/** A stretch of x integrated on a uniform grid in u ∈ [0, 1]; next to a density pole (a shape below
 *  1 at x = 0 or 1) x = end ± length·u^m so the integrand in u is bounded. */
interface Piece { from: number; to: number; grade: "left" | "right" | null; power: number; panels: number }

function piecesOf(from: number, to: number, covering: Posterior[]): Piece[] {
  const narrowest = Math.min(...covering.map((p) => p.hi - p.lo));
  const panelsFor = (length: number, power: number) => Math.ceil((PANELS_PER_WINDOW * power * length) / narrowest);
  const leftShape = from === 0 ? Math.min(...covering.map((p) => p.a)) : 1;
  const rightShape = to === 1 ? Math.min(...covering.map((p) => p.b)) : 1;
  const powerFor = (shape: number) => Math.ceil(2 / shape); // integrand ~ u^(power·shape − 1), power·shape ≥ 2
  if (leftShape >= 1 && rightShape >= 1) return [{ from, to, grade: null, power: 1, panels: panelsFor(to - from, 1) }];
  const mid = (from + to) / 2;
  const left: Piece = leftShape < 1
    ? { from, to: mid, grade: "left", power: powerFor(leftShape), panels: panelsFor(mid - from, powerFor(leftShape)) }
    : { from, to: mid, grade: null, power: 1, panels: panelsFor(mid - from, 1) };
  const right: Piece = rightShape < 1
    ? { from: mid, to, grade: "right", power: powerFor(rightShape), panels: panelsFor(to - mid, powerFor(rightShape)) }
    : { from: mid, to, grade: null, power: 1, panels: panelsFor(to - mid, 1) };
  return [left, right];
}

/** P(variant i has the highest true rate) under independent Beta(prior.alpha + successes,
 *  prior.beta + failures) posteriors (default prior Beta(1, 1)), by deterministic numerical
 *  integration. Sums to 1 (±1e-6). 1–10 arms. */
export function probabilityToBeBest(arms: Counts[], prior: { alpha: number; beta: number } = { alpha: 1, beta: 1 }): number[] {
  if (arms.length < 1 || arms.length > MAX_ARMS) {
    throw new RangeError(`probabilityToBeBest: needs 1 to ${MAX_ARMS} arms, got ${arms.length}`);
  }
  const shapeOk = (s: number) => Number.isFinite(s) && s >= MIN_PRIOR_SHAPE;
  if (!shapeOk(prior.alpha) || !shapeOk(prior.beta)) {
    throw new RangeError(`probabilityToBeBest: prior shapes must be finite and ≥ ${MIN_PRIOR_SHAPE}`);
  }
  arms.forEach((c, i) => assertCounts(c, `arm ${i + 1}`));
  if (arms.length === 1) return [1];

  const posteriors: Posterior[] = arms.map((c) => {
    const a = prior.alpha + c.successes;
    const b = prior.beta + (c.trials - c.successes);
    const [lo, hi] = massWindow(a, b);
    return { a, b, logB: logBeta(a, b), lo, hi };
  });
  const k = posteriors.length;
  const edges = [...new Set(posteriors.flatMap((p) => [p.lo, p.hi]))].sort((x, y) => x - y);
  const totals = new Array<number>(k).fill(0);
  const logPdf = new Float64Array(k);
  const logCdf = new Float64Array(k);

  // x and 1 − x arrive separately: next to a pole at 1 the density needs 1 − x (1e-20, say), which
  // x itself cannot carry. The CDFs are taken at x, off by at most ~1e-10 right at such a pole.
  const addNode = (x: number, oneMinusX: number, weight: number) => {
    for (let j = 0; j < k; j++) {
      const p = posteriors[j]!;
      if (x < p.lo) { logPdf[j] = -Infinity; logCdf[j] = -Infinity; }
      else if (x > p.hi) { logPdf[j] = -Infinity; logCdf[j] = 0; }
      else {
        logPdf[j] = (p.a - 1) * Math.log(x) + (p.b - 1) * Math.log(oneMinusX) - p.logB;
        logCdf[j] = logRegularizedIncompleteBeta(x, p.a, p.b);
      }
    }
    for (let i = 0; i < k; i++) {
      if (logPdf[i] === -Infinity) continue;
      let logTerm = logPdf[i]!;
      for (let j = 0; j < k && logTerm > -Infinity; j++) if (j !== i) logTerm += logCdf[j]!;
      if (logTerm > -Infinity) totals[i]! += weight * Math.exp(logTerm);
    }
  };

  for (let s = 0; s + 1 < edges.length; s++) {
    const from = edges[s]!;
    const to = edges[s + 1]!;
    const covering = posteriors.filter((p) => p.lo <= from && p.hi >= to);
    if (covering.length === 0) continue; // no arm has mass here
    for (const piece of piecesOf(from, to, covering)) {
      const length = piece.to - piece.from;
      const h = 1 / piece.panels;
      for (let panel = 0; panel < piece.panels; panel++) {
        const centre = (panel + 0.5) * h;
        for (let n = 0; n < GL_X.length; n++) {
          for (const sign of [-1, 1]) {
            const u = centre + sign * GL_X[n]! * (h / 2);
            const w = GL_W[n]! * (h / 2);
            if (piece.grade === null) {
              const x = piece.from + length * u;
              addNode(x, 1 - x, w * length);
            } else {
              const offset = length * u ** piece.power;
              const jacobian = length * piece.power * u ** (piece.power - 1);
              if (piece.grade === "left") addNode(piece.from + offset, 1 - (piece.from + offset), w * jacobian);
              else addNode(1 - offset, offset, w * jacobian); // a right-graded piece always ends at 1
            }
          }
        }
      }
    }
  }
  return totals;
}
