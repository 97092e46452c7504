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
