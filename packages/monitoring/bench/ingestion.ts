// What message_kpi_slots costs the writers: messages written as the send path writes them (the
// message and its QUEUED event in one statement, then SENT, then DELIVERED, each a transaction of
// a 20-message chunk, like a bulk worker), timed by the wall clock and by PostgreSQL's own function
// timing (track_functions, read per transaction from pg_stat_xact_user_functions): the slots'
// trigger functions against every trigger function the writes ran. The rows are deleted after.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { BenchContext } from "@marketsage/core";

const KPI_FUNCTIONS = ["marketsage_kpi_events_changed", "marketsage_kpi_messages_changed"];

export async function benchKpiIngestion(b: BenchContext): Promise<{ lines: string[] }> {
  const messages = Math.max(200, Math.min(b.n * 40, 4000));
  const chunk = 20;
  const c = new pg.Client({ connectionString: b.databaseUrl, options: "-c timezone=UTC" });
  await c.connect();
  const ids: string[] = [];
  const fn = new Map<string, number>();
  let wall = 0;
  try {
    await c.query(`set track_functions = 'all'`).catch(() => {
      throw new Error("monitoring-ingestion needs a role that may SET track_functions (a superuser): the figures come from PostgreSQL's function timing");
    });
    for (let i = 0; i < messages; i++) ids.push(randomUUID());
    const tx = async (text: string, params: unknown[]) => {
      // Trigger functions only (what they call is inside their total time). The view holds what
      // this backend has not yet flushed, earlier transactions' too: the statement's share is the
      // difference around it.
      const read = async () =>
        new Map(
          (await c.query<{ funcname: string; total: number }>(
            `select f.funcname, f.total_time total from pg_stat_xact_user_functions f join pg_proc p on p.oid = f.funcid where p.prorettype = 'trigger'::regtype`,
          )).rows.map((r) => [r.funcname, r.total]),
        );
      await c.query("begin");
      const before = await read();
      const t0 = performance.now();
      await c.query(text, params);
      wall += performance.now() - t0;
      const after = await read();
      await c.query("commit");
      for (const [f, v] of after) fn.set(f, (fn.get(f) ?? 0) + v - (before.get(f) ?? 0));
    };
    const at = new Date();
    for (let i = 0; i < messages; i += chunk) {
      const part = ids.slice(i, i + chunk);
      await tx(
        `with m as (
           insert into messages (id, organization_id, channel, direction, recipient, body, provider, segments, status, created_at, status_at, cost, currency, sandbox)
           select x, $2::uuid, 'SMS', 'OUTBOUND', '+2348000000000', 'bench', 'sandbox', 1, 'QUEUED', $3, $3, 5.5, 'NGN', true from unnest($1::uuid[]) x
           returning id, organization_id, channel)
         insert into message_events (organization_id, message_id, channel, type, occurred_at) select organization_id, id, channel, 'QUEUED', $3 from m`,
        [part, b.orgId, at],
      );
    }
    for (const type of ["SENT", "DELIVERED"]) {
      for (let i = 0; i < messages; i += chunk) {
        await tx(
          `insert into message_events (organization_id, message_id, channel, type, occurred_at) select $2::uuid, x, 'SMS', $3::"MessageEventType", $4 from unnest($1::uuid[]) x`,
          [ids.slice(i, i + chunk), b.orgId, type, at],
        );
      }
    }
  } finally {
    for (let i = 0; i < ids.length; i += 500) {
      await c.query(`delete from message_events where message_id = any($1::uuid[])`, [ids.slice(i, i + 500)]);
      await c.query(`delete from messages where id = any($1::uuid[])`, [ids.slice(i, i + 500)]);
    }
    await c.end();
  }
  const kpi = KPI_FUNCTIONS.reduce((s, f) => s + (fn.get(f) ?? 0), 0);
  const triggers = [...fn.entries()];
  const allTriggers = triggers.reduce((s, [, v]) => s + v, 0);
  const per = (x: number) => `${(x / messages).toFixed(3)} ms per message`;
  return {
    lines: [
      `message_kpi_slots on ingestion: ${messages} messages × 3 events (QUEUED with the message, then SENT, then DELIVERED; ${chunk} per statement, one transaction each): ` +
        `the statements ${wall.toFixed(0)} ms (${per(wall)}); the slots' triggers ${kpi.toFixed(1)} ms (${per(kpi)}, ${((kpi / wall) * 100).toFixed(1)}% of the statements' time); ` +
        `every trigger function ${allTriggers.toFixed(1)} ms (${per(allTriggers)}): ${triggers.sort((x, y) => y[1] - x[1]).map(([f, v]) => `${f} ${v.toFixed(1)}`).join(", ")}.`,
    ],
  };
}
