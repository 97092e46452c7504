// list_providers and get_provider_balance: what sends where, in which mode, how healthy, at what
// cost — and the providers' own balance APIs.
import { defineTool, lines, UpstreamRejectedError } from "@marketsage/core";
import { Prisma } from "@marketsage/db";
import { z } from "zod";
import { describeConfig } from "../config.ts";
import { readCircuits } from "../providers/circuit.ts";
import type { ProviderName as Name } from "../providers/types.ts";
import { MIN_SAMPLE, OBSERVED_DAYS } from "../send/route.ts";
import { MoneyOut, ProviderName, money, serviceOf } from "./shared.ts";

const ALL: readonly Name[] = ["africastalking", "twilio", "smtp", "whatsapp"];
const CHANNEL: Record<Name, string> = { africastalking: "SMS", twilio: "SMS", smtp: "EMAIL", whatsapp: "WHATSAPP" };

export const listProviders = defineTool({
  name: "list_providers",
  title: "Messaging providers",
  description:
    "Every provider per channel: live or sandbox (and why), circuit state, delivery rate and median time to delivery " +
    `in this organization's last ${OBSERVED_DAYS} days, its senders, the rate for its country, how SMS auto-routing chooses.`,
  scopes: ["messages:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ country: z.string().regex(/^[A-Z]{2}$/, { error: "an ISO 3166-1 alpha-2 code, e.g. KE" }).optional().describe("Default: the organization's.") }),
  output: z.object({
    providers: z.array(z.object({
      provider: z.string(),
      channel: z.string(),
      mode: z.enum(["live", "sandbox"]),
      mode_detail: z.string(),
      circuit: z.object({ state: z.string(), consecutive_failures: z.number().int(), retry_at: z.string().nullable() }),
      observed: z.object({ delivered: z.number().int(), failed: z.number().int(), delivery_rate: z.number().nullable(), median_seconds_to_delivery: z.number().nullable() }),
      senders: z.array(z.object({ sender: z.string(), default: z.boolean() })),
      rate: z.object({ country: z.string(), unit_cost: MoneyOut, source: z.string() }).nullable(),
    })),
    routing: z.string(),
  }),
  handler: async (i, ctx) => {
    const svc = serviceOf(ctx);
    const now = ctx.now();
    const country = i.country ?? ctx.org.defaultCountry;
    const since = new Date(now.getTime() - OBSERVED_DAYS * 86_400_000);
    const circuits = await readCircuits(ctx.db, ALL, now);
    const observed = await ctx.db.$queryRaw<Array<{ provider: string; delivered: number; failed: number; p50: number | null }>>(Prisma.sql`
      select m.provider, count(*) filter (where e.type = 'DELIVERED')::int as delivered, count(*) filter (where e.type = 'FAILED')::int as failed,
             (percentile_cont(0.5) within group (order by extract(epoch from e.occurred_at - m.created_at)) filter (where e.type = 'DELIVERED'))::float8 as p50
        from message_events e join messages m on m.id = e.message_id
       where e.organization_id = ${ctx.org.id}::uuid and e.type in ('DELIVERED', 'FAILED') and e.occurred_at >= ${since} and e.occurred_at < ${now} and m.provider is not null
       group by 1`);
    const senders = await ctx.db.$queryRaw<Array<{ provider: string; sender: string; is_default: boolean }>>`
      select provider, sender, is_default from sender_identities where organization_id = ${ctx.org.id}::uuid order by provider, is_default desc, sender`;
    const rates = await ctx.db.$queryRaw<Array<{ provider: string; country: string; unit_cost: string; currency: string; source: string }>>`
      select distinct on (provider) provider, country, unit_cost::text as unit_cost, trim(currency) as currency, source from provider_rates
       where country = any(${[country, "ZZ"]}::text[]) and effective_from <= ${now} order by provider, effective_from desc`;
    const detail = describeConfig(svc.config);
    return {
      providers: ALL.map((p, k) => {
        const o = observed.find((r) => r.provider === p);
        const c = circuits[k]!;
        const r = rates.find((x) => x.provider === p);
        const n = (o?.delivered ?? 0) + (o?.failed ?? 0);
        return {
          provider: p,
          channel: CHANNEL[p],
          mode: svc.config[p].mode,
          mode_detail: detail[k]!,
          circuit: { state: c.state, consecutive_failures: c.consecutiveFailures, retry_at: c.retryAt?.toISOString() ?? null },
          observed: { delivered: o?.delivered ?? 0, failed: o?.failed ?? 0, delivery_rate: n ? (o!.delivered / n) : null, median_seconds_to_delivery: o?.p50 ?? null },
          senders: senders.filter((s) => s.provider === p).map((s) => ({ sender: s.sender, default: s.is_default })),
          rate: r ? { country: r.country, unit_cost: { amount: r.unit_cost, currency: r.currency }, source: r.source } : null,
        };
      }),
      routing:
        `SMS provider "auto": the expected cost of a delivered message — the country's rate in ${ctx.org.reportingCurrency} (stored FX) divided by the ` +
        `delivery rate observed over ${OBSERVED_DAYS} days (used from ${MIN_SAMPLE} outcomes) — lowest first; open circuits skipped; ties in the order ${svc.config.smsOrder.join(", ")} ` +
        "(MESSAGING_SMS_ORDER). The next provider is tried only after a provider-side definite refusal (balance, sender, route), never after a timeout.",
    };
  },
  render: (o) =>
    lines(
      o.providers.map((p) =>
        `- ${p.provider} (${p.channel}): ${p.mode_detail.replace(/^[^:]+: /, "")}; circuit ${p.circuit.state}${p.circuit.consecutive_failures ? ` (${p.circuit.consecutive_failures} failures${p.circuit.retry_at ? `, trial at ${p.circuit.retry_at}` : ""})` : ""}; ` +
        `observed ${p.observed.delivery_rate === null ? "no outcomes" : `${(p.observed.delivery_rate * 100).toFixed(1)}% delivered (${p.observed.delivered} delivered, ${p.observed.failed} failed)`}${p.observed.median_seconds_to_delivery !== null ? `, median ${p.observed.median_seconds_to_delivery.toFixed(1)} s to delivery` : ""}; ` +
        `senders ${p.senders.length ? p.senders.map((s) => `${s.sender}${s.default ? " (default)" : ""}`).join(", ") : "provider default"}; ` +
        `rate ${p.rate ? `${money(p.rate.unit_cost)} per ${p.channel === "SMS" ? "segment" : "message"} (${p.rate.country === "ZZ" ? "ZZ: any country" : p.rate.country}, ${p.rate.source})` : "none on record"}.`,
      ),
      `Routing: ${o.routing}`,
    ),
});

export const getProviderBalance = defineTool({
  name: "get_provider_balance",
  title: "Provider account balance",
  description: "The provider's balance API (Africa's Talking user data, Twilio Balance), cached a minute; in sandbox mode the emulator's. SMTP and WhatsApp have none.",
  scopes: ["messages:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  input: z.object({ provider: ProviderName.optional().describe("Default: every provider with a balance API.") }),
  output: z.object({
    balances: z.array(z.object({ provider: z.string(), mode: z.enum(["live", "sandbox"]), balance: MoneyOut.nullable(), fetched_at: z.string().nullable(), cached: z.boolean(), note: z.string().nullable() })),
  }),
  handler: async (i, ctx) => {
    const svc = serviceOf(ctx);
    const asked: readonly Name[] = i.provider ? [i.provider] : ["africastalking", "twilio"];
    const balances = [];
    for (const p of asked) {
      const mode = svc.config[p].mode;
      if (p === "smtp" || p === "whatsapp") {
        balances.push({ provider: p, mode, balance: null, fetched_at: null, cached: false, note: p === "smtp" ? "SMTP has no balance." : "WhatsApp Cloud API bills the Meta business account; it has no balance API." });
        continue;
      }
      try {
        const b = await svc.balance(p);
        balances.push({ provider: p, mode, balance: b.balance, fetched_at: b.fetchedAt.toISOString(), cached: b.cached, note: null });
      } catch (e) {
        ctx.log.warn({ err: e, provider: p }, "balance lookup failed");
        if (i.provider) throw new UpstreamRejectedError(`${p} did not return its balance; try again shortly.`, { provider: p });
        balances.push({ provider: p, mode, balance: null, fetched_at: null, cached: false, note: "the provider did not return its balance; try again shortly" });
      }
    }
    return { balances };
  },
  render: (o) =>
    lines(o.balances.map((b) => `- ${b.provider} (${b.mode}): ${b.balance ? `${money(b.balance)} as of ${b.fetched_at}${b.cached ? " (cached)" : ""}` : (b.note ?? "unknown")}`)),
});
