// Mann–Kendall against hand computation (S, the tie-corrected variance, the continuity-corrected
// Z and its two-sided normal p), and the alert rules' breach arithmetic.
import { describe, expect, it } from "vitest";
import { mannKendall } from "../src/stats/index.ts";
import { breachOf } from "../src/alerts/evaluate.ts";

describe("mannKendall", () => {
  it("a strictly rising series of 10: S = 45, Var = 10·9·25/18 = 125, Z = 44/√125, p = 2·(1 − Φ(3.9355)) = 8.30e-5", () => {
    const r = mannKendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])!;
    expect(r.s).toBe(45);
    expect(r.tau).toBe(1);
    expect(r.z).toBeCloseTo(44 / Math.sqrt(125), 10);
    expect(r.pValue).toBeCloseTo(8.303e-5, 7);
  });
  it("ties: [1, 2, 2, 3, 1] — S by hand = 3, Var = (5·4·15 − 2·(2·1·9)) / 18 = 264/18", () => {
    // pairs: (1,2)+ (1,2)+ (1,3)+ (1,1)0 | (2,2)0 (2,3)+ (2,1)− | (2,3)+ (2,1)− | (3,1)− → 5 − 3 = 2
    const r = mannKendall([1, 2, 2, 3, 1])!;
    expect(r.s).toBe(2);
    expect(r.z).toBeCloseTo(1 / Math.sqrt(264 / 18), 10);
    expect(r.pValue).toBeGreaterThan(0.7);
  });
  it("a falling series has negative S and a constant one no trend; too short is null", () => {
    expect(mannKendall([5, 4, 3, 2, 1])!.s).toBe(-10);
    expect(mannKendall([3, 3, 3, 3, 3])).toMatchObject({ s: 0, pValue: 1 });
    expect(mannKendall([1, 2, 3])).toBeNull();
  });
});

describe("alert rules", () => {
  it("above/below compare the value; rises_by/falls_by the relative change; nothing to measure is null", () => {
    expect(breachOf("above", 10, 11, null)).toEqual({ observed: 11, breached: true });
    expect(breachOf("above", 10, 10, null)).toEqual({ observed: 10, breached: false });
    expect(breachOf("below", 0.9, 0.85, null)).toEqual({ observed: 0.85, breached: true });
    expect(breachOf("below", 0.9, null, null)).toEqual({ observed: null, breached: null });
    expect(breachOf("rises_by", 0.5, 150, 100)).toEqual({ observed: 0.5, breached: true });
    expect(breachOf("rises_by", 0.5, 149, 100).breached).toBe(false);
    expect(breachOf("falls_by", 0.3, 60, 100)).toEqual({ observed: -0.4, breached: true });
    expect(breachOf("falls_by", 0.3, 80, 100).breached).toBe(false);
    expect(breachOf("falls_by", 0.3, 80, 0)).toEqual({ observed: null, breached: null });
  });
});
