// Robust summaries against values worked out by hand (the working is written beside each number).
import { describe, expect, it } from "vitest";
import { mad, mean, median, ols, quantile, quantiles, seriesTrend, theilSen, variance } from "../src/stats/index.ts";

describe("median, MAD, quantiles", () => {
  it("median of odd and even samples", () => {
    expect(median([3, 1, 4, 1, 5])).toBe(3); // sorted 1 1 3 4 5
    expect(median([3, 1, 4, 1, 5, 9])).toBe(3.5); // sorted 1 1 3 4 5 9 → (3 + 4)/2
  });

  it("MAD, raw and scaled by 1.4826", () => {
    // median 3; |x − 3| = 2 1 0 1 97 → sorted 0 1 1 2 97 → 1: the outlier 100 does not move it
    expect(mad([1, 2, 3, 4, 100])).toBe(1);
    expect(mad([1, 2, 3, 4, 100], { scaled: true })).toBeCloseTo(1.4826, 4);
    // median (4 + 5)/2 = 4.5; deviations 2.5 .5 .5 .5 .5 .5 2.5 4.5 → sorted: middle two are .5 and .5
    expect(mad([2, 4, 4, 4, 5, 5, 7, 9])).toBe(0.5);
  });

  it("type-7 quantiles as R's quantile()", () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(x, 0.25)).toBeCloseTo(3.25, 12); // h = 9·0.25 = 2.25 → 3 + 0.25·(4 − 3)
    expect(quantile(x, 0.9)).toBeCloseTo(9.1, 12); // h = 8.1 → 9 + 0.1·1
    expect(quantiles([7, 1, 3, 10], [0, 1 / 3, 0.5, 1])).toEqual([1, 3, 5, 10]); // sorted 1 3 7 10; h = 1 → 3; h = 1.5 → 3 + .5·4
    expect(() => quantile(x, 1.5)).toThrow(RangeError);
    expect(() => median([])).toThrow(RangeError);
  });

  it("mean and sample variance", () => {
    expect(mean([2, 4, 9])).toBe(5);
    expect(variance([2, 4, 9])).toBeCloseTo(13, 12); // (9 + 1 + 16)/2
  });
});

describe("Theil–Sen and OLS", () => {
  it("Theil–Sen slope and intercept by hand", () => {
    // pairwise slopes of (0,0) (1,2) (2,3) (3,7): 2, 1.5, 7/3, 1, 2.5, 4 → sorted 1 1.5 2 7/3 2.5 4 → (2 + 7/3)/2 = 13/6
    // y − 13/6·x = 0, 2 − 13/6, 3 − 26/6, 7 − 39/6 = 0, −1/6, −4/3, 1/2 → sorted −4/3 −1/6 0 1/2 → (−1/6 + 0)/2 = −1/12
    const line = theilSen([0, 1, 2, 3], [0, 2, 3, 7])!;
    expect(line.slope).toBeCloseTo(13 / 6, 12);
    expect(line.intercept).toBeCloseTo(-1 / 12, 12);
  });

  it("an outlier pulls OLS but not Theil–Sen", () => {
    // y = x except the last point (5, 100). Slopes: the six pairs without the outlier are 1; the four with it
    // are 24.75, 32.67, 48.5, 96 → median of ten = 1; intercept median(0 0 0 0 95) = 0.
    // OLS: x̄ = 3, ȳ = 22, Sxx = 10, Sxy = 42 + 20 + 0 − 18 + 156 = 200 → slope 20, intercept 22 − 60 = −38.
    const x = [1, 2, 3, 4, 5];
    const y = [1, 2, 3, 4, 100];
    expect(theilSen(x, y)).toEqual({ slope: 1, intercept: 0 });
    const ls = ols(x, y)!;
    expect(ls.slope).toBeCloseTo(20, 12);
    expect(ls.intercept).toBeCloseTo(-38, 12);
    // The same values as a series (x = 0 … 4): Theil–Sen intercept median(1 1 1 1 96) = 1; OLS 22 − 20·2 = −18.
    const trend = seriesTrend(y);
    expect(trend.theilSen).toEqual({ slope: 1, intercept: 1 });
    expect(trend.ols!.slope).toBeCloseTo(20, 12);
    expect(trend.ols!.intercept).toBeCloseTo(-18, 12);
  });

  it("no line through a single x", () => {
    expect(theilSen([2, 2, 2], [1, 2, 3])).toBeNull();
    expect(ols([2, 2, 2], [1, 2, 3])).toBeNull();
    expect(() => theilSen([1, 2], [1])).toThrow(RangeError);
  });
});
