import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, fitToBudget, maskEmail, maskPhone, pageOf, renderText } from "../src/index.ts";
import { z } from "zod";

describe("masking", () => {
  it("keeps the first letter and domain of an email, the country code and last four digits of a phone", () => {
    expect(maskEmail("jane.doe@example.com")).toBe("j***@example.com");
    expect(maskPhone("+2348031234567")).toBe("+234 *** *** 4567");
    expect(maskPhone("+254712345678")).toBe("+254 *** *** 5678");
    expect(maskPhone("+27821234567")).toBe("+27 *** *** 4567");
    expect(maskPhone("+201012345678")).toBe("+20 *** *** 5678");
    expect(maskEmail(null)).toBeNull();
  });
});

describe("cursors and budget", () => {
  it("round-trips a position and refuses a tampered cursor", () => {
    const Pos = z.object({ t: z.string(), id: z.string() });
    const c = encodeCursor({ t: "x", id: "y" });
    expect(decodeCursor(c, Pos)).toEqual({ t: "x", id: "y" });
    expect(() => decodeCursor(Buffer.from('{"t":1}').toString("base64url"), Pos)).toThrow(/cursor is not valid/);
  });
  it("pages from limit+1 rows", () => {
    const p = pageOf([1, 2, 3], 2, (x) => ({ n: x }));
    expect(p.items).toEqual([1, 2]);
    expect(decodeCursor(p.next_cursor!, z.object({ n: z.number() }))).toEqual({ n: 2 });
    expect(pageOf([1, 2], 2, (x) => ({ n: x })).next_cursor).toBeNull();
  });
  it("never cuts text without saying so", () => {
    const t = renderText("x".repeat(9000));
    expect(t).toMatch(/\[truncated: 1000 more characters/);
    expect(fitToBudget(Array.from({ length: 1000 }, (_, i) => ({ i })), 100).truncated).toBe(true);
  });
});
