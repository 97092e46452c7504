// Anomaly detection on synthetic series with injected anomalies (seeded), plus the edge cases.
import { describe, expect, it } from "vitest";
import { detectAnomalies } from "../src/stats/index.ts";
import { mulberry32, weeklySeries } from "./prng.ts";

const WEEKLY = [150, 100, 60, 20, -50, -140, -140];

/** A 91-day series (3% noise) with `count` injected anomalies at distinct random days: spikes ×1.3–2 or dips ×0.2–0.7. */
function injected(seed: number, count = 5) {
  const y = weeklySeries({ days: 91, level: 1000, slope: 1.5, weekly: WEEKLY, noiseSd: 30, seed });
  const u = mulberry32(seed * 7919);
  const days = new Set<number>();
  while (days.size < count) days.add(Math.floor(u() * y.length));
  for (const d of days) y[d]! *= u() < 0.5 ? 1.3 + 0.7 * u() : 0.2 + 0.5 * u();
  return { y, days };
}

describe("injected anomalies", () => {
  it("precision and recall over ten seeds", () => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const lines: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const { y, days } = injected(seed);
      const report = detectAnomalies(y);
      expect(report.status).toBe("ok");
      const flagged = new Set(report.anomalies.map((a) => a.index));
      const hit = [...days].filter((d) => flagged.has(d)).length;
      tp += hit;
      fn += days.size - hit;
      fp += flagged.size - hit;
      lines.push(`seed ${seed}: ${hit}/${days.size} found, ${flagged.size - hit} false`);
    }
    const precision = tp / (tp + fp);
    const recall = tp / (tp + fn);
    process.stderr.write(`[anomalies] ${lines.join("; ")}\n[anomalies] precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)} (tp ${tp}, fp ${fp}, fn ${fn})\n`);
    expect(recall).toBeGreaterThanOrEqual(0.9);
    expect(precision).toBeGreaterThanOrEqual(0.8);
  });

  it("a day of collapse to 10% of normal is critical, below, outside its expected range", () => {
    const clean = weeklySeries({ days: 91, level: 1000, slope: 1.5, weekly: WEEKLY, noiseSd: 30, seed: 42 });
    const y = clean.slice();
    y[60] = 0.1 * clean[60]!;
    const times = y.map((_, i) => new Date(Date.UTC(2026, 8, 1 + i)).toISOString().slice(0, 10));
    const report = detectAnomalies(y, { times });
    const a = report.anomalies.find((x) => x.index === 60)!;
    expect(a).toBeDefined();
    expect(a.severity).toBe("critical");
    expect(a.direction).toBe("below");
    expect(a.time).toBe("2026-10-31");
    expect(a.value).toBe(y[60]);
    expect(Math.abs(a.expected - clean[60]!) / clean[60]!).toBeLessThan(0.08); // the baseline is not dragged down
    expect(a.value).toBeLessThan(a.lower);
    expect(a.lower).toBeCloseTo(a.expected - 3 * report.spread!, 9);
    expect(a.upper).toBeCloseTo(a.expected + 3 * report.spread!, 9);
    expect(a.z).toBeCloseTo((a.value - a.expected) / report.spread!, 9);
    expect(a.z).toBeLessThan(-5);
  });

  it("an hourly series (period 24) with a spike", () => {
    const u = mulberry32(5);
    const y = Array.from({ length: 24 * 14 }, (_, t) => 200 + 80 * Math.sin((2 * Math.PI * (t % 24)) / 24) + 10 * (u() - 0.5));
    y[200]! += 120;
    const report = detectAnomalies(y, { period: 24 });
    expect(report.anomalies.map((a) => a.index)).toEqual([200]);
    expect(report.anomalies[0]!.direction).toBe("above");
  });
});

describe("nothing flagged, and why", () => {
  it("a flat series", () => {
    const report = detectAnomalies(new Array(60).fill(250));
    expect(report.status).toBe("flat");
    expect(report.anomalies).toEqual([]);
    expect(report.reason).toMatch(/^flat/);
  });

  it("a 10-day series", () => {
    const report = detectAnomalies([5, 9, 7, 6, 50, 8, 7, 6, 9, 8]);
    expect(report.status).toBe("too_short");
    expect(report.anomalies).toEqual([]);
    expect(report.reason).toMatch(/too short: 10 points, need at least 21/);
  });

  it("MAD 0 but one value differs: the fallback spreads", () => {
    // Constant 100 except one day: every residual is 0 but that one, so the MAD is 0. The spread falls back to
    // √(π/2)·mean|r − r̄| with r̄ = bump/63: (62·r̄ + (bump − r̄))/63, unless that is under 1% of the median (1.0).
    const withBump = (bump: number) => new Array(63).fill(100).map((v, i) => (i === 30 ? v + bump : v));
    const fallback = (bump: number) => Math.sqrt(Math.PI / 2) * ((62 * bump) / 63 + bump - bump / 63) / 63;
    const big = detectAnomalies(withBump(30));
    expect(big.spreadMethod).toBe("mean_absolute_deviation");
    expect(big.spread).toBeCloseTo(fallback(30), 12); // 1.175
    expect(big.anomalies.map((a) => [a.index, a.severity])).toEqual([[30, "critical"]]);
    expect(big.anomalies[0]!.z).toBeCloseTo(30 / fallback(30), 9);
    // bump 4: fallback 0.157 < floor 1 → spread 1, z = 4 → a warning.
    const small = detectAnomalies(withBump(4));
    expect(small.spreadMethod).toBe("relative_floor");
    expect(small.spread).toBe(1);
    expect(small.anomalies.map((a) => [a.index, a.severity, a.z])).toEqual([[30, "warning", 4]]);
    // A 0.05 wiggle on 100 stays under the floor: nothing.
    expect(detectAnomalies(withBump(0.05)).anomalies).toEqual([]);
    // Zeros with one 5: median |value| is 0, so no floor; the fallback alone.
    const sparse = new Array(63).fill(0).map((_, i) => (i === 40 ? 5 : 0));
    const r3 = detectAnomalies(sparse);
    expect(r3.spreadMethod).toBe("mean_absolute_deviation");
    expect(r3.spread).toBeCloseTo(fallback(5), 12);
    expect(r3.anomalies.map((a) => a.index)).toEqual([40]);
  });
});
