// The statistics library against published reference values and independent computations.
// Every expected number says where it comes from; nothing here is the code's own output read back.
import { describe, expect, it } from "vitest";
import {
  betaPdf,
  chiSquare1Sf,
  holmAdjust,
  logBeta,
  normalCdf,
  normalQuantile,
  normalSf,
  probabilityToBeBest,
  regularizedIncompleteBeta,
  sampleSizePerVariant,
  sampleSizePerVariantExact,
  theilSen,
  twoProportionPower,
  twoProportionTest,
  wilsonInterval,
  type Counts,
} from "../src/stats/index.ts";

const counts = (successes: number, trials: number): Counts => ({ successes, trials });

// ---------------------------------------------------------------------------------------------
// Independent references written for this test (not imported from the code under test).

/** log Γ by shifting x up to ≥ 30 and Stirling's series there (a different route from the code's
 *  Lanczos/Stirling split). */
function refLogGamma(x: number): number {
  let shift = 0;
  while (x < 30) { shift += Math.log(x); x += 1; }
  const r = 1 / x;
  const r2 = r * r;
  const series = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 / 1188))));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series - shift;
}
const refLogBeta = (a: number, b: number) => refLogGamma(a) + refLogGamma(b) - refLogGamma(a + b);

/** Evan Miller, "Formulas for Bayesian A/B Testing" (2015): for integer α_B,
 *  P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A+i, β_A+β_B) / ((β_B+i)·B(1+i, β_B)·B(α_A, β_A)), summed in log space. */
function millerProbBBeatsA(aA: number, bA: number, aB: number, bB: number): number {
  const logs: number[] = [];
  for (let i = 0; i < aB; i++) {
    logs.push(refLogBeta(aA + i, bA + bB) - Math.log(bB + i) - refLogBeta(1 + i, bB) - refLogBeta(aA, bA));
  }
  const max = logs.reduce((m, l) => Math.max(m, l), -Infinity);
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - max);
  return Math.exp(max) * sum;
}
/** Sum over the smaller α (P(B > A) = 1 − P(A > B) for continuous posteriors), uniform prior. */
function millerReference(a: Counts, b: Counts): number {
  const aA = 1 + a.successes, bA = 1 + a.trials - a.successes;
  const aB = 1 + b.successes, bB = 1 + b.trials - b.successes;
  return aB <= aA ? millerProbBBeatsA(aA, bA, aB, bB) : 1 - millerProbBBeatsA(aB, bB, aA, bA);
}

