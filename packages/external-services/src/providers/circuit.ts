// A circuit breaker per provider, its state in the database (provider_circuits) so every server
// process, replica and the monitoring server see the same one.
//
// Policy (CIRCUIT_POLICY): `failuresToOpen` consecutive provider-side failures (transient: 5xx,
// gateway; unknown: no answer) open the circuit; while open, sends skip the provider (`auto`
// routing fails over, a pinned provider is refused with the time it reopens); after `openMs` the
// circuit is half open: the next send is a trial — accepted closes it, another failure opens it
// again. A definite refusal (invalid number, blacklisted) says nothing about the provider's health:
// it resets the failure count like a success. Each outcome is one atomic upsert, so concurrent
// processes never lose a count.
import { Prisma } from "@marketsage/db";
import type { DbHandle } from "@marketsage/core";
import type { ProviderName, SendOutcome } from "./types.ts";

export const CIRCUIT_POLICY = { failuresToOpen: 5, openMs: 30_000 } as const;

export type CircuitState = "closed" | "open" | "half_open";

export interface Circuit {
  provider: ProviderName;
  /** As a sender sees it now: an open circuit whose time has passed reads as half open. */
  state: CircuitState;
  consecutiveFailures: number;
  openedAt: Date | null;
  /** When an open circuit lets a trial through. */
  retryAt: Date | null;
}

type Row = { provider: string; state: string; consecutive_failures: number; opened_at: Date | null };

function view(r: Row | undefined, provider: ProviderName, now: Date, policy = CIRCUIT_POLICY): Circuit {
  if (!r) return { provider, state: "closed", consecutiveFailures: 0, openedAt: null, retryAt: null };
  const retryAt = r.state === "open" && r.opened_at ? new Date(r.opened_at.getTime() + policy.openMs) : null;
  const state: CircuitState = r.state === "open" && retryAt && retryAt <= now ? "half_open" : (r.state as CircuitState);
  return { provider, state, consecutiveFailures: r.consecutive_failures, openedAt: r.opened_at, retryAt: state === "open" ? retryAt : null };
}

export async function readCircuits(db: DbHandle, providers: readonly ProviderName[], now: Date): Promise<Circuit[]> {
  const rows = await db.$queryRaw<Row[]>`select provider, state, consecutive_failures, opened_at from provider_circuits where provider = any(${[...providers]}::text[])`;
  return providers.map((p) => view(rows.find((r) => r.provider === p), p, now));
}

/** Whether a send may go to this provider now (closed, or half open: the trial). */
export const allows = (c: Circuit) => c.state !== "open";

/** Records one send's outcome and returns the circuit after it. */
export async function recordOutcome(db: DbHandle, provider: ProviderName, outcome: SendOutcome["kind"], now: Date, policy = CIRCUIT_POLICY): Promise<Circuit> {
  const failed = outcome === "transient" || outcome === "unknown";
  const openBefore = new Date(now.getTime() - policy.openMs);
  // A failure: count it; open at the threshold, or at once when the circuit was half open (open and
  // its time passed). Anything else closes the circuit and resets the count.
  const [r] = failed
    ? await db.$queryRaw<Row[]>`
        insert into provider_circuits as c (provider, state, consecutive_failures, opened_at, updated_at)
        values (${provider}, case when 1 >= ${policy.failuresToOpen} then 'open' else 'closed' end, 1,
                case when 1 >= ${policy.failuresToOpen} then ${now}::timestamptz end, ${now})
        on conflict (provider) do update set
          consecutive_failures = c.consecutive_failures + 1,
          state = case when c.state = 'open' or c.consecutive_failures + 1 >= ${policy.failuresToOpen} then 'open' else 'closed' end,
          opened_at = case when c.state = 'open' and c.opened_at > ${openBefore}::timestamptz then c.opened_at
                           when c.state = 'open' or c.consecutive_failures + 1 >= ${policy.failuresToOpen} then ${now}::timestamptz
                           else null end,
          updated_at = ${now}
        returning provider, state, consecutive_failures, opened_at`
    : await db.$queryRaw<Row[]>`
        insert into provider_circuits as c (provider, state, consecutive_failures, opened_at, updated_at)
        values (${provider}, 'closed', 0, null, ${now})
        on conflict (provider) do update set state = 'closed', consecutive_failures = 0, opened_at = null, updated_at = ${now}
        returning provider, state, consecutive_failures, opened_at`;
  return view(r, provider, now, policy);
}

/** For an operator (and the tests): close a provider's circuit by hand. */
export async function resetCircuit(db: DbHandle, provider: ProviderName): Promise<void> {
  await db.$executeRaw(Prisma.sql`delete from provider_circuits where provider = ${provider}`);
}
