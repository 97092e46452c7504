// What both leadpulse read benchmarks stand on: the tools served on the data's clock (one second
// after the organization's latest touchpoint, so "the last 30 days" hold the seeded traffic however
// old the seed is), a caller that fails on an error result, and a pool for the reference SQL.
import pg from "pg";
import { createRuntime, type AnyTool, type BenchContext } from "@marketsage/core";
import { ALL_ON, connectTestClient } from "@marketsage/core/testing";

export interface DataClockBench {
  now: Date;
  sql(text: string, params: unknown[]): Promise<pg.QueryResult>;
  /** The call's structured content; throws on an error result. */
  call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function onDataClock(b: BenchContext, tools: readonly AnyTool[], poolOptions: pg.PoolConfig = {}): Promise<DataClockBench> {
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: 2, ...poolOptions });
  const sql = (text: string, params: unknown[]) => pool.query(text, params);
  const at = ((await sql(`select max(occurred_at) at from touchpoints where organization_id = $1`, [b.orgId])).rows[0] as { at: Date }).at;
  const now = new Date(at.getTime() + 1_000);
  const runtime = createRuntime({ databaseUrl: b.databaseUrl, flags: ALL_ON, rateLimits: { callsPerMinute: 10_000_000, sendsPerMinute: 60, sendsPerDay: 5000 }, log: b.log, now: () => now });
  const t = await connectTestClient({ server: "leadpulse", tools: [...tools], runtime, apiKey: b.apiKey });
  return {
    now,
    sql,
    async call(name, args) {
      const r = await t.client.callTool({ name, arguments: args });
      if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
      return r.structuredContent as Record<string, unknown>;
    },
    async close() {
      await t.close();
      await runtime.close();
      await pool.end();
    },
  };
}