/** Deterministic pseudo-random numbers (Park–Miller), so test data never depend on Math.random. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

// ---------------------------------------------------------------------------------------------

describe("normal distribution", () => {
  it("matches Abramowitz & Stegun (1964) Table 26.1 for Φ", () => {
    expect(normalCdf(1)).toBeCloseTo(0.841344746068543, 14); // P(1.00) = 0.84134 47460 68543
    expect(normalCdf(1.96)).toBeCloseTo(0.97500210485178, 14); // P(1.96) = 0.97500 21048 51780
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-1.96) + normalCdf(1.96)).toBeCloseTo(1, 15);
  });

  it("keeps full relative accuracy deep in the tails", () => {
    // Q(x) = erfc(x/√2)/2, reference digits from mpmath 1.3 at 30 significant digits.
    const tails: Array<[number, number]> = [[5, 2.86651571879193911673752e-7], [10, 7.61985302416052606597334e-24], [20, 2.75362411860623369507562e-89], [37, 5.72557122252457682268319e-300]];
    for (const [x, q] of tails) {
      expect(Math.abs(normalCdf(-x) / q - 1)).toBeLessThan(1e-12);
      expect(Math.abs(normalSf(x) / q - 1)).toBeLessThan(1e-12);
    }
  });

  it("inverts Φ to better than 1e-9 (A&S Table 26.5 percentage points, more digits from mpmath)", () => {
    const points: Array<[number, number]> = [
      [0.975, 1.95996398454005423552], // A&S: 1.959963985
      [0.995, 2.57582930354890076098], // A&S: 2.575829304
      [0.9995, 3.29052673149189479322], // A&S: 3.290526731
      [0.8, 0.84162123357291420518],
      [0.9, 1.28155156554460046697],
      [0.999999, 4.75342430882289894819],
      [1e-10, -6.36134090240405620470],
      [1e-300, -37.0470962993611992372],
    ];
    for (const [p, z] of points) expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-9);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    // Round trip over the whole range, relative in the lower tail where p carries the precision.
    for (let e = -200; e < 0; e += 7.3) expect(Math.abs(normalCdf(normalQuantile(10 ** e)) / 10 ** e - 1)).toBeLessThan(1e-12);
  });

  it("gives the chi-square(1) tail: P(χ²₁ > 3.841458820694124) = 0.05 (3.8415 is the familiar 5 % critical value)", () => {
    expect(chiSquare1Sf(3.841458820694124)).toBeCloseTo(0.05, 13);
    expect(chiSquare1Sf(0)).toBe(1);
  });
});

describe("beta functions", () => {
  it("logBeta agrees with closed forms, including the large-argument branch", () => {
    expect(logBeta(0.5, 0.5)).toBeCloseTo(Math.log(Math.PI), 14); // B(½,½) = π
    expect(logBeta(3, 4)).toBeCloseTo(Math.log(1 / 60), 14); // 2!·3!/6!
    const logFactorial = (n: number) => { let s = 0; for (let k = 2; k <= n; k++) s += Math.log(k); return s; };
    for (const [a, b] of [[10, 12], [11, 30], [25, 40]] as const) {
      // B(a, b) = (a−1)!(b−1)!/(a+b−1)! for whole numbers
      expect(logBeta(a, b)).toBeCloseTo(logFactorial(a - 1) + logFactorial(b - 1) - logFactorial(a + b - 1), 12);
    }
    expect(logBeta(1, 1e7)).toBeCloseTo(-Math.log(1e7), 12); // B(1,b) = 1/b
    expect(logBeta(2, 1e7)).toBeCloseTo(-Math.log(1e7 * (1e7 + 1)), 12); // B(2,b) = 1/(b(b+1))
    // B(a+1, b) = B(a, b)·a/(a+b): relates the both-large branch to itself at shifted arguments.
    const [a, b] = [123456.5, 4567890.25];
    expect(logBeta(a + 1, b) - logBeta(a, b)).toBeCloseTo(Math.log(a / (a + b)), 9);
  });

  it("betaPdf integrates to 1 and handles the ends", () => {
    let total = 0;
    for (let i = 0; i < 100000; i++) total += betaPdf((i + 0.5) / 100000, 3.5, 7.25) / 100000;
    expect(total).toBeCloseTo(1, 8);
    expect(betaPdf(0, 1, 5)).toBeCloseTo(5, 12);
    expect(betaPdf(0, 2, 5)).toBe(0);
    expect(betaPdf(1.2, 2, 5)).toBe(0);
  });

  it("regularizedIncompleteBeta matches closed forms and binomial tails", () => {
    expect(regularizedIncompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 14);
    expect(regularizedIncompleteBeta(0.3, 4, 1)).toBeCloseTo(0.3 ** 4, 14); // I_x(a,1) = x^a
    expect(regularizedIncompleteBeta(0.3, 1, 6)).toBeCloseTo(1 - 0.7 ** 6, 14); // I_x(1,b) = 1 − (1−x)^b
    expect(regularizedIncompleteBeta(0.5, 1e7, 1e7)).toBeCloseTo(0.5, 9); // symmetry at a = b = 1e7
    // I_p(k, n−k+1) = P(Binomial(n, p) ≥ k); the binomial sum is computed here term by term.
    for (const [n, p, k] of [[50, 0.3, 20], [2000, 0.01, 30], [2000, 0.5, 950]] as const) {
      let tail = 0;
      for (let j = k; j <= n; j++) {
        tail += Math.exp(refLogGamma(n + 1) - refLogGamma(j + 1) - refLogGamma(n - j + 1) + j * Math.log(p) + (n - j) * Math.log1p(-p));
      }
      expect(regularizedIncompleteBeta(p, k, n - k + 1)).toBeCloseTo(tail, 11);
    }
  });
});

describe("Wilson interval", () => {
  // Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
  // methods", Stat Med 17:857–872, Table II, method 3 (score interval without continuity correction).
  const table: Array<[number, number, number, number]> = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [x, n, low, high] of table) {
    it(`${x}/${n} → ${low} to ${high}`, () => {
      const w = wilsonInterval(counts(x, n))!;
      expect(w.low).toBeCloseTo(low, 4);
      expect(w.high).toBeCloseTo(high, 4);
    });
  }

  it("is exact at the ends, mirrors itself, and is null without trials", () => {
    expect(wilsonInterval(counts(0, 20))!.low).toBe(0);
    const full = wilsonInterval(counts(20, 20))!;
    expect(full.high).toBe(1);
    expect(full.low).toBeCloseTo(1 - 0.1611, 4); // mirror of 0/20 above
    expect(wilsonInterval(counts(0, 0))).toBeNull();
    expect(() => wilsonInterval(counts(5, 4))).toThrow(RangeError);
  });
});

describe("two-proportion test", () => {
  // Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
  // comparison of eleven methods", Stat Med 17:873–890, Table II, method 10 (hybrid score from Wilson
  // intervals). Newcombe's difference is p1 − p2; ours is rate_b − rate_a, so b is his first sample.
  const table2: Array<[number, number, number, number, number, number]> = [
    [56, 70, 48, 80, 0.0524, 0.3339], // (a)
    [9, 10, 3, 10, 0.1705, 0.809], // (b)
    [6, 7, 2, 7, 0.0582, 0.8062], // (c)
    [5, 56, 0, 29, -0.0381, 0.1926], // (d)
    [0, 10, 0, 20, -0.1611, 0.2775], // (e)
    [0, 10, 0, 10, -0.2775, 0.2775], // (f)
    [10, 10, 0, 20, 0.6791, 1.0], // (g)
    [10, 10, 0, 10, 0.6075, 1.0], // (h)
  ];
  for (const [x1, n1, x2, n2, low, high] of table2) {
    it(`Newcombe method 10: ${x1}/${n1} − ${x2}/${n2} → ${low} to ${high}`, () => {
      const t = twoProportionTest(counts(x2, n2), counts(x1, n1));
      expect(t.difference).toBeCloseTo(x1 / n1 - x2 / n2, 14);
      expect(t.interval!.low).toBeCloseTo(low, 4);
      expect(t.interval!.high).toBeCloseTo(high, 4);
      expect(t.sufficient).toBe(false); // all of these are far below 100 trials
      expect(t.z).toBeNull();
      expect(t.p_value).toBeNull();
    });
  }

  it("matches a worked pooled z-test: 118/3303 vs 80/3303 → z = 2.74195, two-sided p = .00611", () => {
    // usablestats.com "Ask Stats" question 866, worked by hand with the pooled standard error.
    const t = twoProportionTest(counts(80, 3303), counts(118, 3303));
    expect(t.sufficient).toBe(true);
    expect(t.z!).toBeCloseTo(2.74195, 5);
    expect(t.p_value!).toBeCloseTo(0.00611, 5);
    expect(t.relative_lift!).toBeCloseTo(118 / 80 - 1, 14);
  });

  it("matches a second worked example: 9/31 vs 8/30 → z = 0.20601333, p = 0.8368", () => {
    // wizedu.com question 363496 (Excel 2·NORMSDIST), a sample below our volume thresholds.
    const t = twoProportionTest(counts(8, 30), counts(9, 31), { minTrials: 0, minExpected: 0 });
    expect(t.z!).toBeCloseTo(0.20601333, 8);
    expect(t.p_value!).toBeCloseTo(0.8368, 4);
  });

  it("reproduces R's prop.test(correct = FALSE): X-squared = z², same p-value", () => {
    // R output quoted at influentialpoints.com/notes/n9rmf3.htm: "X-squared = 6.1026, df = 1,
    // p-value = 0.01350 ... prop 1 0.4392523 prop 2 0.3046875"; those proportions (and that X²) are
    // 94/214 and 39/128.
    const t = twoProportionTest(counts(39, 128), counts(94, 214));
    expect(t.z! ** 2).toBeCloseTo(6.1026, 4);
    expect(t.p_value!).toBeCloseTo(0.0135, 5);
    expect(chiSquare1Sf(t.z! ** 2)).toBeCloseTo(t.p_value!, 14);
    expect(t.rate_b!).toBeCloseTo(0.4392523, 7);
    expect(t.rate_a!).toBeCloseTo(0.3046875, 7);
  });

  it("identical counts: difference 0, z 0, p exactly 1", () => {
    const t = twoProportionTest(counts(120, 1000), counts(120, 1000));
    expect(t).toMatchObject({ difference: 0, z: 0, p_value: 1, relative_lift: 0, sufficient: true, reason: null });
    expect(t.interval!.low).toBeCloseTo(-t.interval!.high, 14);
  });

  it("zero successes in A: lift is null, the test still runs, nothing is NaN", () => {
    const t = twoProportionTest(counts(0, 1000), counts(30, 1000));
    expect(t.rate_a).toBe(0);
    expect(t.relative_lift).toBeNull();
    expect(t.sufficient).toBe(true); // pooled 1.5 % → 15 expected successes in each
    // Hand computation: p̄ = 0.015, se = √(0.015·0.985·(2/1000)), z = 0.03/se.
    expect(t.z!).toBeCloseTo(0.03 / Math.sqrt(0.015 * 0.985 * 0.002), 12);
    expect(t.interval!.low).toBeGreaterThan(0);
  });

  it("zero successes in both, or all successes in both: not enough data, and finite when forced", () => {
    for (const c of [counts(0, 1000), counts(1000, 1000)]) {
      const t = twoProportionTest(c, c);
      expect(t.sufficient).toBe(false);
      expect(t.difference).toBe(0);
      expect(Number.isFinite(t.interval!.low) && Number.isFinite(t.interval!.high)).toBe(true);
      const forced = twoProportionTest(c, c, { minExpected: 0 });
      expect(forced).toMatchObject({ z: 0, p_value: 1, sufficient: true });
    }
    expect(twoProportionTest(counts(0, 1000), counts(0, 1000)).reason).toContain("fewer than 5 expected successes in A (0.0)");
    expect(twoProportionTest(counts(1000, 1000), counts(1000, 1000)).reason).toContain("fewer than 5 expected failures in B (0.0)");
  });

  it("explains thin data in words: low volume and low expected counts", () => {
    // Pooled rate 15/1200 = 1.25 %, so B (200 trials) expects 2.5 successes.
    const t = twoProportionTest(counts(13, 1000), counts(2, 200));
    expect(t.sufficient).toBe(false);
    expect(t.reason).toBe("fewer than 5 expected successes in B (2.5); need more volume");
    expect(t.rate_b).toBe(0.01);
    const small = twoProportionTest(counts(20, 40), counts(25, 60));
    expect(small.reason).toBe("fewer than 100 trials in A (40); need more volume; fewer than 100 trials in B (60); need more volume");
  });

  it("trials = 0: no rate, no difference, no interval, a reason", () => {
    const t = twoProportionTest(counts(0, 0), counts(10, 500));
    expect(t).toMatchObject({ rate_a: null, rate_b: 0.02, difference: null, interval: null, relative_lift: null, z: null, p_value: null, sufficient: false });
    expect(t.reason).toBe("no trials in A yet");
  });

  it("rejects impossible counts", () => {
    expect(() => twoProportionTest(counts(-1, 10), counts(1, 10))).toThrow(RangeError);
    expect(() => twoProportionTest(counts(1.5, 10), counts(1, 10))).toThrow(RangeError);
    expect(() => twoProportionTest(counts(1, 10), counts(11, 10))).toThrow(RangeError);
  });
});

describe("Holm adjustment", () => {
  it("matches R: p.adjust(c(0.01, 0.04, 0.03, 0.005), 'holm') = 0.03 0.06 0.06 0.02", () => {
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]) as number[];
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(adjusted[i]).toBeCloseTo(v, 15));
  });

  it("keeps nulls in place without counting them, and caps at 1", () => {
    const adjusted = holmAdjust([null, 0.01, null, 0.04, 0.03, 0.005]);
    expect(adjusted[0]).toBeNull();
    expect(adjusted[2]).toBeNull();
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(adjusted[[1, 3, 4, 5][i]!]).toBeCloseTo(v, 15));
    expect(holmAdjust([0.5, 0.6])).toEqual([1, 1]); // 2·0.5 = 1; 0.6 raised to the running max
    expect(holmAdjust([null, null])).toEqual([null, null]);
    expect(() => holmAdjust([1.2])).toThrow(RangeError);
  });
});

describe("sample size (R power.prop.test)", () => {
  // R's documented examples (stats/R/power.R, examples of ?power.prop.test):
  //   power.prop.test(n = 50, p1 = .50, p2 = .75)      ## => power = 0.740
  //   power.prop.test(p1 = .50, p2 = .75, power = .90) ## =>     n = 76.7
  //   power.prop.test(n = 50, p1 = .5, power = .90)    ## =>    p2 = 0.8026
  //   power.prop.test(n = 50, p1 = .5, p2 = 0.9, power = .90, sig.level=NULL) ## => sig.l = 0.00131
  //   power.prop.test(p1 = .5, p2 = 0.501, sig.level=.001, power=0.90)        ## => n = 10451937
  //   power.prop.test(p1=0.90, p2= 1.0, power=0.8)     ##-> n = 73.37
  it("n for the documented examples", () => {
    expect(sampleSizePerVariantExact(0.5, 0.75, { power: 0.9 })!).toBeCloseTo(76.7, 1);
    expect(sampleSizePerVariant(0.5, 0.75, { power: 0.9 })).toBe(77);
    expect(Math.abs(sampleSizePerVariantExact(0.5, 0.501, { alpha: 0.001, power: 0.9 })! - 10451937)).toBeLessThan(1);
    expect(sampleSizePerVariant(0.5, 0.501, { alpha: 0.001, power: 0.9 })).toBe(10451937);
    // p2 = 1 is outside this API's (0, 1); just inside it, the formula reaches R's 73.37.
    expect(sampleSizePerVariantExact(0.9, 1 - 1e-12, { power: 0.8 })!).toBeCloseTo(73.37, 2);
  });

  it("power for the documented examples, and the closed form is the power function's root", () => {
    expect(twoProportionPower(50, 0.5, 0.75)).toBeCloseTo(0.74, 3);
    expect(twoProportionPower(50, 0.5, 0.8026)).toBeCloseTo(0.9, 3);
    expect(twoProportionPower(50, 0.5, 0.9, { alpha: 0.00131 })).toBeCloseTo(0.9, 3);
    for (const [p1, p2, alpha, power] of [[0.02, 0.025, 0.05, 0.8], [0.3, 0.2, 0.01, 0.95], [0.5, 0.501, 0.001, 0.9]] as const) {
      const n = sampleSizePerVariantExact(p1, p2, { alpha, power })!;
      expect(twoProportionPower(n, p1, p2, { alpha })).toBeCloseTo(power, 10);
    }
  });

  it("is null when there is nothing to detect or a rate is not a rate", () => {
    expect(sampleSizePerVariant(0.1, 0.1)).toBeNull();
    expect(sampleSizePerVariant(0, 0.1)).toBeNull();
    expect(sampleSizePerVariant(0.1, 1)).toBeNull();
    expect(sampleSizePerVariant(Number.NaN, 0.1)).toBeNull();
    expect(() => sampleSizePerVariant(0.1, 0.2, { power: 1 })).toThrow(RangeError);
  });
});

describe("probability to be best", () => {
  const pairs: Array<[Counts, Counts]> = [
    [counts(10, 100), counts(15, 100)],
    [counts(0, 10), counts(0, 20)],
    [counts(120, 1000), counts(95, 1000)],
    [counts(5, 5), counts(0, 5)],
    [counts(1, 1_000_000), counts(3, 1_000_000)], // rate 0.000001: very skewed posteriors
    [counts(1000, 1_000_000), counts(1100, 1_000_000)], // 0.1 %, 1e6 trials each
    [counts(500_000, 1_000_000), counts(500_800, 1_000_000)], // 50 %, 1e6 trials each
    [counts(1000, 1_000_000), counts(500_000, 1_000_000)], // 0.1 % vs 50 %
    [counts(30, 100), counts(300_400, 1_000_000)], // a wide posterior against a sharp one
  ];
  for (const [a, b] of pairs) {
    it(`two arms ${a.successes}/${a.trials} vs ${b.successes}/${b.trials} match Evan Miller's closed form`, () => {
      const [pa, pb] = probabilityToBeBest([a, b]) as [number, number];
      expect(Math.abs(pb - millerReference(a, b))).toBeLessThan(1e-6);
      expect(Math.abs(pa + pb - 1)).toBeLessThan(1e-6);
    });
  }

  it("a prior enters as pseudo-counts (Beta(2, 3) prior against the closed form)", () => {
    const [, pb] = probabilityToBeBest([counts(7, 40), counts(12, 45)], { alpha: 2, beta: 3 }) as [number, number];
    expect(Math.abs(pb - millerProbBBeatsA(2 + 7, 3 + 33, 2 + 12, 3 + 33))).toBeLessThan(1e-6);
  });

  it("identical arms split evenly; one arm is certain", () => {
    for (const k of [2, 3, 10]) {
      const p = probabilityToBeBest(Array.from({ length: k }, () => counts(40, 2000)));
      for (const v of p) expect(Math.abs(v - 1 / k)).toBeLessThan(1e-9);
    }
    expect(probabilityToBeBest([counts(3, 10)])).toEqual([1]);
  });

  it("three and ten arms sum to 1; a hopeless third arm leaves the two-arm answer unchanged", () => {
    const three = probabilityToBeBest([counts(100, 1000), counts(110, 1000), counts(5, 1000)]);
    expect(Math.abs(three.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    expect(Math.abs(three[1]! - millerReference(counts(100, 1000), counts(110, 1000)))).toBeLessThan(1e-6);
    const rand = lcg(7);
    const ten = probabilityToBeBest(Array.from({ length: 10 }, (_, i) => {
      const trials = 10 ** (2 + (i % 5));
      return counts(Math.floor(trials * (0.001 + 0.05 * rand())), trials);
    }));
    expect(Math.abs(ten.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
  });

  it("a prior below 1 (density poles at 0 or 1) still matches the closed form", () => {
    // Miller's sum needs only α_B to be whole. Prior Beta(1, ½) puts a pole at 1 on an arm with no
    // failures; prior Beta(½, 1) puts one at 0 on an arm with no successes, handled by the mirror
    // p → 1 − p (which swaps the shapes and the order of the arms).
    const [, pb1] = probabilityToBeBest([counts(3, 5), counts(5, 5)], { alpha: 1, beta: 0.5 }) as [number, number];
    expect(Math.abs(pb1 - millerProbBBeatsA(1 + 3, 0.5 + 2, 1 + 5, 0.5 + 0))).toBeLessThan(1e-6);
    const [, pb2] = probabilityToBeBest([counts(0, 50), counts(1, 50)], { alpha: 0.5, beta: 1 }) as [number, number];
    // P(p_B > p_A) = P(1 − p_A > 1 − p_B), 1 − p_A ~ Beta(51, ½), 1 − p_B ~ Beta(50, 1.5).
    expect(Math.abs(pb2 - millerProbBBeatsA(50, 1.5, 51, 0.5))).toBeLessThan(1e-6);
  });

  it("handles a prior below 1 (density pole at 0) and is deterministic", () => {
    const arms = [counts(0, 50), counts(1, 50), counts(0, 80)];
    const p = probabilityToBeBest(arms, { alpha: 0.5, beta: 0.5 });
    expect(Math.abs(p.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
    expect(probabilityToBeBest(arms, { alpha: 0.5, beta: 0.5 })).toEqual(p);
    expect(() => probabilityToBeBest([])).toThrow(RangeError);
    expect(() => probabilityToBeBest(Array.from({ length: 11 }, () => counts(1, 10)))).toThrow(RangeError);
  });
});

describe("Theil–Sen trend", () => {
  /** The definition, by brute force: all pairwise slopes with distinct x, their median. */
  function bruteForce(points: Array<{ x: number; y: number }>) {
    const slopes: number[] = [];
    for (const p of points) for (const q of points) if (q.x > p.x) slopes.push((q.y - p.y) / (q.x - p.x));
    slopes.sort((a, b) => a - b);
    const med = (v: number[]) => (v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2);
    const slope = med(slopes);
    return { slopes, slope, intercept: med(points.map((p) => p.y - slope * p.x).sort((a, b) => a - b)) };
  }
  /** Kendall's S for residuals y − βx: Σ over pairs with distinct x of sign(Δx)·sign(Δresidual). */
  function kendallS(points: Array<{ x: number; y: number }>, beta: number): number {
    let s = 0;
    for (const p of points) for (const q of points) if (q.x > p.x) s += Math.sign(q.y - beta * q.x - (p.y - beta * p.x));
    return s;
  }

  it("equals the brute-force median slope on several datasets, and its interval inverts Kendall's test", () => {
    const rand = lcg(20240601);
    for (const n of [5, 12, 31, 90]) {
      const points = Array.from({ length: n }, (_, i) => ({ x: i + Math.floor(rand() * 3), y: 50 + 1.5 * i + 20 * (rand() - 0.5) }));
      const r = theilSen(points)!;
      const ref = bruteForce(points);
      expect(r.slope).toBe(ref.slope);
      expect(r.intercept).toBe(ref.intercept);
      // Sen's interval: β is inside iff |S(β)| ≤ z·√Var(S). Just inside each end it is accepted,
      // just outside it is rejected (unless the interval is unbounded).
      const ties = new Map<number, number>();
      for (const p of points) ties.set(p.x, (ties.get(p.x) ?? 0) + 1);
      const variance = (n * (n - 1) * (2 * n + 5) - [...ties.values()].reduce((s, t) => s + t * (t - 1) * (2 * t + 5), 0)) / 18;
      const c = 1.959963984540054 * Math.sqrt(variance);
      const distinct = [...new Set(ref.slopes)];
      // A β between v and its distinct neighbour (or 1 beyond v when v is the extreme slope).
      const justBelow = (v: number) => { const b = distinct.filter((s) => s < v).at(-1); return b === undefined ? v - 1 : (v + b) / 2; };
      const justAbove = (v: number) => { const a = distinct.find((s) => s > v); return a === undefined ? v + 1 : (v + a) / 2; };
      expect(Math.abs(kendallS(points, justAbove(r.low)))).toBeLessThanOrEqual(c);
      expect(Math.abs(kendallS(points, justBelow(r.high)))).toBeLessThanOrEqual(c);
      if (r.bounded) {
        expect(Math.abs(kendallS(points, justBelow(r.low)))).toBeGreaterThan(c);
        expect(Math.abs(kendallS(points, justAbove(r.high)))).toBeGreaterThan(c);
      }
    }
  });

  it("an exactly linear series gives its slope, and the interval collapses onto it", () => {
    const r = theilSen(Array.from({ length: 20 }, (_, x) => ({ x, y: 3 * x - 7 })))!;
    expect(r).toMatchObject({ slope: 3, intercept: -7, low: 3, high: 3, n: 20, pairs: 190, bounded: true });
  });

  it("ignores an outlier that drags least squares", () => {
    const points = Array.from({ length: 20 }, (_, i) => ({ x: i + 1, y: 2 * (i + 1) + 1 }));
    points[19]!.y = 500; // a spike on the last day, where it has most leverage
    const r = theilSen(points)!;
    expect(r.slope).toBe(2);
    expect(r.intercept).toBe(1);
    const meanX = 10.5, meanY = points.reduce((s, p) => s + p.y, 0) / 20;
    const ols = points.reduce((s, p) => s + (p.x - meanX) * (p.y - meanY), 0) / points.reduce((s, p) => s + (p.x - meanX) ** 2, 0);
    expect(Math.abs(ols - 2)).toBeGreaterThan(1); // least squares is pulled far off
  });

  it("n = 10: the interval's ranks, worked by hand", () => {
    // x = 1..10, y = 3 5 4 8 7 10 9 13 12 16. The 45 pairwise slopes, sorted:
    //  1-4: −1 −1 −1 −1 | 5-10: 1/3 1/2 2/3 2/3 4/5 4/5 | 11-15: 1 1 1 1 1 | 16: 9/8 | 17-20: 5/4 ×4
    //  21-23: 4/3 ×3 | 24: 11/8 | 25: 7/5 | 26: 10/7 | 27: 13/9 | 28-33: 3/2 ×6 | 34: 5/3 | 35: 12/7
    //  36-37: 9/5 ×2 | 38-40: 2 ×3 | 41: 7/3 | 42: 3 | 43-45: 4 ×3.
    // Median = 23rd = 4/3. No ties in x: Var(S) = 10·9·25/18 = 125; C = 1.959964·√125 = 21.913.
    // (45 − 21.913)/2 = 11.543 → lower limit is the 12th slope = 1; (45 + 21.913)/2 = 33.457 → upper is
    // the 34th = 5/3. Intercept = median(y − 4/3·x) = 11/6. (scipy.stats.theilslopes gives the same interval.)
    const y = [3, 5, 4, 8, 7, 10, 9, 13, 12, 16];
    const r = theilSen(y.map((v, i) => ({ x: i + 1, y: v })))!;
    expect(r.slope).toBeCloseTo(4 / 3, 14);
    expect(r.low).toBe(1);
    expect(r.high).toBeCloseTo(5 / 3, 14);
    expect(r.intercept).toBeCloseTo(11 / 6, 14);
    expect(r.pairs).toBe(45);
  });

  it("ties in x: tied pairs carry no slope and shrink Var(S)", () => {
    // Three points on each of x = 1, 2, 3, 4 (say three campaigns a week): 66 − 4·3 = 54 slopes.
    // Sorted: −1 −1 0 1/2 | 5-8: 1 ×4 | 9-11: 3/2 ×3 | 12: 5/3 | 13-21: 2 ×9 | 22-23: 7/3 ×2 | 24-27: 5/2 ×4
    //  28: 8/3 | 29-37: 3 ×9 | 38: 10/3 | 39-41: 7/2 ×3 | 42: 11/3 | 43-50: 4 ×8 | 51-52: 5 ×2 | 53-54: 6 ×2.
    // Var(S) = (12·11·29 − 4·(3·2·11))/18 = 3564/18 = 198; C = 1.959964·√198 = 27.579.
    // (54 − 27.579)/2 = 13.21 → 14th slope = 2; (54 + 27.579)/2 = 40.79 → 41st slope = 7/2.
    // Without the tie correction (Var 212.67) the upper limit would be the 42nd, 11/3.
    // Median = (27th + 28th)/2 = (5/2 + 8/3)/2 = 31/12.
    const x = [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4];
    const y = [5, 7, 6, 8, 11, 9, 10, 13, 12, 12, 16, 14];
    const r = theilSen(x.map((v, i) => ({ x: v, y: y[i]! })))!;
    expect(r).toMatchObject({ pairs: 54, low: 2, high: 3.5, bounded: true, n: 12 });
    expect(r.slope).toBeCloseTo(31 / 12, 14);
  });

  it("too few points: null below 3 distinct x; unbounded (flagged) at 3", () => {
    expect(theilSen([{ x: 1, y: 1 }, { x: 2, y: 3 }])).toBeNull();
    expect(theilSen([{ x: 1, y: 1 }, { x: 1, y: 2 }, { x: 2, y: 3 }, { x: 2, y: 5 }])).toBeNull();
    // n = 3: C = 1.96·√(3·2·11/18) = 3.75 > 3 pairs, so no slope can be rejected at 95 %.
    expect(theilSen([{ x: 1, y: 1 }, { x: 2, y: 3 }, { x: 3, y: 4 }])).toMatchObject({ slope: 1.5, bounded: false, low: 1, high: 2 });
    expect(() => theilSen([{ x: 1, y: Number.NaN }, { x: 2, y: 3 }, { x: 3, y: 4 }])).toThrow(RangeError);
  });
});
