import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { estimateCosts, inReportingCurrency, times } from "../src/queries/cost.ts";

const tdb = useTestDatabase();
let db: Db;
beforeAll(() => {
  db = openDb(tdb.url);
});
afterAll(async () => {
  await db?.$disconnect();
});

describe("cost estimates from provider_rates", () => {
  it("multiplies decimal rates exactly", () => {
    expect(times("0.8000", 3)).toBe("2.4000");
    expect(times("0.0075", 7)).toBe("0.0525");
    expect(times("35", 2)).toBe("70");
    expect(times("-0.0075", 2)).toBe("-0.0150");
    expect(times("0.1", 0)).toBe("0.0");
  });

  it("per provider for the country, times the segments, with the rate's source", async () => {
    const m = await estimateCosts(db, { providers: ["africastalking", "twilio"], channel: "SMS", country: "ke", units: 2, at: new Date("2026-06-01Z") });
    expect(m.get("africastalking")).toEqual({
      provider: "africastalking", country: "KE", units: 2, unitCost: { amount: "0.8000", currency: "KES" }, total: { amount: "1.6000", currency: "KES" }, source: "default: illustrative",
    });
    expect(m.get("twilio")?.total).toEqual({ amount: "0.4200", currency: "USD" });
  });

  it("the rate in effect at the send's time wins; none before the first; a country without a rate has no estimate", async () => {
    await db.$executeRaw`insert into provider_rates (provider, channel, country, effective_from, unit_cost, currency, source)
                         values ('africastalking', 'SMS', 'KE', '2026-09-01', 0.6500, 'KES', 'contract 2026-09')`;
    const at = (d: string) => estimateCosts(db, { providers: ["africastalking"], channel: "SMS", country: "KE", units: 1, at: new Date(d) });
    expect((await at("2026-08-31T23:59:59Z")).get("africastalking")?.unitCost.amount).toBe("0.8000");
    expect((await at("2026-09-01T00:00:00Z")).get("africastalking")).toMatchObject({ unitCost: { amount: "0.6500" }, source: "contract 2026-09" });
    expect((await at("2025-12-31T00:00:00Z")).size).toBe(0);
    expect((await estimateCosts(db, { providers: ["africastalking"], channel: "SMS", country: "FR", units: 1, at: new Date() })).size).toBe(0);
    expect((await estimateCosts(db, { providers: ["twilio"], channel: "SMS", country: null, units: 1, at: new Date() })).size).toBe(0);
  });

  it("email takes the provider's any-country row", async () => {
    const m = await estimateCosts(db, { providers: ["smtp"], channel: "EMAIL", country: "NG", units: 1, at: new Date("2026-06-01Z") });
    expect(m.get("smtp")?.total).toEqual({ amount: "0.0000", currency: "USD" });
  });

  it("totals in the reporting currency by the stored FX rate of the day, null without a rate", async () => {
    const at = new Date("2026-06-01Z");
    const m = await estimateCosts(db, { providers: ["africastalking", "twilio"], channel: "SMS", country: "KE", units: 1, at });
    const got = await inReportingCurrency(db, { reportingCurrency: "NGN" }, [...m.values()], at);
    const [want] = await db.$queryRawUnsafe<Array<{ kes: string; usd: string }>>(
      `select (0.8 * (select rate from fx_rates where base = 'USD' and quote = 'NGN' and as_of <= $1::date order by as_of desc limit 1)
                   / (select rate from fx_rates where base = 'USD' and quote = 'KES' and as_of <= $1::date order by as_of desc limit 1))::text as kes,
              (0.21 * (select rate from fx_rates where base = 'USD' and quote = 'NGN' and as_of <= $1::date order by as_of desc limit 1))::text as usd`, at,
    );
    expect(got.get("africastalking")).toBeCloseTo(Number(want!.kes), 6);
    expect(got.get("twilio")).toBeCloseTo(Number(want!.usd), 6);
    const none = await inReportingCurrency(db, { reportingCurrency: "NGN" }, [{ ...m.get("twilio")!, total: { amount: "1.0000", currency: "XXX" } }], at);
    expect(none.get("twilio")).toBeNull();
  });
});
