// The TS FX helpers against hand-computed values: they must call the stored-rate functions
// (nearest day, ties to the later day, NULL without a rate) and nothing of their own.
import { beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "@marketsage/db";
import { convertAmount, fxRate, fxSql, reportingAmountSql, toReportingMoney } from "../src/index.ts";
import { useDomainDb } from "./db.ts";

const t = useDomainDb();
// Made-up currencies, so the demo rates cannot answer for them (ICU does not know them either:
// they round to 2 decimals).
const QQ = { reportingCurrency: "QQB" };

beforeAll(async () => {
  await t.q(`insert into fx_rates (base, quote, rate, as_of) values
    ('USD', 'QQA', 100, '2026-01-10'), ('USD', 'QQA', 200, '2026-01-12'), ('USD', 'QQA', 400, '2026-01-20'),
    ('USD', 'QQB', 10, '2026-01-01'), ('USD', 'QQB', 30, '2026-01-19')`);
});

describe("convertAmount and fxRate", () => {
  it("use the rate of the nearest stored day, the later one on a tie", async () => {
    expect(await fxRate(t.db, "QQA", new Date("2026-01-11T08:00:00Z"))).toBe(200); // 10th and 12th equally near
    expect(await fxRate(t.db, "QQA", new Date("2026-01-15T23:00:00Z"))).toBe(200); // 12th 3 days away, 20th 5
    expect(await fxRate(t.db, "QQA", new Date("2026-01-17T00:00:00Z"))).toBe(400); // 20th 3 days away, 12th 5
    expect(await fxRate(t.db, "USD", new Date("2026-01-17T00:00:00Z"))).toBe(1);
    expect(await convertAmount(t.db, 1000, "QQA", "USD", new Date("2026-01-10T15:00:00Z"))).toBe(10); // 1000 / 100
    // QQA → QQB through USD on the 20th: 1000 / 400 × 30 (QQB's 19th is the nearest day)
    expect(await convertAmount(t.db, 1000, "QQA", "QQB", new Date("2026-01-20T00:00:00Z"))).toBeCloseTo(75, 9);
    expect(await convertAmount(t.db, "123.45", "QQA", "QQA", new Date("2026-01-12T00:00:00Z"))).toBe(123.45);
  });

  it("are null, not a guess, for a currency without rates", async () => {
    expect(await fxRate(t.db, "QQZ", new Date("2026-01-10T00:00:00Z"))).toBeNull();
    expect(await convertAmount(t.db, 1000, "QQZ", "USD", new Date("2026-01-10T00:00:00Z"))).toBeNull();
    expect(await toReportingMoney(t.db, QQ, 1000, "QQZ", new Date("2026-01-10T00:00:00Z"))).toBeNull();
  });

  it("toReportingMoney converts at the event's day and rounds to the minor unit", async () => {
    // 1 QQA on the 12th = 1/200 USD = 30/200 QQB (QQB's 19th, 7 days away, is nearer than the 1st, 11) = 0.15
    expect(await toReportingMoney(t.db, QQ, 1, "QQA", new Date("2026-01-12T10:00:00Z"))).toEqual({ amount: 0.15, currency: "QQB" });
    // 1 QQA on the 5th: QQA's 10th (100), QQB's 1st (10): 0.1
    expect(await toReportingMoney(t.db, QQ, 1, "QQA", new Date("2026-01-05T10:00:00Z"))).toEqual({ amount: 0.1, currency: "QQB" });
    // 333 QQA on the 20th = 333 / 400 × 30 = 24.975 → 24.98
    expect(await toReportingMoney(t.db, QQ, 333, "QQA", new Date("2026-01-20T10:00:00Z"))).toEqual({ amount: 24.98, currency: "QQB" });
  });
});

describe("SQL fragments", () => {
  it("reportingAmountSql converts each row at its own date inside a query", async () => {
    const rows = await t.db.$queryRaw<Array<{ v: string }>>`
      select sum(${reportingAmountSql(QQ, Prisma.sql`x.value`, Prisma.sql`x.currency`, Prisma.sql`x.at`)})::text as v
        from (values (1000::numeric, 'QQA'::char(3), '2026-01-10T12:00:00Z'::timestamptz),
                     (1000::numeric, 'QQA'::char(3), '2026-01-20T12:00:00Z'::timestamptz),
                     (7::numeric, 'QQB'::char(3), '2026-01-20T12:00:00Z'::timestamptz)) x(value, currency, at)`;
    // 1000/100×30 (QQB's 1st and 19th are both 9 days from the 10th: the later rate) + 1000/400×30 + 7
    expect(Number(rows[0]!.v)).toBeCloseTo(300 + 75 + 7, 9);
  });

  it("fxSql names marketsage_fx with the arguments in order", () => {
    const s = fxSql(Prisma.sql`v.value`, Prisma.sql`trim(v.currency)`, "NGN", Prisma.sql`v.occurred_at`);
    expect(s.sql).toBe("marketsage_fx(v.value, trim(v.currency), ?, v.occurred_at)");
    expect(s.values).toEqual(["NGN"]);
  });
});
