// The job system: pg-boss 10 on the same PostgreSQL (its own schema, `pgboss`), through our own
// connection pool. A job is "work on chunk N of bulk send B" — never a recipient (pg-boss
// measured ~100 jobs/s here, one batch per poll); the recipients' own rows are the source of truth,
// so a job run twice (after its worker died and the job expired) sends nobody twice.
import PgBoss from "pg-boss";
import { poolOf, type Db } from "@marketsage/db";
import type { BulkConfig } from "./config.ts";

export const QUEUE = "marketsage-bulk-send";

export interface ChunkJob {
  bulkSendId: string;
  chunk: number;
}

const bosses = new WeakMap<Db, Map<string, Promise<PgBoss>>>();

/**
 * The process's pg-boss for this database: "sender" (enqueue only: no maintenance) or "worker"
 * (also expires the jobs of dead workers, every BULK_MAINTENANCE_SECONDS).
 */
export function bossFor(db: Db, role: "sender" | "worker", cfg: BulkConfig, onError?: (e: Error) => void): Promise<PgBoss> {
  let byRole = bosses.get(db);
  if (!byRole) bosses.set(db, (byRole = new Map()));
  let p = byRole.get(role);
  if (!p) {
    p = (async () => {
      const pool = poolOf(db);
      if (!pool) throw new Error("bulk sends need the database's connection pool");
      const boss = new PgBoss({
        db: { executeSql: (text: string, values: unknown[]) => pool.query(text, values ?? []) },
        schema: "pgboss",
        supervise: role === "worker",
        schedule: false,
        maintenanceIntervalSeconds: cfg.maintenanceSeconds,
      });
      boss.on("error", (e: Error) => onError?.(e));
      await boss.start();
      await boss.createQueue(QUEUE, { name: QUEUE, policy: "standard", retryLimit: 100_000, retryDelay: 1, expireInSeconds: cfg.expireSeconds });
      return boss;
    })();
    byRole.set(role, p);
    p.catch(() => byRole!.delete(role));
  }
  return p;
}

export async function stopBosses(db: Db): Promise<void> {
  const byRole = bosses.get(db);
  bosses.delete(db);
  for (const p of byRole?.values() ?? []) {
    const boss = await p.catch(() => null);
    await boss?.stop({ graceful: true, wait: true, timeout: 30_000, close: false }).catch(() => undefined);
  }
}

export async function enqueueChunks(boss: PgBoss, cfg: BulkConfig, bulkSendId: string, chunks: readonly number[], startAfter?: Date): Promise<void> {
  if (chunks.length === 0) return;
  const jobs = chunks.map((chunk) => ({
    name: QUEUE, data: { bulkSendId, chunk } satisfies ChunkJob, retryLimit: 100_000, retryDelay: 1, expireInSeconds: cfg.expireSeconds,
    ...(startAfter ? { startAfter } : {}),
  }));
  for (let i = 0; i < jobs.length; i += 1000) await boss.insert(jobs.slice(i, i + 1000));
}
