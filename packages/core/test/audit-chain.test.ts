// The audit log in one process: every call in flight gets exactly one row, on its writer's chain,
// and the chains verify; edits, deletions (middle, newest, newest with the head rewritten, a whole
// chain) are each detected; a write tool's row commits or rolls back with its write.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "@marketsage/db";
import { testRuntime, useTestDatabase } from "../src/testing/index.ts";
import { auditWriterFor, createInvoker, verifyAuditChain, verifyAuditLog, type Runtime } from "../src/index.ts";
import { testTools } from "./fixtures/tools.ts";
import { key, ORG_A, ORG_B } from "./helpers.ts";

const tdb = useTestDatabase();
const UNLIMITED = { callsPerMinute: 1_000_000, sendsPerMinute: 60, sendsPerDay: 5000 };
let sql: pg.Client;
let db: Db;
const runtimes: Runtime[] = [];

function runtime(): Runtime {
  const r = testRuntime(tdb.url, { rateLimits: UNLIMITED, poolSize: 4 });
  runtimes.push(r);
  return r;
}

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  db = openDb(tdb.url, { max: 2 });
});
afterAll(async () => {
  await sql.end();
  await db.$disconnect();
  await Promise.all(runtimes.map((r) => r.close()));
});

const rowsOf = async (correlationIds: string[]) =>
  (await sql.query<{ correlation_id: string; chain_key: string; outcome: string }>(`select correlation_id, chain_key, outcome::text from audit_events where correlation_id = any($1)`, [correlationIds])).rows;

describe("many calls in flight in one process", () => {
  it("leave exactly one row per call, on one chain per writer, and every chain verifies", async () => {
    const [r1, r2] = [runtime(), runtime()];
    const calls: Array<Promise<{ correlationId: string; isError: boolean }>> = [];
    // Two writers (two runtimes), two organizations, allowed / failed / denied calls, all at once.
    for (const [rt, org] of [[r1, ORG_A], [r2, ORG_A], [r1, ORG_B]] as const) {
      const admin = createInvoker({ server: "customer-data", tools: testTools, runtime: rt, apiKey: key("ADMIN", org) });
      const user = createInvoker({ server: "customer-data", tools: testTools, runtime: rt, apiKey: key("USER", org) });
      for (let i = 0; i < 60; i++) {
        const [inv, name, args] =
          i % 10 === 9 ? [user, "read_audit_thing", {}] : i % 10 === 8 ? [admin, "echo_message", { message: "x", fail: "user" }] : [admin, "echo_message", { message: `m${i}` }];
        calls.push(inv.call(name, args, { path: "direct" }).then((o) => ({ correlationId: o.correlationId, isError: !!o.result.isError })));
      }
    }
    const answered = await Promise.all(calls);
    expect(answered.filter((a) => !a.isError)).toHaveLength(144);
    const rows = await rowsOf(answered.map((a) => a.correlationId));
    expect(rows).toHaveLength(answered.length);
    expect(new Set(rows.map((r) => r.correlation_id)).size).toBe(answered.length);
    const chains = new Set(rows.map((r) => r.chain_key));
    expect(chains).toEqual(
      new Set([`${ORG_A.id}/${auditWriterFor(r1).id}`, `${ORG_A.id}/${auditWriterFor(r2).id}`, `${ORG_B.id}/${auditWriterFor(r1).id}`]),
    );
    for (const org of [ORG_A, ORG_B]) {
      const v = await verifyAuditLog(db, org.id);
      expect(v, JSON.stringify(v.chains.filter((c) => !c.ok))).toMatchObject({ ok: true, badChains: 0 });
      expect(v.rowsChecked).toBeGreaterThanOrEqual(60);
    }
    // Group commit happened: fewer statements than rows (batches of more than one row).
    const batches = (await sql.query(`select count(*)::int n from audit_events where correlation_id = any($1) and witness is not null`, [answered.map((a) => a.correlationId)])).rows[0].n;
    expect(batches).toBeGreaterThan(0);
  });
});

