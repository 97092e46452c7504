import { randomUUID } from "node:crypto";
import os from "node:os";
import { poolOf, type Db } from "@marketsage/db";
import type { Logger } from "./logger.ts";

export const HEARTBEAT_INTERVAL_MS = 15_000;

/** Each running server process writes a heartbeat row; monitoring reads them. */
export function startHeartbeat(db: Db, server: string, version: string, log: Logger): { instance: string; stop(): Promise<void> } {
  const instance = randomUUID();
  const startedAt = new Date();
  // Plain pg on the client's own pool: a server that has answered no call yet has not loaded
  // Prisma's query compiler (packages/db/src/client.ts), and a heartbeat is no reason to (measured:
  // idle RSS 102 → 75 MB, and no 100 ms compile in the middle of the first handshake).
  const sql = (text: string, values: unknown[]) => {
    const pool = poolOf(db);
    return pool ? pool.query(text, values) : db.$executeRawUnsafe(text, ...values);
  };
  // One warning when beats start failing and one line when they are back: a database that is down
  // for an hour is not 240 stack traces.
  let failing = false;
  const beat = async () => {
    try {
      await sql(
        `insert into server_heartbeats (server, instance, pid, host, version, started_at, beat_at)
         values ($1, $2, $3, $4, $5, $6, now())
         on conflict (server, instance) do update set beat_at = excluded.beat_at`,
        [server, instance, process.pid, os.hostname(), version, startedAt],
      );
      if (failing) log.info("heartbeat is back");
      failing = false;
    } catch (err) {
      if (!failing) log.warn({ err: (err as Error).message }, "heartbeat failed (logged once until it works again)");
      failing = true;
    }
  };
  void beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    instance,
    async stop() {
      clearInterval(timer);
      await sql(`delete from server_heartbeats where server = $1 and instance = $2`, [server, instance]).catch(() => undefined);
    },
  };
}
