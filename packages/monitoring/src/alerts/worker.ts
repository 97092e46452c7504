// The alert evaluator as background work: `pnpm worker`, and the HTTP host with MARKETSAGE_WORKER=1,
// evaluate every organization's enabled rules every ALERTS_EVALUATE_SECONDS (default 60). Any
// number of processes may run it: a breach fires once (alerts_open_threshold_key).
import type { Logger } from "@marketsage/core";
import type { Db } from "@marketsage/db";
import { evaluateAlerts } from "./evaluate.ts";

export const alertsWorker = async (o: { db: Db; databaseUrl: string; env: Readonly<Record<string, string | undefined>>; log: Logger }): Promise<{ stop(): Promise<void> }> => {
  const seconds = Number(o.env.ALERTS_EVALUATE_SECONDS ?? 60);
  if (!(Number.isFinite(seconds) && seconds >= 1)) throw new Error(`ALERTS_EVALUATE_SECONDS must be a number of seconds ≥ 1, got ${o.env.ALERTS_EVALUATE_SECONDS}`);
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return; // a slow evaluation is not run twice at once
    running = (async () => {
      try {
        const ev = await evaluateAlerts(o.db, new Date());
        const fired = ev.filter((e) => e.action === "fired").length;
        const resolved = ev.filter((e) => e.action === "resolved").length;
        if (fired || resolved) o.log.info({ rules: ev.length, fired, resolved }, "alerts evaluated");
      } catch (err) {
        o.log.error({ err: err instanceof Error ? err.message : String(err) }, "alert evaluation failed");
      } finally {
        running = null;
      }
    })();
  };
  tick();
  const timer = setInterval(tick, seconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
};
