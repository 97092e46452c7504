// Conversion values in the organization's currency (some in USD, as card payments abroad are),
// sized to the market: NGN baskets in the thousands to hundreds of thousands, KES far smaller.
import { USD_RATES } from "./geo.ts";
import type { Rng } from "./prng.ts";

export type ConversionType = "purchase" | "signup" | "subscription";

export function conversionType(rng: Rng): ConversionType {
  const r = rng.next();
  return r < 0.75 ? "purchase" : r < 0.9 ? "signup" : "subscription";
}

export function conversionValue(rng: Rng, currency: string, type: ConversionType): { value: string; currency: string } {
  const ngn = currency === "NGN";
  let v: number;
  if (type === "purchase") v = Math.min(ngn ? 450_000 : 60_000, Math.max(ngn ? 1_500 : 100, rng.logNormal(ngn ? 22_000 : 2_500, 0.9)));
  else if (type === "subscription") v = ngn ? rng.uniform(5_000, 20_000) : rng.uniform(300, 1_500);
  else v = ngn ? rng.uniform(500, 2_000) : rng.uniform(100, 300);
  v = Math.round(v / (ngn ? 50 : 5)) * (ngn ? 50 : 5);
  if (rng.chance(0.05)) {
    // Paid in dollars (diaspora customers, international cards).
    return { value: (v / (USD_RATES[currency] ?? 1)).toFixed(2), currency: "USD" };
  }
  return { value: v.toFixed(2), currency };
}