describe("tampering", () => {
  // Fresh writers per test, so each test tampers with chains of its own.
  async function twoChains(): Promise<{ a: string; b: string }> {
    const [ra, rb] = [runtime(), runtime()];
    const ia = createInvoker({ server: "customer-data", tools: testTools, runtime: ra, apiKey: key("ADMIN") });
    const ib = createInvoker({ server: "customer-data", tools: testTools, runtime: rb, apiKey: key("ADMIN") });
    for (let i = 0; i < 5; i++) await ia.call("echo_message", { message: `a${i}` }, { path: "direct" });
    // B's first batch records A's head (seq 5) as a witness.
    for (let i = 0; i < 3; i++) await ib.call("echo_message", { message: `b${i}` }, { path: "direct" });
    const a = `${ORG_A.id}/${auditWriterFor(ra).id}`;
    const b = `${ORG_A.id}/${auditWriterFor(rb).id}`;
    // Earlier tests leave their own chains tampered with; these two start whole.
    const v = await verifyAuditLog(db, ORG_A.id);
    expect(v.chains.filter((c) => c.chain === a || c.chain === b)).toMatchObject([{ ok: true }, { ok: true }]);
    return { a, b };
  }
  const chainResult = async (chain: string) => (await verifyAuditLog(db, ORG_A.id)).chains.find((c) => c.chain === chain);

  it("detects an edited row at that row, and nothing once it is put back", async () => {
    const { a } = await twoChains();
    await sql.query(`update audit_events set outcome = 'DENIED' where chain_key = $1 and seq = 3`, [a]);
    expect(await chainResult(a)).toMatchObject({ ok: false, firstBadSeq: 3, reason: "row content does not match its hash" });
    expect(await verifyAuditChain(db, a)).toMatchObject({ ok: false, firstBadSeq: 3 });
    await sql.query(`update audit_events set outcome = 'ALLOWED' where chain_key = $1 and seq = 3`, [a]);
    expect((await verifyAuditLog(db, ORG_A.id)).ok).toBe(true);
    expect(await verifyAuditChain(db, a)).toMatchObject({ ok: true, checked: 5 });
  });

  it("detects a deleted middle row", async () => {
    const { a } = await twoChains();
    await sql.query(`delete from audit_events where chain_key = $1 and seq = 2`, [a]);
    const v = await verifyAuditLog(db, ORG_A.id);
    expect(v.ok).toBe(false);
    expect(v.chains.find((c) => c.chain === a)).toMatchObject({ ok: false, firstBadSeq: 2, reason: "row 2 is missing" });
  });

  it("detects the newest row deleted (the head still records it)", async () => {
    const { b } = await twoChains();
    await sql.query(`delete from audit_events where chain_key = $1 and seq = 3`, [b]);
    expect(await chainResult(b)).toMatchObject({ ok: false, firstBadSeq: 3, headSeq: 3, reason: "row 3 is missing: the chain's head records seq 3" });
    expect(await verifyAuditChain(db, b)).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it("detects the newest rows deleted together with a rewritten head (another chain witnessed them)", async () => {
    const { a, b } = await twoChains();
    await sql.query(`delete from audit_events where chain_key = $1 and seq > 3`, [a]);
    await sql.query(`update audit_chain_heads h set seq = e.seq, hash = e.hash from audit_events e where h.chain_key = $1 and e.chain_key = $1 and e.seq = 3`, [a]);
    // The chain on its own now looks whole; the witness in B says it had reached seq 5.
    expect(await verifyAuditChain(db, a)).toMatchObject({ ok: true, checked: 3 });
    const r = await chainResult(a);
    expect(r).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(r!.reason).toContain(`chain ${b} recorded this chain's head at seq 5`);
  });

  it("detects a whole chain deleted, head and all", async () => {
    const { a } = await twoChains();
    await sql.query(`delete from audit_events where chain_key = $1`, [a]);
    await sql.query(`delete from audit_chain_heads where chain_key = $1`, [a]);
    expect(await chainResult(a)).toMatchObject({ ok: false, firstBadSeq: 5 });
  });

  it("detects a deleted head row, and refuses to append to that chain (UNAVAILABLE)", async () => {
    const rt = runtime();
    const inv = createInvoker({ server: "customer-data", tools: testTools, runtime: rt, apiKey: key("ADMIN") });
    await inv.call("echo_message", { message: "one" }, { path: "direct" });
    const chain = `${ORG_A.id}/${auditWriterFor(rt).id}`;
    await sql.query(`delete from audit_chain_heads where chain_key = $1`, [chain]);
    expect(await chainResult(chain)).toMatchObject({ ok: false, reason: `chain ${chain} has rows but no head row` });
    const { result, correlationId } = await inv.call("echo_message", { message: "two" }, { path: "direct" });
    expect(result.isError).toBe(true);
    expect(result._meta?.error).toMatchObject({ code: "UNAVAILABLE" });
    expect(await rowsOf([correlationId])).toHaveLength(0);
  });
});

describe("write tools", () => {
  it("commit their row with the write, roll both back together, and leave no gap in the chain", async () => {
    const rt = runtime();
    const inv = createInvoker({ server: "customer-data", tools: testTools, runtime: rt, apiKey: key("ADMIN") });
    const outcomes = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => inv.call("create_test_segment", { name: `w-ok-${i}` }, { path: "direct" })),
      ...Array.from({ length: 4 }, (_, i) => inv.call("create_test_segment", { name: `w-fail-${i}`, fail_after_write: true }, { path: "direct" })),
      ...Array.from({ length: 20 }, (_, i) => inv.call("echo_message", { message: `r${i}` }, { path: "direct" })),
    ]);
    const segs = (await sql.query(`select name from segments where name like 'w-%'`)).rows.map((r) => r.name).sort();
    expect(segs).toEqual(Array.from({ length: 8 }, (_, i) => `w-ok-${i}`).sort());
    const rows = await rowsOf(outcomes.map((o) => o.correlationId));
    expect(rows).toHaveLength(32);
    expect(rows.filter((r) => r.outcome === "FAILED")).toHaveLength(4);
    const chain = `${ORG_A.id}/${auditWriterFor(rt).id}`;
    expect(await verifyAuditChain(db, chain)).toMatchObject({ ok: true, checked: 32 });
  });
});
