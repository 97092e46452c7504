// `send_sms` with provider "auto": the SMS providers ranked for one message by what a delivered
// message is expected to cost — the rate for the destination country in the reporting currency
// (stored FX at the send's date), divided by the delivery rate observed in this organization's own
// events over the last 7 days (when there are at least MIN_SAMPLE outcomes; otherwise the rate
// alone) — skipping providers whose circuit is open. Ties keep the configured order
// (MESSAGING_SMS_ORDER). The decision and its reasons go into the answer.
import { Prisma } from "@marketsage/db";
import type { DbHandle } from "@marketsage/core";
import { allows, type Circuit } from "../providers/circuit.ts";
import type { ProviderName } from "../providers/types.ts";
import type { CostEstimate } from "../queries/cost.ts";

export const OBSERVED_DAYS = 7;
export const MIN_SAMPLE = 20;

export interface Observed {
  delivered: number;
  failed: number;
  /** delivered / (delivered + failed); null without outcomes. */
  rate: number | null;
}

/** Delivered and failed SMS outcomes per provider in [now − 7 days, now), this organization's. */
export async function observedDelivery(db: DbHandle, orgId: string, now: Date): Promise<Map<string, Observed>> {
  const since = new Date(now.getTime() - OBSERVED_DAYS * 86_400_000);
  const rows = await db.$queryRaw<Array<{ provider: string; delivered: number; failed: number }>>(Prisma.sql`
    select m.provider, count(*) filter (where e.type = 'DELIVERED')::int as delivered, count(*) filter (where e.type = 'FAILED')::int as failed
      from message_events e join messages m on m.id = e.message_id
     where e.organization_id = ${orgId}::uuid and e.type in ('DELIVERED', 'FAILED') and e.occurred_at >= ${since} and e.occurred_at < ${now}
       and e.channel = 'SMS' and m.provider is not null
     group by 1`);
  return new Map(rows.map((r) => [r.provider, { delivered: r.delivered, failed: r.failed, rate: r.delivered + r.failed > 0 ? r.delivered / (r.delivered + r.failed) : null }]));
}

export interface RouteInput {
  provider: ProviderName;
  cost: CostEstimate | null;
  /** The cost in the organization's reporting currency (null: no rate, or no FX rate). */
  costReporting: number | null;
  observed: Observed | undefined;
  circuit: Circuit;
}

export interface RankedProvider {
  provider: ProviderName;
  eligible: boolean;
  /** Expected cost per delivered message in the reporting currency (null: unknown). */
  perDelivered: number | null;
  reason: string;
}

export interface RouteDecision {
  /** Eligible providers, best first (a definite failure or an open circuit moves to the next). */
  order: ProviderName[];
  ranked: RankedProvider[];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function rankSmsProviders(inputs: readonly RouteInput[], preference: readonly ProviderName[], currency: string): RouteDecision {
  const pref = (p: ProviderName) => {
    const i = preference.indexOf(p);
    return i < 0 ? preference.length : i;
  };
  const ranked: RankedProvider[] = inputs.map((c) => {
    if (!allows(c.circuit)) {
      return { provider: c.provider, eligible: false, perDelivered: null, reason: `${c.provider}: circuit open after ${c.circuit.consecutiveFailures} failures (retry at ${c.circuit.retryAt?.toISOString() ?? "soon"})` };
    }
    const obs = c.observed;
    const sampled = obs && obs.rate !== null && obs.delivered + obs.failed >= MIN_SAMPLE;
    const perDelivered = c.costReporting === null ? null : sampled && obs.rate! > 0 ? c.costReporting / obs.rate! : c.costReporting;
    const costText = c.cost ? `${c.cost.total.amount} ${c.cost.total.currency}${c.costReporting !== null && c.cost.total.currency !== currency ? ` (≈ ${c.costReporting.toFixed(4)} ${currency})` : ""}` : "no rate for this country";
    const obsText = obs && obs.rate !== null ? `${pct(obs.rate)} delivered of ${obs.delivered + obs.failed} in ${OBSERVED_DAYS} days${sampled ? "" : ` (under ${MIN_SAMPLE}: not used)`}` : `no outcomes in ${OBSERVED_DAYS} days`;
    const per = perDelivered !== null ? ` → ${perDelivered.toFixed(4)} ${currency} per delivered message` : "";
    return { provider: c.provider, eligible: true, perDelivered, reason: `${c.provider}: ${costText}, ${obsText}${per}` };
  });
  const order = ranked
    .filter((r) => r.eligible)
    .sort((a, b) => (a.perDelivered ?? Infinity) - (b.perDelivered ?? Infinity) || pref(a.provider) - pref(b.provider))
    .map((r) => r.provider);
  return { order, ranked };
}
