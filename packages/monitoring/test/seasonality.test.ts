// Seasonal strength, the rank test behind "meaningful", and the day-of-week profile.
import { describe, expect, it } from "vitest";
import { chiSquareSf, dayOfWeekProfile, kruskalWallis, seasonalStrength } from "../src/stats/index.ts";
import { gaussian, weeklySeries } from "./prng.ts";

describe("χ² tail and Kruskal–Wallis", () => {
  it("χ² upper tail against closed forms and table values", () => {
    for (const x of [0.5, 2, 7.3]) {
      expect(chiSquareSf(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12); // df 2: e^{−x/2}
      expect(chiSquareSf(x, 4)).toBeCloseTo(Math.exp(-x / 2) * (1 + x / 2), 12); // df 4: e^{−x/2}(1 + x/2)
    }
    expect(chiSquareSf(3.841459, 1)).toBeCloseTo(0.05, 6); // the 5% critical value of χ²(1)
    expect(chiSquareSf(16.811894, 6)).toBeCloseTo(0.01, 6); // the 1% critical value of χ²(6)
  });

  it("H statistic by hand, with and without ties", () => {
    // [1,2] [3,4] [5,6]: rank sums 3, 7, 11; H = 12/(6·7)·(9/2 + 49/2 + 121/2) − 3·7 = 4.5714…; df 2 → p = e^{−H/2}
    const t = kruskalWallis([[1, 2], [3, 4], [5, 6]]);
    expect(t.statistic).toBeCloseTo(32 / 7, 12);
    expect(t.df).toBe(2);
    expect(t.pValue).toBeCloseTo(Math.exp(-16 / 7), 12);
    // [1,1,2] [2,3,3]: mid-ranks 1.5 1.5 3.5 | 3.5 5.5 5.5 → sums 6.5, 14.5; uncorrected 12/42·(6.5² + 14.5²)/3 − 21
    // = 64/21; ties 3·(2³ − 2) = 18 → correction 1 − 18/210 = 32/35 → H = (64/21)/(32/35) = 10/3
    expect(kruskalWallis([[1, 1, 2], [2, 3, 3]]).statistic).toBeCloseTo(10 / 3, 12);
    expect(kruskalWallis([[5, 5], [5, 5]]).pValue).toBe(1);
  });
});

describe("seasonal strength and the day-of-week profile", () => {
  it("F_S = 1 − Var(R)/Var(S + R) by hand", () => {
    // R = ±0.5: Var = 1/3; S + R = 1.5 −1.5 .5 −.5: Var = 5/3 → 1 − 1/5 = 0.8
    expect(seasonalStrength([1, -1, 1, -1], [0.5, -0.5, -0.5, 0.5])).toBeCloseTo(0.8, 12);
    expect(seasonalStrength([0, 0, 0], [1, -2, 1])).toBe(0);
  });

  it("recovers a weekly pattern, labelled by weekday", () => {
    const weekly = [120, 80, 60, 40, -60, -120, -120]; // sums to 0, so these are the centred effects
    const y = weeklySeries({ days: 84, level: 1000, slope: 2, weekly, noiseSd: 20, seed: 7 });
    const p = dayOfWeekProfile(y, 3)!; // values[0] is a Wednesday
    expect(p.meaningful).toBe(true);
    expect(p.strength).toBeGreaterThan(0.85);
    expect(p.days.map((d) => d.name)).toEqual(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]);
    const wednesday = p.days.find((d) => d.name === "Wednesday")!;
    expect(Math.abs(wednesday.effect - 120)).toBeLessThan(15);
    const monday = p.days.find((d) => d.name === "Monday")!; // Wednesday + 5 days: weekly[5]
    expect(Math.abs(monday.effect + 120)).toBeLessThan(15);
    expect(p.days.reduce((s, d) => s + d.effect, 0)).toBeCloseTo(0, 9);
  });

  it("white noise has no meaningful season, and two weeks are too few to say", () => {
    let meaningful = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const z = gaussian(seed);
      const p = dayOfWeekProfile(Array.from({ length: 91 }, () => 100 + 10 * z()), 0)!;
      if (p.meaningful) meaningful++;
    }
    expect(meaningful).toBeLessThanOrEqual(1); // 1% test level: at most one false season in 20
    const twoWeeks = weeklySeries({ days: 14, level: 100, slope: 0, weekly: [50, 0, 0, 0, 0, 0, -50], noiseSd: 1, seed: 3 });
    const p = dayOfWeekProfile(twoWeeks, 0)!;
    expect(p.meaningful).toBe(false);
    expect(p.reason).toMatch(/only 2 full periods/);
    expect(dayOfWeekProfile(twoWeeks.slice(0, 13), 0)).toBeNull();
  });
});
