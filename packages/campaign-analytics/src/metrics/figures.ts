// A tally (queries/campaign-counts.ts) as the figures a tool returns: counts, rates and money,
// with the counts and rates that do not exist on the channel reported as not applicable (null).
import { z } from "zod";
import { money, roundMoney, roundRate, roundTo, type ChannelName } from "@marketsage/domain";
import { COUNT_KEYS, countApplies, RATE_KEYS, RATES, rateApplies, type CountKey, type RateKey } from "./definitions.ts";
import type { MoneyTotals, Tally } from "../queries/campaign-counts.ts";

const Count = z.number().int().nullable();
const Rate = z.number().nullable();
const MoneyOut = z.object({ amount: z.number(), currency: z.string() });

export const CurrencyLine = z.object({ currency: z.string(), amount: z.number(), converted: z.number().nullable() });

export const Figures = z.object({
  counts: z.object({ ...Object.fromEntries(COUNT_KEYS.map((k) => [k, Count])), conversions: z.number().int() }) as unknown as z.ZodObject<
    Record<CountKey, typeof Count> & { conversions: z.ZodNumber }
  >,
  rates: z.object(Object.fromEntries(RATE_KEYS.map((k) => [k, Rate]))) as unknown as z.ZodObject<Record<RateKey, typeof Rate>>,
  not_applicable: z.array(z.string()).describe("Counts and rates that do not exist on this channel (null above, not 0)."),
  revenue: MoneyOut,
  cost: MoneyOut,
  roi: z.number().nullable().describe("(revenue − cost) / cost"),
  revenue_currencies: z.array(CurrencyLine).describe("Original currencies; converted is in the reporting currency (null: no FX rate)."),
  cost_currencies: z.array(CurrencyLine),
  fx_incomplete: z.boolean().describe("Some amount had no stored FX rate and is left out of the totals."),
});
export type Figures = z.infer<typeof Figures>;

/** The value of a rate for a tally on a channel: null when not applicable or without a basis. */
export function rateOf(t: Tally, key: RateKey, channel: ChannelName): number | null {
  if (!rateApplies(key, channel)) return null;
  const r = RATES[key];
  const d = t.counts[r.denominator];
  return d ? t.counts[r.numerator] / d : null;
}

const lines = (m: MoneyTotals, reporting: string) =>
  // Original amounts keep the stored precision (message costs are priced to 1/10,000).
  m.currencies.map((c) => ({ currency: c.currency, amount: roundTo(c.amount, 4), converted: c.converted === null ? null : roundMoney(c.converted, reporting) }));

export function figuresOf(t: Tally, channel: ChannelName, reporting: string): Figures {
  const counts = { conversions: t.counts.conversions } as Figures["counts"];
  const notApplicable: string[] = [];
  for (const k of COUNT_KEYS) {
    const applies = countApplies(k, channel);
    counts[k] = applies ? t.counts[k] : null;
    if (!applies) notApplicable.push(k);
  }
  const rates = {} as Figures["rates"];
  for (const k of RATE_KEYS) {
    rates[k] = roundRate(rateOf(t, k, channel));
    if (!rateApplies(k, channel)) notApplicable.push(k);
  }
  const revenue = t.revenue.total;
  const cost = t.cost.total;
  return {
    counts,
    rates,
    not_applicable: notApplicable,
    revenue: money(revenue, reporting),
    cost: money(cost, reporting),
    roi: cost > 0 ? roundRate((revenue - cost) / cost) : null,
    revenue_currencies: lines(t.revenue, reporting),
    cost_currencies: lines(t.cost, reporting),
    fx_incomplete: t.revenue.incomplete || t.cost.incomplete,
  };
}
