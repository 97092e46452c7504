// A small deterministic minimiser for the smoothing parameters (no randomness, no restarts).

export interface Minimum {
  x: number[];
  value: number;
  evaluations: number;
}

/** Nelder–Mead simplex minimisation (Nelder & Mead 1965; coefficients 1, 2, ½, ½ as in Lagarias et
 *  al. 1998), from `start` with an axis-aligned initial simplex of size `step`; stops when the
 *  spread of the simplex values falls below `tolerance` (relative) or after `maxEvaluations`. */
export function nelderMead(
  f: (x: readonly number[]) => number,
  start: readonly number[],
  options: { step?: number; tolerance?: number; maxEvaluations?: number } = {},
): Minimum {
  const { step = 0.5, tolerance = 1e-10, maxEvaluations = 600 } = options;
  const dim = start.length;
  let evaluations = 0;
  const evaluate = (x: number[]) => {
    evaluations++;
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  let simplex = [start.slice()];
  for (let i = 0; i < dim; i++) simplex.push(start.map((v, j) => (j === i ? v + step : v)));
  let values = simplex.map(evaluate);
  while (evaluations < maxEvaluations) {
    const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
    simplex = order.map((i) => simplex[i]!);
    values = order.map((i) => values[i]!);
    const best = values[0]!;
    const worst = values[dim]!;
    if (Math.abs(worst - best) <= tolerance * (Math.abs(best) + tolerance)) break;
    const centroid = new Array<number>(dim).fill(0);
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) centroid[j]! += simplex[i]![j]! / dim;
    const along = (t: number) => centroid.map((c, j) => c + t * (simplex[dim]![j]! - c));
    const reflected = along(-1);
    const fr = evaluate(reflected);
    if (fr < best) {
      const expanded = along(-2);
      const fe = evaluate(expanded);
      [simplex[dim], values[dim]] = fe < fr ? [expanded, fe] : [reflected, fr];
    } else if (fr < values[dim - 1]!) {
      [simplex[dim], values[dim]] = [reflected, fr];
    } else {
      const contracted = fr < worst ? along(-0.5) : along(0.5);
      const fc = evaluate(contracted);
      if (fc < Math.min(fr, worst)) {
        [simplex[dim], values[dim]] = [contracted, fc];
      } else {
        for (let i = 1; i <= dim; i++) {
          simplex[i] = simplex[i]!.map((v, j) => simplex[0]![j]! + 0.5 * (v - simplex[0]![j]!));
          values[i] = evaluate(simplex[i]!);
        }
      }
    }
  }
  const bestIndex = values.indexOf(Math.min(...values));
  return { x: simplex[bestIndex]!, value: values[bestIndex]!, evaluations };
}
