// Money in output: an amount with its ISO 4217 currency, rounded to the currency's minor unit, and
// written for people as "12,345.67 NGN" (the code after the amount, as these markets' invoices do).
import { z } from "zod";
import { CurrencyCode, minorUnits } from "./currency.ts";
import { roundMoney } from "./rounding.ts";

export const Money = z.object({ amount: z.number(), currency: CurrencyCode });
export type Money = z.infer<typeof Money>;

const formatters = new Map<number, Intl.NumberFormat>();

/** A Money value, rounded to the currency's minor unit. */
export function money(amount: number, currency: string): Money {
  return { amount: roundMoney(amount, currency), currency };
}

/** "12,345.67 NGN": thousands separated, exactly the currency's minor-unit decimals, code last. */
export function formatMoney(m: Money): string {
  const d = minorUnits(m.currency);
  let f = formatters.get(d);
  if (!f) formatters.set(d, (f = new Intl.NumberFormat("en-US", { minimumFractionDigits: d, maximumFractionDigits: d })));
  return `${f.format(roundMoney(m.amount, m.currency))} ${m.currency}`;
}
