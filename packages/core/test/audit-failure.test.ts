// When the audit row cannot be written the caller gets UNAVAILABLE, never a success without a
// record, and a write tool's change is rolled back with its row. Calls recover once the store does.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "@marketsage/db";
import { testRuntime, useTestDatabase } from "../src/testing/index.ts";
import { auditWriterFor, createInvoker, verifyAuditChain, type Invoker, type Runtime } from "../src/index.ts";
import { testTools } from "./fixtures/tools.ts";
import { key, ORG_A, text } from "./helpers.ts";

const tdb = useTestDatabase();
let sql: pg.Client;
let db: Db;
let runtime: Runtime;
let inv: Invoker;

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  db = openDb(tdb.url, { max: 1 });
  runtime = testRuntime(tdb.url, { rateLimits: { callsPerMinute: 1_000_000, sendsPerMinute: 60, sendsPerDay: 5000 } });
  inv = createInvoker({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
});
afterAll(async () => {
  await sql.end();
  await db.$disconnect();
  await runtime.close();
});

const rows = async (correlationId: string) =>
  (await sql.query(`select outcome::text, error_code from audit_events where correlation_id = $1`, [correlationId])).rows;
const segments = async (name: string) => (await sql.query(`select count(*)::int n from segments where name = $1`, [name])).rows[0].n;

describe("the audit store cannot be written", () => {
  it("answers every call in flight UNAVAILABLE (no success) while the table is gone, and recovers after", async () => {
    expect((await inv.call("echo_message", { message: "before" }, { path: "direct" })).result.isError).toBeFalsy();
    await sql.query(`alter table audit_events rename to audit_events_away`);
    let answers;
    try {
      answers = await Promise.all(Array.from({ length: 10 }, (_, i) => inv.call("echo_message", { message: `m${i}` }, { path: "direct" })));
    } finally {
      await sql.query(`alter table audit_events_away rename to audit_events`);
    }
    for (const { result } of answers) {
      expect(result.isError).toBe(true);
      expect(result._meta?.error).toMatchObject({ code: "UNAVAILABLE", reason: "audit_log" });
      expect(text(result)).toMatch(/^UNAVAILABLE: the audit log cannot be written/);
      expect(result.structuredContent).toBeUndefined();
    }
    for (const { correlationId } of answers) expect(await rows(correlationId)).toEqual([]);

    const after = await inv.call("echo_message", { message: "after" }, { path: "direct" });
    expect(after.result.isError).toBeFalsy();
    expect(await rows(after.correlationId)).toEqual([{ outcome: "ALLOWED", error_code: null }]);
    const chain = `${ORG_A.id}/${auditWriterFor(runtime).id}`;
    expect(await verifyAuditChain(db, chain)).toMatchObject({ ok: true, checked: 2 });
  });

  it("rolls a write back with its refused row, and records what the caller got (FAILED, UNAVAILABLE)", async () => {
    // The store refuses only the write's own ALLOWED row (inside the write's transaction).
    await sql.query(`create function refuse_audit() returns trigger language plpgsql as $$
      begin if new.tool = 'create_test_segment' and new.outcome = 'ALLOWED' then raise exception 'audit store refuses'; end if; return new; end $$`);
    await sql.query(`create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()`);
    try {
      const { result, correlationId } = await inv.call("create_test_segment", { name: "never-kept" }, { path: "direct" });
      expect(result.isError).toBe(true);
      expect(result._meta?.error).toMatchObject({ code: "UNAVAILABLE", reason: "audit_log" });
      expect(await segments("never-kept")).toBe(0);
      expect(await rows(correlationId)).toEqual([{ outcome: "FAILED", error_code: "UNAVAILABLE" }]);
    } finally {
      await sql.query(`drop trigger refuse_audit on audit_events`);
      await sql.query(`drop function refuse_audit()`);
    }
    const ok = await inv.call("create_test_segment", { name: "kept-now" }, { path: "direct" });
    expect(ok.result.isError).toBeFalsy();
    expect(await segments("kept-now")).toBe(1);
    expect(await rows(ok.correlationId)).toEqual([{ outcome: "ALLOWED", error_code: null }]);
    const chain = `${ORG_A.id}/${auditWriterFor(runtime).id}`;
    expect((await verifyAuditChain(db, chain)).ok).toBe(true);
  });

  it("answers a refused call UNAVAILABLE too when its DENIED row cannot be written", async () => {
    const user = createInvoker({ server: "customer-data", tools: testTools, runtime, apiKey: key("USER") });
    await sql.query(`alter table audit_events rename to audit_events_away`);
    let out;
    try {
      out = await user.call("read_audit_thing", {}, { path: "direct" });
    } finally {
      await sql.query(`alter table audit_events_away rename to audit_events`);
    }
    expect(out.result._meta?.error).toMatchObject({ code: "UNAVAILABLE", reason: "audit_log" });
    expect(await rows(out.correlationId)).toEqual([]);
  });

  it("keeps a caller's odd text (NUL, lone surrogates) from making its row or its batch unwritable", async () => {
    const odd = ["a\u0000b", "\ud800x", "y\udfff", "ok"];
    const answers = await Promise.all(odd.map((m) => inv.call("echo_message", { message: m, ["k\u0000"]: 1 }, { path: "direct" })));
    for (const a of answers) expect(await rows(a.correlationId)).toHaveLength(1);
    const bad = await inv.call("no\u0000such_tool", {}, { path: "direct" });
    expect(bad.result._meta?.error).toMatchObject({ code: "NOT_FOUND" });
    expect(await rows(bad.correlationId)).toHaveLength(1);
    const chain = `${ORG_A.id}/${auditWriterFor(runtime).id}`;
    expect((await verifyAuditChain(db, chain)).ok).toBe(true);
  });
});
