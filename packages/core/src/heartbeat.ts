import { randomUUID } from "node:crypto";
import os from "node:os";
import type { Db } from "@marketsage/db";
import type { Logger } from "./logger.ts";

export const HEARTBEAT_INTERVAL_MS = 15_000;

/** Each running server process writes a heartbeat row; monitoring reads them. */
export function startHeartbeat(db: Db, server: string, version: string, log: Logger): { instance: string; stop(): Promise<void> } {
  const instance = randomUUID();
  const startedAt = new Date();
  const beat = async () => {
    try {
      await db.$executeRaw`
        insert into server_heartbeats (server, instance, pid, host, version, started_at, beat_at)
        values (${server}, ${instance}, ${process.pid}, ${os.hostname()}, ${version}, ${startedAt}, now())
        on conflict (server, instance) do update set beat_at = excluded.beat_at`;
    } catch (err) {
      log.warn({ err }, "heartbeat failed");
    }
  };
  void beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    instance,
    async stop() {
      clearInterval(timer);
      await db.$executeRaw`delete from server_heartbeats where server = ${server} and instance = ${instance}`.catch(() => undefined);
    },
  };
}
