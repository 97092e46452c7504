// FX: amounts in another currency converted with the stored daily rates (fx_rates, base USD).
// The definition lives in SQL (migrations fx_function, refresh_speed: marketsage_fx and
// marketsage_fx_rate — the nearest day's rate, ties to the later one, NULL when a currency has no
// rate) so set-wise queries convert in the database; these helpers are the one way TS code names
// those functions, in a query (the *Sql fragments) or for a single amount (the async functions).
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { money, type Money } from "./money.ts";

export const FX_FUNCTION = "marketsage_fx";
export const FX_RATE_FUNCTION = "marketsage_fx_rate";

type SqlOr<T> = Prisma.Sql | T;

/** SQL: `amount` in currency `from` converted to `to` at the rate of the day of `at`; NULL when a rate is missing. */
export const fxSql = (amount: Prisma.Sql, from: SqlOr<string>, to: SqlOr<string>, at: SqlOr<Date>): Prisma.Sql =>
  Prisma.sql`marketsage_fx(${amount}, ${from}, ${to}, ${at})`;

/**
 * SQL: a stored amount (`amount`, its char(3) `currency` column, the event's time `at`) in the
 * organization's reporting currency at the rate of the event's date.
 */
export const reportingAmountSql = (org: Pick<OrgInfo, "reportingCurrency">, amount: Prisma.Sql, currency: Prisma.Sql, at: Prisma.Sql): Prisma.Sql =>
  fxSql(amount, Prisma.sql`trim(${currency})`, org.reportingCurrency, at);

const toNumber = (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v));

/** One amount converted (unrounded), or null when a rate for either currency is missing: say so, never guess. */
export async function convertAmount(db: DbHandle, amount: number | string, from: string, to: string, at: Date): Promise<number | null> {
  const [r] = await db.$queryRaw<Array<{ v: string | null }>>`select ${fxSql(Prisma.sql`${String(amount)}::numeric`, from, to, Prisma.sql`${at}::timestamptz`)}::text as v`;
  return toNumber(r?.v);
}

/** Units of `currency` per 1 USD on `day` (the nearest stored day), or null when none is stored. */
export async function fxRate(db: DbHandle, currency: string, day: Date): Promise<number | null> {
  const [r] = await db.$queryRaw<Array<{ v: string | null }>>`select marketsage_fx_rate(${currency}, ${day}::timestamptz::date)::text as v`;
  return toNumber(r?.v);
}

/** An amount as Money in the organization's reporting currency (rounded to its minor unit), or null without a rate. */
export async function toReportingMoney(db: DbHandle, org: Pick<OrgInfo, "reportingCurrency">, amount: number | string, currency: string, at: Date): Promise<Money | null> {
  const v = await convertAmount(db, amount, currency, org.reportingCurrency, at);
  return v === null ? null : money(v, org.reportingCurrency);
}
