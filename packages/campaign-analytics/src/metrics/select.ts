// Choosing a metric in a tool's input, and reading its successes/trials out of a tally.
import { UserError } from "@marketsage/core";
import type { ChannelName } from "@marketsage/domain";
import { z } from "zod";
import type { Tally } from "../queries/campaign-counts.ts";
import { RATE_KEYS, RATES, rateApplies, type RateKey } from "./definitions.ts";

export const RateMetricInput = (def: RateKey) =>
  z.enum(RATE_KEYS).default(def).describe(`The rate to compare (default ${def}).`);

export interface Binomial {
  successes: number;
  trials: number;
}

/** The metric's numerator and denominator in a tally; null when the metric does not exist on the channel. */
export function binomialOf(t: Tally, key: RateKey, channel: ChannelName): Binomial | null {
  if (!rateApplies(key, channel)) return null;
  const r = RATES[key];
  return { successes: t.counts[r.numerator], trials: t.counts[r.denominator] };
}

/**
 * Why a binomial cannot be tested, or null when it can: more successes than trials happens only
 * when events are missing (e.g. converting contacts of messages without a delivery receipt).
 */
export function inconsistency(b: Binomial, key: RateKey): string | null {
  const r = RATES[key];
  return b.successes > b.trials ? `${b.successes} ${r.numerator} but only ${b.trials} ${r.denominator}: delivery events are missing, no test` : null;
}

export function requireApplies(key: RateKey, channel: ChannelName, what: string): void {
  if (!rateApplies(key, channel)) {
    throw new UserError(`${key} does not exist on ${channel} (${what}); pick a rate that does, e.g. click_rate or delivery_rate.`);
  }
}

/** "rate = numerator / denominator" in words, for answers. */
export const metricWords = (key: RateKey) => `${key} = ${RATES[key].words}`;

/** A p-value for output: 4 decimals, or 2 significant digits below 0.0001 (never a bare 0). */
export function roundP(p: number | null | undefined): number | null {
  if (p === null || p === undefined) return null;
  return p >= 0.0001 || p === 0 ? Math.round(p * 1e4) / 1e4 : Number(p.toPrecision(2));
}
