// Rows written before per-writer chains (chain_key = organization id, hashed without writer or
// witness) keep verifying after the audit_chains migration, which gives each such chain a head:
// from then on their end is anchored like any other chain's.
import { createHash, randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, openDb, type Db } from "@marketsage/db";
import { testRuntime, useTestDatabase } from "../src/testing/index.ts";
import { auditWriterFor, canonicalJson, createInvoker, verifyAuditLog, type Runtime } from "../src/index.ts";
import { testTools } from "./fixtures/tools.ts";
import { key, ORG_A } from "./helpers.ts";

const tdb = useTestDatabase();
const MIGRATION = "20261201200000_audit_chains";
let sql: pg.Client;
let db: Db;
let runtime: Runtime;

/** The hash exactly as the code before this migration computed it (written out independently). */
function oldHash(prev: string, seq: number, row: Record<string, unknown>): string {
  return createHash("sha256").update(`${prev}\n${seq}\n${canonicalJson(row)}`, "utf8").digest("hex");
}

async function insertOldChain(organizationId: string | null, n: number): Promise<void> {
  let prev = "0".repeat(64);
  for (let seq = 1; seq <= n; seq++) {
    const row = {
      organization_id: organizationId,
      occurred_at: new Date(Date.UTC(2026, 10, 1, 12, seq)).toISOString(),
      actor_user_id: null,
      api_key_id: null,
      role: organizationId ? "ADMIN" : null,
      server: "customer-data",
      tool: "search_customers",
      path: "mcp",
      args_hash: "a".repeat(64),
      args: { limit: seq, query: "[pii]" },
      outcome: organizationId ? "ALLOWED" : "DENIED",
      error_code: organizationId ? null : "UNAUTHENTICATED",
      duration_ms: 1.25 * seq,
      result_bytes: 100 + seq,
      correlation_id: randomUUID(),
    };
    const hash = oldHash(prev, seq, row);
    await sql.query(
      `insert into audit_events (chain_key, seq, organization_id, occurred_at, actor_user_id, api_key_id, role, server, tool, path,
                                 args_hash, args, outcome, error_code, duration_ms, result_bytes, correlation_id, prev_hash, hash)
       values ($1, $2, $3, $4, null, null, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [organizationId ?? "", seq, organizationId, row.occurred_at, row.role, row.server, row.tool, row.path, row.args_hash, JSON.stringify(row.args),
       row.outcome, row.error_code, row.duration_ms, row.result_bytes, row.correlation_id, prev, hash],
    );
    prev = hash;
  }
}

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  // This database as it was before the migration, with rows the old code wrote.
  await sql.query(`drop table audit_chain_heads`);
  await sql.query(`alter table audit_events drop column writer, drop column witness`);
  await sql.query(`delete from _prisma_migrations where migration_name = $1`, [MIGRATION]);
  await sql.query(`delete from audit_events`);
  await insertOldChain(ORG_A.id, 6);
  await insertOldChain(null, 2);
  expect(await applyMigrations(tdb.url)).toEqual([MIGRATION]);
  db = openDb(tdb.url, { max: 2 });
  runtime = testRuntime(tdb.url);
});
afterAll(async () => {
  await sql.end();
  await db.$disconnect();
  await runtime.close();
});

describe("chains from before per-writer chains", () => {
  it("verify after the migration, with a head at their newest row", async () => {
    const a = await verifyAuditLog(db, ORG_A.id);
    expect(a).toMatchObject({ ok: true, rowsChecked: 6, chains: [{ chain: ORG_A.id, writer: null, headSeq: 6, checked: 6, ok: true }] });
    const none = await verifyAuditLog(db, null);
    expect(none).toMatchObject({ ok: true, chains: [{ chain: "", headSeq: 2, checked: 2, ok: true }] });
  });

  it("are witnessed by the first new chain, so cutting their end and their head is detected", async () => {
    const inv = createInvoker({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
    const { result } = await inv.call("echo_message", { message: "after the migration" }, { path: "direct" });
    expect(result.isError).toBeFalsy();
    const fresh = `${ORG_A.id}/${auditWriterFor(runtime).id}`;
    const first = (await sql.query(`select witness from audit_events where chain_key = $1 and seq = 1`, [fresh])).rows[0];
    expect(first.witness).toEqual([{ chain: ORG_A.id, seq: 6, hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect((await verifyAuditLog(db, ORG_A.id)).ok).toBe(true);

    await sql.query(`delete from audit_events where chain_key = $1 and seq = 6`, [ORG_A.id]);
    await sql.query(`update audit_chain_heads h set seq = 5, hash = e.hash from audit_events e where h.chain_key = $1 and e.chain_key = $1 and e.seq = 5`, [ORG_A.id]);
    const v = await verifyAuditLog(db, ORG_A.id);
    expect(v.ok).toBe(false);
    expect(v.chains.find((c) => c.chain === ORG_A.id)).toMatchObject({ ok: false, firstBadSeq: 6 });
    expect(v.chains.find((c) => c.chain === fresh)).toMatchObject({ ok: true, checked: 1 });
  });
});
