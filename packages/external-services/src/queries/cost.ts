// Cost estimates from provider_rates: the rate in effect at the send's time for the provider,
// channel and destination country (email: the provider's 'ZZ' row, any country), times the
// message's units (SMS segments; 1 otherwise). No row: the estimate is unknown, said so.
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { fxSql } from "@marketsage/domain";
import { Prisma } from "@marketsage/db";
import type { Channel, Money, ProviderName } from "../providers/types.ts";

export interface CostEstimate {
  provider: ProviderName;
  country: string;
  unitCost: Money;
  units: number;
  total: Money;
  /** The rate's origin ("default: illustrative", or an operator's contract). */
  source: string;
}

type RateRow = { provider: string; country: string; unit_cost: string; currency: string; source: string };

/** Multiplies a decimal string by a whole number of units without floating point. */
export function times(amount: string, units: number): string {
  const [i, f = ""] = amount.split(".");
  const scale = f.length;
  const n = BigInt((i ?? "0") + f) * BigInt(units);
  const neg = n < 0n;
  const s = (neg ? -n : n).toString().padStart(scale + 1, "0");
  const out = scale ? `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}` : s;
  return neg ? `-${out}` : out;
}

export async function estimateCosts(
  db: DbHandle,
  q: { providers: readonly ProviderName[]; channel: Channel; country: string | null; units: number; at: Date },
): Promise<Map<ProviderName, CostEstimate>> {
  const countries = q.channel === "EMAIL" ? ["ZZ"] : q.country ? [q.country.toUpperCase()] : [];
  const out = new Map<ProviderName, CostEstimate>();
  if (countries.length === 0 || q.providers.length === 0) return out;
  const rows = await db.$queryRaw<RateRow[]>`
    select distinct on (provider) provider, country, unit_cost::text as unit_cost, trim(currency) as currency, source
      from provider_rates
     where provider = any(${[...q.providers]}::text[]) and channel = ${q.channel}::"Channel" and country = any(${countries}::text[])
       and effective_from <= ${q.at}
     order by provider, effective_from desc`;
  for (const r of rows) {
    const p = r.provider as ProviderName;
    out.set(p, {
      provider: p,
      country: r.country,
      unitCost: { amount: r.unit_cost, currency: r.currency },
      units: q.units,
      total: { amount: times(r.unit_cost, q.units), currency: r.currency },
      source: r.source,
    });
  }
  return out;
}

/**
 * Each estimate's total in the organization's reporting currency, by the stored FX rates at the
 * send's date (marketsage_fx); null when a rate is missing (said so, never guessed).
 */
export async function inReportingCurrency(db: DbHandle, org: Pick<OrgInfo, "reportingCurrency">, costs: readonly CostEstimate[], at: Date): Promise<Map<ProviderName, number | null>> {
  const out = new Map<ProviderName, number | null>();
  if (costs.length === 0) return out;
  const parts = costs.map((c) => Prisma.sql`(${fxSql(Prisma.sql`${c.total.amount}::numeric`, c.total.currency, org.reportingCurrency, Prisma.sql`${at}::timestamptz`)})::text`);
  const [r] = await db.$queryRaw<Array<{ v: Array<string | null> }>>`select array[${Prisma.join(parts)}] as v`;
  costs.forEach((c, i) => out.set(c.provider, r!.v[i] === null ? null : Number(r!.v[i])));
  return out;
}
