// A bulk-send worker process (or a worker inside the HTTP host): pg-boss on the database, N chunk
// jobs at once (BULK_WORKER_CONCURRENCY), a heartbeat (get_bulk_send_status says when none is
// alive), the messaging service of its own database client (providers, emulators in sandbox mode).
// Any number of workers may run: recipients are claimed row by row, throttles are shared in the
// database, and a dead worker's jobs expire and go to another.
import { randomUUID } from "node:crypto";
import { startHeartbeat, type Logger } from "@marketsage/core";
import { openDb, type Db } from "@marketsage/db";
import { messagingFor, closeMessagingFor, type ServiceOptions } from "../service.ts";
import { bulkConfig, type BulkConfig } from "./config.ts";
import { bossFor, QUEUE, stopBosses, type ChunkJob } from "./queue.ts";
import { WORKER_SERVER } from "./status.ts";
import { processChunk, workerStats, type WorkerDeps } from "./worker.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface RunningWorker {
  id: string;
  db: Db;
  /** Chunk jobs finished by this worker (tests, the tour). */
  readonly jobsDone: number;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  databaseUrl: string;
  env: Env;
  log: Logger;
  /** Use this database client (and its messaging service) instead of opening one (tests, the host). */
  db?: Db;
  service?: ServiceOptions;
  now?: () => Date;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const cfg: BulkConfig = bulkConfig(o.env);
  const own = !o.db;
  const db = o.db ?? openDb(o.databaseUrl, { max: cfg.concurrency * 2 + 4 });
  const svc = messagingFor(db, { env: o.env, log: o.log, ...(o.service ?? {}) });
  const id = randomUUID();
  const log = o.log.child({ worker: id.slice(0, 8) });
  const boss = await bossFor(db, "worker", cfg, (e) => log.warn({ err: e.message }, "pg-boss error"));
  const deps: WorkerDeps = { db, svc, cfg, log, boss, workerId: id, now: o.now ?? (() => new Date()), env: o.env };
  const heartbeat = startHeartbeat(db, WORKER_SERVER, "0.1.0", log);
  let jobsDone = 0;
  const workIds: string[] = [];
  for (let i = 0; i < cfg.concurrency; i++) {
    workIds.push(
      await boss.work<ChunkJob>(QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
        if (!job) return;
        try {
          await processChunk(deps, job.data);
          jobsDone++;
        } catch (e) {
          log.warn({ err: (e as Error).message, bulk_send: job.data.bulkSendId, chunk: job.data.chunk }, "bulk chunk failed; pg-boss retries it");
          throw e;
        }
      }),
    );
  }
  log.info({ concurrency: cfg.concurrency, rates: cfg.rates }, "bulk-send worker started");
  // Where the time goes, every 10 s while sending (the benchmark reads these lines).
  let last = 0;
  const statsTimer = setInterval(() => {
    if (workerStats.sends === last) return;
    last = workerStats.sends;
    log.info({ stats: { ...workerStats } }, "bulk worker stats");
  }, 10_000);
  statsTimer.unref();
  return {
    id,
    db,
    get jobsDone() {
      return jobsDone;
    },
    async stop() {
      clearInterval(statsTimer);
      if (workerStats.sends !== last) log.info({ stats: { ...workerStats } }, "bulk worker stats");
      for (const w of workIds) await boss.offWork({ id: w }).catch(() => undefined);
      await heartbeat.stop();
      await stopBosses(db);
      if (own) {
        await closeMessagingFor(db);
        await db.$disconnect();
      }
    },
  };
}
