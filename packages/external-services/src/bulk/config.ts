// Bulk-send settings from the environment (.env.example), checked once with clear messages.
//   BULK_RATE_<PROVIDER>            messages per second per provider, across all workers
//                                   (AFRICASTALKING 50, TWILIO 50, SMTP 20, WHATSAPP 80)
//   BULK_CONFIRM_RECIPIENTS         sends to this many recipients or more need a confirmation token (100)
//   BULK_CONFIRM_COST               … or costing this much or more in the reporting currency (off)
//   BULK_CHUNK_SIZE                 recipients per job (200)
//   BULK_WAVE_SIZE                  recipients claimed and sent together inside a job (50)
//   BULK_WORKER_CONCURRENCY         jobs one worker process runs at once (4)
//   BULK_JOB_EXPIRE_SECONDS         a job not finished by then (its worker died) is given to another worker (60)
//   BULK_MAINTENANCE_SECONDS        how often pg-boss looks for expired jobs (10)
//   BULK_DEFER_RECHECK_SECONDS      a chunk waiting for deferred recipients looks again at least this often (60)
//   BULK_RECONCILE_AFTER_SECONDS    a recipient claimed this long ago by a worker that is gone is reconciled (15 + send timeout)
import type { ProviderName } from "../providers/types.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface BulkConfig {
  rates: Record<ProviderName, number>;
  confirmRecipients: number;
  confirmCost: number | null;
  chunkSize: number;
  waveSize: number;
  concurrency: number;
  expireSeconds: number;
  maintenanceSeconds: number;
  reconcileAfterMs: number | null;
  /** A chunk waiting for deferred recipients looks again at least this often (the clock may move: DST, a corrected server time). */
  recheckMs: number;
}

export class BulkConfigError extends Error {}

function num(env: Env, key: string, dflt: number, min: number, max: number, integer = true): number {
  const raw = env[key]?.trim();
  if (!raw) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new BulkConfigError(`${key} must be ${integer ? "a whole number" : "a number"} from ${min} to ${max}, not "${raw}"`);
  }
  return n;
}

export function bulkConfig(env: Env): BulkConfig {
  const cost = env.BULK_CONFIRM_COST?.trim();
  const expireSeconds = num(env, "BULK_JOB_EXPIRE_SECONDS", 60, 3, 3600);
  return {
    rates: {
      africastalking: num(env, "BULK_RATE_AFRICASTALKING", 50, 0.1, 100_000, false),
      twilio: num(env, "BULK_RATE_TWILIO", 50, 0.1, 100_000, false),
      smtp: num(env, "BULK_RATE_SMTP", 20, 0.1, 100_000, false),
      whatsapp: num(env, "BULK_RATE_WHATSAPP", 80, 0.1, 100_000, false),
    },
    confirmRecipients: num(env, "BULK_CONFIRM_RECIPIENTS", 100, 1, 10_000_000),
    confirmCost: cost ? num(env, "BULK_CONFIRM_COST", 0, 0, 1e12, false) : null,
    chunkSize: num(env, "BULK_CHUNK_SIZE", 200, 1, 10_000),
    waveSize: num(env, "BULK_WAVE_SIZE", 50, 1, 1_000),
    concurrency: num(env, "BULK_WORKER_CONCURRENCY", 4, 1, 64),
    expireSeconds,
    maintenanceSeconds: num(env, "BULK_MAINTENANCE_SECONDS", 10, 1, 3600),
    recheckMs: num(env, "BULK_DEFER_RECHECK_SECONDS", 60, 1, 3600) * 1000,
    reconcileAfterMs: env.BULK_RECONCILE_AFTER_SECONDS?.trim() ? num(env, "BULK_RECONCILE_AFTER_SECONDS", 0, 1, 86_400) * 1000 : null,
  };
}
