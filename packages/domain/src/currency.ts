// Currencies: ISO 4217 codes and their minor units.
import { z } from "zod";

export const CurrencyCode = z.string().regex(/^[A-Z]{3}$/).describe("ISO 4217, e.g. NGN");

const digitsCache = new Map<string, number>();

/**
 * Decimal places of the currency's minor unit from ICU's ISO 4217 data (NGN 2, UGX 0, TND 3);
 * 2 for a code ICU does not know.
 */
export function minorUnits(currency: string): number {
  let d = digitsCache.get(currency);
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      d = 2; // not a well-formed code: schemas refuse it where it comes in; rounding stays total
    }
    digitsCache.set(currency, d);
  }
  return d;
}
