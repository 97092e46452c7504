// One way to round figures for output: rates (0–1 shares, conversion and engagement rates) to 4
// decimals, money to the currency's minor unit (2 when unknown), percentages (0–100) to 1.
// Rounding is half away from zero on the decimal value as written (1.005 → 1.01, −2.5 → −3), the
// way PostgreSQL rounds numeric, so a figure rounded here equals the same figure rounded in SQL;
// plain Math.round(x * 100) / 100 gives 1 for 1.005 (binary 1.00499…) and −2 for −2.5.
import { minorUnits } from "./currency.ts";

export const RATE_DECIMALS = 4;
export const PERCENT_DECIMALS = 1;
export const MONEY_DECIMALS = 2;

/** `x` to `decimals` places (0–15), half away from zero; null and undefined stay null. */
export function roundTo(x: number, decimals: number): number;
export function roundTo(x: number | null | undefined, decimals: number): number | null;
export function roundTo(x: number | null | undefined, decimals: number): number | null {
  if (x === null || x === undefined) return null;
  if (!Number.isFinite(x)) return x;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 15) throw new RangeError(`decimals must be an integer 0–15, got ${decimals}`);
  const r = shift(Math.round(shift(Math.abs(x), decimals)), -decimals);
  return x < 0 && r !== 0 ? -r : r;
}

/** x × 10^n done on x's shortest decimal form (no binary error): shift(1.005, 2) is exactly 100.5. */
function shift(x: number, n: number): number {
  const [mantissa, exp] = String(x).split("e");
  return Number(`${mantissa}e${Number(exp ?? 0) + n}`);
}

/** A rate or share (0–1) to 4 decimals. */
export function roundRate(x: number): number;
export function roundRate(x: number | null | undefined): number | null;
export function roundRate(x: number | null | undefined): number | null {
  return roundTo(x, RATE_DECIMALS);
}

/** A percentage (0–100) to 1 decimal. */
export function roundPercent(x: number): number;
export function roundPercent(x: number | null | undefined): number | null;
export function roundPercent(x: number | null | undefined): number | null {
  return roundTo(x, PERCENT_DECIMALS);
}

/** A rate (0–1) as a percentage (0–100), 1 decimal: 0.12345 → 12.3. */
export function rateToPercent(x: number): number;
export function rateToPercent(x: number | null | undefined): number | null;
export function rateToPercent(x: number | null | undefined): number | null {
  return x === null || x === undefined ? null : roundTo(Number.isFinite(x) ? shift(x, 2) : x, PERCENT_DECIMALS);
}

/** An amount of money to the currency's minor unit (NGN, KES 2; UGX, RWF, XOF 0), or 2 without a currency. */
export function roundMoney(x: number, currency?: string): number;
export function roundMoney(x: number | null | undefined, currency?: string): number | null;
export function roundMoney(x: number | null | undefined, currency?: string): number | null {
  return roundTo(x, currency === undefined ? MONEY_DECIMALS : minorUnits(currency));
}

/** `a / b` as a rate to 4 decimals, or null when b is 0 (no basis: not 0%). */
export function ratio(a: number, b: number): number | null {
  return b ? roundRate(a / b) : null;
}
