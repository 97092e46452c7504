// The bulk-send worker as the catalog's background work (`pnpm worker`, or the HTTP host with
// MARKETSAGE_WORKER=1): started on the process's database client, so in sandbox mode it shares the
// process's emulators and, in the host, their callbacks reach the host's own webhook routes.
import type { Db } from "@marketsage/db";
import type { Logger } from "@marketsage/core";
import { startWorker } from "./run.ts";

export { startWorker } from "./run.ts";
export type { RunningWorker, WorkerOptions } from "./run.ts";

export const bulkWorker = (o: { db: Db; databaseUrl: string; env: Readonly<Record<string, string | undefined>>; log: Logger }) =>
  startWorker({ db: o.db, databaseUrl: o.databaseUrl, env: o.env, log: o.log });
