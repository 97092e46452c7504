import { describe, expect, it } from "vitest";
import { looksLikePhone, toE164 } from "../src/index.ts";

describe("toE164", () => {
  it("reads local numbers in the organization's country and international ones as written", () => {
    expect(toE164("08031234567", "NG")).toBe("+2348031234567");
    expect(toE164("0803 123 4567", "NG")).toBe("+2348031234567");
    expect(toE164("+234 803 123 4567", "KE")).toBe("+2348031234567"); // the + wins over the default country
    expect(toE164("0712 345 678", "KE")).toBe("+254712345678");
    expect(toE164("(082) 123-4567", "ZA")).toBe("+27821234567");
    expect(toE164("024 412 3456", "GH")).toBe("+233244123456");
  });

  it("refuses what cannot be a number", () => {
    expect(toE164("12345", "NG")).toBeUndefined();
    expect(toE164("hello", "NG")).toBeUndefined();
    expect(toE164("", "NG")).toBeUndefined();
  });
});

describe("looksLikePhone", () => {
  it("takes digit strings of 7+ digits with phone punctuation, not names or emails", () => {
    expect(looksLikePhone("+234 803 123 4567")).toBe(true);
    expect(looksLikePhone("(080) 3123-4567")).toBe(true);
    expect(looksLikePhone("123456")).toBe(false);
    expect(looksLikePhone("Ada 0803123")).toBe(false);
    expect(looksLikePhone("ada@0803123.ng")).toBe(false);
  });
});
