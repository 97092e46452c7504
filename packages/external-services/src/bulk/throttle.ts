// The per-provider send schedule every worker shares (provider_throttles): a worker reserves n
// consecutive slots at the provider's rate in one statement and sends slot i at start + i / rate,
// so the provider sees at most `rate` messages per second however many workers run (GCRA-like: an
// idle provider's schedule restarts at now, no burst is banked). When the provider answers "too
// many requests", the schedule is paused for a back-off every worker honours.
import type { DbHandle } from "@marketsage/core";

export interface Reservation {
  /** Milliseconds from now (the database's clock) to the first slot. */
  waitMs: number;
  /** Milliseconds between slots. */
  spacingMs: number;
}

export async function reserveSlots(db: DbHandle, provider: string, n: number, ratePerSecond: number): Promise<Reservation> {
  const spacingMs = 1000 / ratePerSecond;
  const [r] = await db.$queryRaw<Array<{ wait_ms: number }>>`
    with ins as (insert into provider_throttles (provider, next_at) values (${provider}, clock_timestamp()) on conflict (provider) do nothing),
    up as (
      update provider_throttles
         set next_at = greatest(next_at, clock_timestamp(), coalesce(paused_till, '-infinity'::timestamptz)) + make_interval(secs => ${(n * spacingMs) / 1000}::float8)
       where provider = ${provider}
       returning next_at - make_interval(secs => ${(n * spacingMs) / 1000}::float8) as start)
    select (extract(epoch from (coalesce((select start from up), clock_timestamp()) - clock_timestamp())) * 1000)::float8 as wait_ms`;
  return { waitMs: Math.max(0, r?.wait_ms ?? 0), spacingMs };
}

/** The provider said "too many requests": nobody sends to it before now + backoff. */
export async function pauseProvider(db: DbHandle, provider: string, backoffMs: number): Promise<void> {
  await db.$executeRaw`
    update provider_throttles set paused_till = greatest(coalesce(paused_till, clock_timestamp()), clock_timestamp() + make_interval(secs => ${backoffMs / 1000}::float8))
     where provider = ${provider}`;
}
