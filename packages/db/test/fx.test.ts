// marketsage_fx (migrations fx_function, refresh_speed): nearest-date USD-based rates, ties to the
// later rate, NULL when a currency has no rate. Expected values are worked out by hand.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "@marketsage/core/testing";

const tdb = useTestDatabase();
let sql: pg.Client;
const fx = async (amount: number, src: string, dst: string, at: string) =>
  (await sql.query(`select marketsage_fx($1::numeric, $2, $3, $4::timestamptz)::float8 as v`, [amount, src, dst, at])).rows[0].v as number | null;

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  // Two made-up currencies, so the demo rates cannot answer for them.
  await sql.query(`insert into fx_rates (base, quote, rate, as_of) values
    ('USD', 'QQA', 100, '2026-01-10'), ('USD', 'QQA', 200, '2026-01-12'), ('USD', 'QQA', 400, '2026-01-20'),
    ('USD', 'QQB', 10, '2026-01-01')`);
});
afterAll(async () => {
  await sql?.end();
});

describe("marketsage_fx", () => {
  it("uses the rate of the nearest day, the later one on a tie", async () => {
    expect(await fx(1000, "QQA", "USD", "2026-01-10T15:00:00Z")).toBeCloseTo(10, 9); // exact day: 1000 / 100
    expect(await fx(1000, "QQA", "USD", "2026-01-11T08:00:00Z")).toBeCloseTo(5, 9); // 10th and 12th equally near: the 12th
    expect(await fx(1000, "QQA", "USD", "2026-01-15T00:00:00Z")).toBeCloseTo(5, 9); // 12th is 3 days away, 20th 5
    expect(await fx(1000, "QQA", "USD", "2026-03-01T00:00:00Z")).toBeCloseTo(2.5, 9); // after the last rate
    expect(await fx(1000, "QQA", "USD", "2025-06-01T00:00:00Z")).toBeCloseTo(10, 9); // before the first rate
  });

  it("converts between two non-USD currencies through USD, and leaves same-currency amounts alone", async () => {
    expect(await fx(1000, "QQA", "QQB", "2026-01-20T00:00:00Z")).toBeCloseTo((1000 / 400) * 10, 9);
    expect(await fx(10, "USD", "QQA", "2026-01-12T00:00:00Z")).toBeCloseTo(2000, 9);
    expect(await fx(123.45, "QQA", "QQA", "2026-01-12T00:00:00Z")).toBe(123.45);
  });

  it("is NULL, not a guess, for a currency without rates", async () => {
    expect(await fx(1000, "QQZ", "USD", "2026-01-10T00:00:00Z")).toBeNull();
    expect(await fx(1000, "USD", "QQZ", "2026-01-10T00:00:00Z")).toBeNull();
  });
});
