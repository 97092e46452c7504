// validate_message's parts: phone and email recipients, SMS encoding and segments, quiet hours at
// the recipient's local time (fixed clocks across Lagos, Nairobi, Johannesburg and Cairo).
import { describe, expect, it } from "vitest";
import { checkEmail, checkPhone } from "../src/validate/recipient.ts";
import { smsShape } from "../src/validate/sms.ts";
import { quietCheck, zoneFor } from "../src/validate/quiet-hours.ts";

describe("phone recipients", () => {
  it.each([
    ["+2348031234567", undefined, "+2348031234567", "NG", true],
    ["0803 123 4567", "NG", "+2348031234567", "NG", true],
    ["+254712345678", undefined, "+254712345678", "KE", true],
    ["0712345678", "KE", "+254712345678", "KE", true],
    ["+27821234567", undefined, "+27821234567", "ZA", true],
    ["+201001234567", undefined, "+201001234567", "EG", true],
  ])("%s (default %s) is %s in %s, mobile %s", (input, country, e164, cc, mobile) => {
    const r = checkPhone(input, country);
    expect(r).toMatchObject({ ok: true, e164, country: cc, mobile });
  });

  it.each(["+2342012345678", "+27211234567"])("a fixed line (%s: Lagos 0201, Cape Town 021) is valid but not textable", (n) => {
    const r = checkPhone(n);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.type).toBe("FIXED_LINE");
      expect(r.mobile).toBe(false);
    }
  });

  it.each([
    ["hello", "is not a phone number"],
    ["08031234567", "has no country code"],
    ["+23480312", "wrong length"],
    ["+999123456789", "not a number in any country's plan"],
  ])("refuses %s with a reason and a fix", (input, reason) => {
    const r = checkPhone(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain(reason);
      expect(r.fix.length).toBeGreaterThan(10);
    }
  });
});

describe("email recipients", () => {
  it.each(["ada@example.ng", "Ada.Obi+promo@Mail.Example.COM", "o'neil@shop.co.ke"])("accepts %s", (a) => {
    const r = checkEmail(a);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.domain).toBe(a.split("@")[1]!.toLowerCase());
  });
  it.each(["ada", "ada@", "@example.com", "ada@example", "ada..obi@example.com", "ada@-example.com", "ada@exa_mple.com", `${"a".repeat(65)}@example.com`])("refuses %s", (a) => {
    expect(checkEmail(a).ok).toBe(false);
  });
});

describe("SMS encoding and segments", () => {
  it.each([
    ["hello", "GSM-7", 1, 5, 155],
    ["x".repeat(160), "GSM-7", 1, 160, 0],
    ["x".repeat(161), "GSM-7", 2, 161, 145],
    ["5€ {promo}", "GSM-7", 1, 13, 147], // € { } count double
    ["€".repeat(80), "GSM-7", 1, 160, 0],
    ["Ọjà tuntun", "UCS-2", 1, 10, 60], // Yoruba's Ọ is not GSM-7
    ["💥 sale", "UCS-2", 1, 7, 63], // an emoji is two UTF-16 units
    ["é".repeat(70), "GSM-7", 1, 70, 90],
    ["ẹ".repeat(71), "UCS-2", 2, 71, 63],
  ] as const)("%j: %s, %i segment(s), %i units, %i left", (text, encoding, segments, units, left) => {
    const s = smsShape(text);
    expect([s.encoding, s.segments, s.units, s.remainingInSegment]).toEqual([encoding, segments, units, left]);
  });
  it("names the characters that forced UCS-2", () => {
    expect(smsShape("Ọjà 💥").nonGsm.sort()).toEqual(["Ọ", "💥"].sort());
    expect(smsShape("plain").nonGsm).toEqual([]);
  });
});

describe("quiet hours (21:00–08:00 local)", () => {
  // 2026-07-15 20:30 UTC: Lagos 21:30 (quiet), Nairobi 23:30 (quiet), Johannesburg 22:30 (quiet),
  // Cairo 23:30 in summer time (quiet). 2026-07-15 06:30 UTC: Lagos 07:30 (quiet), Nairobi 09:30 (not),
  // Johannesburg 08:30 (not), Cairo 09:30 (not).
  const evening = new Date("2026-07-15T20:30:00Z");
  const morning = new Date("2026-07-15T06:30:00Z");
  it.each([
    ["Africa/Lagos", evening, "21:30", true, "2026-07-16T07:00:00.000Z"],
    ["Africa/Nairobi", evening, "23:30", true, "2026-07-16T05:00:00.000Z"],
    ["Africa/Johannesburg", evening, "22:30", true, "2026-07-16T06:00:00.000Z"],
    ["Africa/Cairo", evening, "23:30", true, "2026-07-16T05:00:00.000Z"],
    ["Africa/Lagos", morning, "07:30", true, "2026-07-15T07:00:00.000Z"],
    ["Africa/Nairobi", morning, "09:30", false, null],
    ["Africa/Johannesburg", morning, "08:30", false, null],
    ["Africa/Cairo", morning, "09:30", false, null],
  ])("%s at %s: local %s, quiet %s, allowed at %s", (zone, at, local, quiet, allowed) => {
    const q = quietCheck(at as Date, zone as string);
    expect([q.localTime, q.quiet, q.allowedAt?.toISOString() ?? null]).toEqual([local, quiet, allowed]);
  });
  it("Cairo in winter is UTC+2", () => {
    expect(quietCheck(new Date("2026-01-15T20:30:00Z"), "Africa/Cairo").localTime).toBe("22:30");
  });
  it("a window's end across a clock change lands on 08:00 local (London, the night of 2026-03-29)", () => {
    const q = quietCheck(new Date("2026-03-28T23:00:00Z"), "Europe/London");
    expect(q.quiet).toBe(true);
    expect(q.allowedAt!.toISOString()).toBe("2026-03-29T07:00:00.000Z"); // 08:00 BST
  });
  it("the zone: the contact's, else the phone's country, else unknown (not quiet, said so)", () => {
    expect(zoneFor("Africa/Nairobi", "NG")).toBe("Africa/Nairobi");
    expect(zoneFor("Not/AZone", "NG")).toBe("Africa/Lagos");
    expect(zoneFor(null, "KE")).toBe("Africa/Nairobi");
    expect(zoneFor(null, "US")).toBeNull();
    expect(quietCheck(evening, null)).toEqual({ zone: null, localTime: null, quiet: false, allowedAt: null });
  });
  it("a custom window that does not span midnight", () => {
    expect(quietCheck(new Date("2026-07-15T12:30:00Z"), "Africa/Lagos", { start: "13:00", end: "14:00" }).quiet).toBe(true);
    expect(quietCheck(new Date("2026-07-15T13:30:00Z"), "Africa/Lagos", { start: "13:00", end: "14:00" }).quiet).toBe(false);
  });
});
