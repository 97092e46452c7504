// The writer on its own: group commit (rows of one batch share a transaction: the same xmin), the
// compare-and-set retry when an in-transaction append moved the head, the locked path, and a
// rolled-back in-transaction append that leaves no gap.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "../src/testing/index.ts";
import { createAuditWriter, createLogger, verifyAuditChain, type AuditEntry } from "../src/index.ts";
import { ORG_A } from "./helpers.ts";

const tdb = useTestDatabase();
const log = createLogger({ level: "silent" });
let sql: pg.Client;
let db: Db;

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  db = openDb(tdb.url, { max: 4 });
});
afterAll(async () => {
  await sql.end();
  await db.$disconnect();
});

const entry = (i: number): AuditEntry => ({
  organizationId: ORG_A.id,
  occurredAt: new Date(Date.UTC(2026, 10, 20, 12, 0, 0, i)),
  actorUserId: null,
  apiKeyId: null,
  role: "ADMIN",
  server: "customer-data",
  tool: "echo_message",
  path: "direct",
  argsHash: "b".repeat(64),
  args: { i },
  outcome: "ALLOWED",
  errorCode: null,
  durationMs: 0.5 + i / 1000,
  resultBytes: i,
  correlationId: `c-${i}`,
});

const transactions = async (chain: string) =>
  (await sql.query(`select count(distinct xmin::text)::int n, count(*)::int rows from audit_events where chain_key = $1`, [chain])).rows[0];

describe("audit writer", () => {
  it("appends the calls waiting on a chain as one batch each (group commit), in order", async () => {
    const w = createAuditWriter(db, log);
    const rows = await Promise.all(Array.from({ length: 100 }, (_, i) => w.append(entry(i))));
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const t = await transactions(rows[0]!.chain);
    // The first call's batch starts at once; the 99 queued behind it go in the next one.
    expect(t).toEqual({ n: 2, rows: 100 });
    expect(await verifyAuditChain(db, rows[0]!.chain)).toMatchObject({ ok: true, checked: 100 });
  });

  it("bounds a batch (450 waiting: more than two statements)", async () => {
    const w = createAuditWriter(db, log);
    const rows = await Promise.all(Array.from({ length: 450 }, (_, i) => w.append(entry(i))));
    const t = await transactions(rows[0]!.chain);
    expect(t.rows).toBe(450);
    expect(t.n).toBeGreaterThanOrEqual(4);
    expect(await verifyAuditChain(db, rows[0]!.chain)).toMatchObject({ ok: true, checked: 450 });
  });

  it("rebuilds a batch whose head an in-transaction append moved, and a rolled-back append leaves no gap", async () => {
    const w = createAuditWriter(db, log);
    const first = await w.append(entry(1));
    await db.$transaction(async (tx) => {
      await w.appendInTransaction(tx, entry(2));
    });
    await expect(
      db.$transaction(async (tx) => {
        await w.appendInTransaction(tx, entry(99));
        throw new Error("the write fails after its audit row");
      }),
    ).rejects.toThrow(/fails after/);
    // The writer still believes the head is at 1: its compare-and-set fails, it re-reads, seq 3.
    const third = await w.append(entry(3));
    expect([first.seq, third.seq]).toEqual([1, 3]);
    const seqs = (await sql.query(`select seq, correlation_id from audit_events where chain_key = $1 order by seq`, [first.chain])).rows;
    expect(seqs).toEqual([
      { seq: 1, correlation_id: "c-1" },
      { seq: 2, correlation_id: "c-2" },
      { seq: 3, correlation_id: "c-3" },
    ]);
    expect(await verifyAuditChain(db, first.chain)).toMatchObject({ ok: true, checked: 3 });
  });

  it("takes the locked path (select … for update) correctly alongside in-transaction appends", async () => {
    const w = createAuditWriter(db, log, { optimisticAttempts: 0 });
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      work.push(i % 6 === 0 ? db.$transaction((tx) => w.appendInTransaction(tx, entry(i))) : w.append(entry(i)));
    }
    const rows = (await Promise.all(work)) as Array<{ chain: string; seq: number }>;
    expect(new Set(rows.map((r) => r.seq)).size).toBe(60);
    expect(await verifyAuditChain(db, rows[0]!.chain)).toMatchObject({ ok: true, checked: 60 });
  });
});
