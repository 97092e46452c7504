import { describe, expect, it } from "vitest";
import { UserError } from "@marketsage/core";
import { PRESETS, resolveRange, TimeRangeInput } from "../src/index.ts";

const now = new Date("2026-11-20T12:00:00Z");

describe("resolveRange", () => {
  it("resolves presets and states the previous period", () => {
    const r = resolveRange({ preset: "7d" }, now);
    expect(r.json).toEqual({ from: "2026-11-13T12:00:00.000Z", to: "2026-11-20T12:00:00.000Z", preset: "7d", previous_from: "2026-11-06T12:00:00.000Z" });
    expect(resolveRange(undefined, now).preset).toBe("30d");
    expect(resolveRange({}, now, "24h").json.from).toBe("2026-11-19T12:00:00.000Z");
    expect(resolveRange({ preset: "1y" }, now).json.from).toBe("2025-11-20T12:00:00.000Z"); // 365 days, 2026 is no leap year
  });

  it("accepts explicit bounds, one side defaulting to now or the fallback length", () => {
    expect(resolveRange({ from: "2026-11-01T00:00:00Z", to: "2026-11-02T00:00:00Z" }, now).json).toEqual({
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-02T00:00:00.000Z",
      preset: null,
      previous_from: "2026-10-31T00:00:00.000Z",
    });
    expect(resolveRange({ from: "2026-11-19T00:00:00+01:00" }, now).json.to).toBe(now.toISOString());
    expect(resolveRange({ to: "2026-11-10T00:00:00Z" }, now, "7d").json.from).toBe("2026-11-03T00:00:00.000Z");
  });

  it("refuses empty and mixed ranges with a message saying what to change", () => {
    expect(() => resolveRange({ from: "2026-11-02T00:00:00Z", to: "2026-11-01T00:00:00Z" }, now)).toThrow(UserError);
    expect(() => resolveRange({ from: "2026-11-02T00:00:00Z", to: "2026-11-02T00:00:00Z" }, now)).toThrow(/range is empty/);
    expect(() => resolveRange({ preset: "7d", from: "2026-11-02T00:00:00Z" }, now)).toThrow(/either a preset or from\/to/);
  });

  it("input schema: presets are exactly PRESETS' keys, dates need an offset", () => {
    expect(TimeRangeInput.shape.preset.unwrap().options).toEqual(Object.keys(PRESETS));
    expect(TimeRangeInput.safeParse({ from: "2026-11-01T00:00:00" }).success).toBe(false);
    expect(TimeRangeInput.safeParse({ from: "2026-11-01T00:00:00+03:00" }).success).toBe(true);
  });
});
