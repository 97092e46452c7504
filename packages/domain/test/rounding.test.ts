import { describe, expect, it } from "vitest";
import { formatMoney, minorUnits, money, Money, ratio, rateToPercent, roundMoney, roundPercent, roundRate, roundTo } from "../src/index.ts";

describe("rounding", () => {
  it("rounds half away from zero on the decimal value, like PostgreSQL's round(numeric)", () => {
    expect(roundTo(1.005, 2)).toBe(1.01); // Math.round(1.005 * 100) / 100 gives 1
    expect(roundTo(-2.5, 0)).toBe(-3); // Math.round gives -2
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(-0.001, 2)).toBe(0);
    expect(Object.is(roundTo(-0.001, 2), -0)).toBe(false);
    expect(roundTo(1e-7, 4)).toBe(0);
    expect(roundTo(1.23e21, 2)).toBe(1.23e21);
    expect(roundTo(null, 2)).toBeNull();
    expect(roundTo(undefined, 2)).toBeNull();
    expect(roundTo(Number.NaN, 2)).toBeNaN();
    expect(() => roundTo(1, 1.5)).toThrow(RangeError);
  });

  it("rates to 4 decimals, percentages to 1, money to the currency's minor unit", () => {
    expect(roundRate(3 / 20000)).toBe(0.0002); // 0.00015: Math.round(x * 10000) / 10000 gives 0.0001
    expect(roundRate(2 / 3)).toBe(0.6667);
    expect(roundPercent(12.345)).toBe(12.3);
    expect(rateToPercent(0.0115)).toBe(1.2);
    expect(rateToPercent(2 / 3)).toBe(66.7);
    expect(roundMoney(1234.565)).toBe(1234.57);
    expect(roundMoney(1234.565, "NGN")).toBe(1234.57);
    expect(roundMoney(1234.5, "UGX")).toBe(1235);
    expect(roundMoney(1.2345, "TND")).toBe(1.235);
    expect(ratio(1, 3)).toBe(0.3333);
    expect(ratio(5, 0)).toBeNull();
  });

  it("minor units come from ISO 4217 (ICU), 2 for unknown codes", () => {
    expect([minorUnits("NGN"), minorUnits("KES"), minorUnits("UGX"), minorUnits("RWF"), minorUnits("XOF"), minorUnits("TND")]).toEqual([2, 2, 0, 0, 0, 3]);
    expect(minorUnits("QQA")).toBe(2);
    expect(minorUnits("not a code")).toBe(2);
  });
});

describe("money", () => {
  it("formats as '12,345.67 NGN' with the currency's decimals", () => {
    expect(formatMoney({ amount: 12345.67, currency: "NGN" })).toBe("12,345.67 NGN");
    expect(formatMoney({ amount: 12345.675, currency: "NGN" })).toBe("12,345.68 NGN");
    expect(formatMoney({ amount: 0.5, currency: "KES" })).toBe("0.50 KES");
    expect(formatMoney({ amount: 1234567.5, currency: "UGX" })).toBe("1,234,568 UGX");
    expect(formatMoney({ amount: -1500, currency: "GHS" })).toBe("-1,500.00 GHS");
  });

  it("money() rounds to the minor unit; the schema wants an ISO code", () => {
    expect(money(10.005, "NGN")).toEqual({ amount: 10.01, currency: "NGN" });
    expect(money(999.5, "RWF")).toEqual({ amount: 1000, currency: "RWF" });
    expect(Money.safeParse({ amount: 1, currency: "NGN" }).success).toBe(true);
    expect(Money.safeParse({ amount: 1, currency: "ngn" }).success).toBe(false);
    expect(Money.safeParse({ amount: "1", currency: "NGN" }).success).toBe(false);
  });
});
