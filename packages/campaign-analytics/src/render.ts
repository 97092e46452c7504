// Text renderings shared by the tools: the text carries what the structured content carries
// (SPEC §3), compactly — rates as percentages, money with its currency code, times to the minute.
import { formatMoney, type Money } from "@marketsage/domain";
import { COUNT_KEYS, RATE_KEYS } from "./metrics/definitions.ts";
import type { Figures } from "./metrics/figures.ts";

import { pct } from "@marketsage/core";

export { at, pct, lines, pageNote } from "@marketsage/core";

export const signed = (x: number, digits = 2): string => `${x >= 0 ? "+" : ""}${x.toFixed(digits)}`;

export const money = (m: Money): string => formatMoney(m);

const label = (k: string) => k.replace(/_rate$/, "").replace(/_/g, "-");

/** Figures on three or four lines: counts, rates, money, the currencies behind the money. */
export function figureLines(f: Figures, indent = ""): string[] {
  const counts = COUNT_KEYS.filter((k) => f.counts[k] !== null).map((k) => `${k} ${f.counts[k]}`);
  counts.push(`conversions ${f.counts.conversions}`);
  const rates = RATE_KEYS.filter((k) => f.rates[k] !== null).map((k) => `${label(k)} ${pct(f.rates[k])}`);
  const rc = f.revenue.currency;
  const cur = (xs: Figures["revenue_currencies"]) =>
    xs.map((c) => `${c.amount} ${c.currency}${c.converted === null ? " (no FX rate)" : ` → ${c.converted} ${rc}`}`).join(", ");
  return [
    `${indent}Counts: ${counts.join(", ")}`,
    `${indent}Rates: ${rates.join(", ") || "none (nothing delivered yet)"}`,
    `${indent}Revenue ${money(f.revenue)}, cost ${money(f.cost)}, ROI ${f.roi === null ? "n/a (no cost)" : `${f.roi} (${pct(f.roi)})`}` +
      (f.fx_incomplete ? " (some amounts have no FX rate and are left out)" : ""),
    f.revenue_currencies.length || f.cost_currencies.length
      ? `${indent}Currencies: revenue ${cur(f.revenue_currencies) || "none"}; cost ${cur(f.cost_currencies) || "none"}`
      : "",
    f.not_applicable.length ? `${indent}Not applicable on this channel: ${f.not_applicable.join(", ")}` : "",
  ];
}
