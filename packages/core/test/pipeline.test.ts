import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, ALL_ON, type TestClient } from "../src/testing/index.ts";
import { auditWriterFor, createInvoker, verifyAuditChain, type Runtime } from "../src/index.ts";
import { testTools } from "./fixtures/tools.ts";
import { addKey, key, ORG_A, structured, text } from "./helpers.ts";

const tdb = useTestDatabase();
let runtime: Runtime;
let sql: pg.Client;

beforeAll(async () => {
  runtime = testRuntime(tdb.url);
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
  await runtime.close();
});

async function lastAudit(tool: string) {
  const r = await sql.query(`select * from audit_events where tool = $1 order by id desc limit 1`, [tool]);
  return r.rows[0];
}

describe("authentication", () => {
  it("refuses a missing key with a message saying what to set, and audits it", async () => {
    const inv = createInvoker({ server: "customer-data", tools: testTools, runtime, apiKey: undefined });
    const { result } = await inv.call("echo_message", { message: "hi" }, { path: "direct" });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/UNAUTHENTICATED.*MARKETSAGE_API_KEY/);
    const a = await lastAudit("echo_message");
    expect(a.outcome).toBe("DENIED");
    expect(a.organization_id).toBeNull();
  });

  it.each([
    ["unknown", async () => "msk_not_a_real_key"],
    ["expired", async () => addKey(tdb.url, "ADMIN", { expiresAt: new Date(Date.now() - 60_000) })],
    ["revoked", async () => addKey(tdb.url, "ADMIN", { revokedAt: new Date(Date.now() - 60_000) })],
  ])("refuses an %s key", async (reason, make) => {
    const inv = createInvoker({ server: "customer-data", tools: testTools, runtime, apiKey: await make() });
    const { result } = await inv.call("echo_message", { message: "hi" }, { path: "direct" });
    expect(result.isError).toBe(true);
    expect(result._meta?.error).toMatchObject({ code: "UNAUTHENTICATED", reason });
    await expect(inv.principal()).rejects.toThrow(reason === "unknown" ? /not recognised/ : new RegExp(reason));
  });

  it("accepts a valid key and scopes the call to the key's organization", async () => {
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
    const r = await t.client.callTool({ name: "echo_message", arguments: { message: "hello" } });
    expect(r.isError).toBeFalsy();
    expect(structured(r)).toEqual({ message: "hello", organization_id: ORG_A.id });
    await t.close();
  });
});

describe("scopes", () => {
  let user: TestClient;
  let admin: TestClient;
  beforeAll(async () => {
    user = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("USER") });
    admin = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
  });
  afterAll(async () => {
    await user.close();
    await admin.close();
  });

  it("does not list a tool whose scope the role lacks", async () => {
    const names = (await user.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("echo_message");
    expect(names).not.toContain("read_audit_thing");
    expect(names).not.toContain("create_test_segment");
    const adminNames = (await admin.client.listTools()).tools.map((t) => t.name);
    expect(adminNames).toContain("read_audit_thing");
  });

  it("refuses the call at call time and audits DENIED", async () => {
    const r = await user.client.callTool({ name: "read_audit_thing", arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/FORBIDDEN: Your role \(USER\) may not use read_audit_thing: it needs audit:read/);
    expect((await lastAudit("read_audit_thing")).outcome).toBe("DENIED");
  });
});

describe("read-only mode", () => {
  it("hides write tools from the list and refuses them when called anyway", async () => {
    const ro = testRuntime(tdb.url, { flags: { ...ALL_ON, readOnly: true } });
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime: ro, apiKey: key("SUPER_ADMIN") });
    const names = (await t.client.listTools()).tools.map((x) => x.name);
    expect(names).toContain("echo_message");
    expect(names).not.toContain("create_test_segment");
    const r = await t.client.callTool({ name: "create_test_segment", arguments: { name: "ro" } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/READ_ONLY/);
    const count = await sql.query(`select count(*)::int as n from segments where name = 'ro'`);
    expect(count.rows[0].n).toBe(0);
    await t.close();
    await ro.close();
  });

  it("honours the MCP_TOOLS allow-list", async () => {
    const only = testRuntime(tdb.url, { flags: { ...ALL_ON, tools: new Set(["read_audit_thing"]) } });
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime: only, apiKey: key("SUPER_ADMIN") });
    expect((await t.client.listTools()).tools.map((x) => x.name)).toEqual(["read_audit_thing"]);
    expect((await t.client.callTool({ name: "echo_message", arguments: { message: "x" } })).isError).toBe(true);
    await t.close();
    await only.close();
  });
});

describe("errors and input", () => {
  let t: TestClient;
  beforeAll(async () => {
    t = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
  });
  afterAll(() => t.close());

  it("refuses bad input with the field and the reason, audited as FAILED", async () => {
    const r = await t.client.callTool({ name: "echo_message", arguments: { message: 42 } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/INVALID_INPUT: Invalid arguments for echo_message: message:/);
    const a = await lastAudit("echo_message");
    expect(a.outcome).toBe("FAILED");
    expect(a.error_code).toBe("INVALID_INPUT");
  });

  it("passes a user error's message through", async () => {
    const r = await t.client.callTool({ name: "echo_message", arguments: { message: "x", fail: "user" } });
    expect(text(r)).toBe("INVALID_INPUT: You asked for a user error.");
  });

  it("hides an unexpected error's detail behind a correlation id that the audit row carries", async () => {
    const r = await t.client.callTool({ name: "echo_message", arguments: { message: "x", fail: "crash" } });
    expect(r.isError).toBe(true);
    expect(text(r)).not.toContain("secret internal detail");
    const id = String(r._meta?.correlation_id);
    expect(text(r)).toContain(id);
    const a = await lastAudit("echo_message");
    expect(a.correlation_id).toBe(id);
    expect(a.outcome).toBe("FAILED");
    expect(a.error_code).toBe("INTERNAL");
  });

  it("refuses an unknown tool", async () => {
    const r = await t.client.callTool({ name: "no_such_tool", arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/NOT_FOUND/);
  });
});

describe("writes and their audit rows commit together", () => {
  it("keeps the write and an ALLOWED row when the tool succeeds", async () => {
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
    const r = await t.client.callTool({ name: "create_test_segment", arguments: { name: "kept" } });
    expect(r.isError).toBeFalsy();
    expect((await sql.query(`select count(*)::int n from segments where name='kept'`)).rows[0].n).toBe(1);
    expect((await lastAudit("create_test_segment")).outcome).toBe("ALLOWED");
    await t.close();
  });

  it("rolls back the write when the tool fails after writing, and still audits FAILED", async () => {
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
    const r = await t.client.callTool({ name: "create_test_segment", arguments: { name: "lost", fail_after_write: true } });
    expect(r.isError).toBe(true);
    expect((await sql.query(`select count(*)::int n from segments where name='lost'`)).rows[0].n).toBe(0);
    expect((await lastAudit("create_test_segment")).outcome).toBe("FAILED");
    await t.close();
  });
});

describe('write tools with transaction "own"', () => {
  it("run on the pooled client, keep what they committed when they fail after it, and are audited either way", async () => {
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
    const ok = await t.client.callTool({ name: "create_own_segment", arguments: { name: "own-kept" } });
    expect(ok.isError).toBeFalsy();
    expect(structured(ok)).toMatchObject({ pooled: true });
    expect((await lastAudit("create_own_segment")).outcome).toBe("ALLOWED");
    const bad = await t.client.callTool({ name: "create_own_segment", arguments: { name: "own-committed", fail_after_write: true } });
    expect(bad.isError).toBe(true);
    expect((await sql.query(`select count(*)::int n from segments where name = any($1)`, [["own-kept", "own-committed"]])).rows[0].n).toBe(2);
    expect((await lastAudit("create_own_segment")).outcome).toBe("FAILED");
    await t.close();
  });
});

describe("write transactions have a per-tool time limit", () => {
  it("commits within the tool's limit and rolls back entirely past it, audited FAILED", async () => {
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
    const ok = await t.client.callTool({ name: "create_slow_segment", arguments: { name: "slow-ok", wait_ms: 20 } });
    expect(ok.isError).toBeFalsy();
    expect((await sql.query(`select count(*)::int n from segments where name='slow-ok' and description = 'done'`)).rows[0].n).toBe(1);
    const late = await t.client.callTool({ name: "create_slow_segment", arguments: { name: "slow-late", wait_ms: 1500 } });
    expect(late.isError).toBe(true);
    expect((await sql.query(`select count(*)::int n from segments where name='slow-late'`)).rows[0].n).toBe(0);
    expect((await lastAudit("create_slow_segment")).outcome).toBe("FAILED");
    await t.close();
  });
});

describe("audit chain", () => {
  it("writes one row per outcome and verifies; tampering is detected at the row", async () => {
    const db = openDb(tdb.url, { max: 1 });
    // This runtime's chain for the organization (one chain per organization and writer).
    const chain = `${ORG_A.id}/${auditWriterFor(runtime).id}`;
    const before = await verifyAuditChain(db, chain);
    expect(before.ok).toBe(true);
    expect(before.checked).toBeGreaterThan(5);
    const outcomes = (await sql.query(`select distinct outcome::text from audit_events where organization_id = $1`, [ORG_A.id])).rows.map((r) => r.outcome);
    expect(outcomes).toEqual(expect.arrayContaining(["ALLOWED", "DENIED", "FAILED"]));

    const victim = (await sql.query(`select seq from audit_events where chain_key = $1 and outcome = 'DENIED' order by seq limit 1`, [chain])).rows[0].seq;
    await sql.query(`update audit_events set outcome = 'ALLOWED' where chain_key = $1 and seq = $2`, [chain, victim]);
    const after = await verifyAuditChain(db, chain);
    expect(after).toMatchObject({ ok: false, firstBadSeq: victim, reason: "row content does not match its hash" });
    await sql.query(`update audit_events set outcome = 'DENIED' where chain_key = $1 and seq = $2`, [chain, victim]);
    expect((await verifyAuditChain(db, chain)).ok).toBe(true);

    await sql.query(`delete from audit_events where chain_key = $1 and seq = $2`, [chain, victim]);
    expect(await verifyAuditChain(db, chain)).toMatchObject({ ok: false, firstBadSeq: victim });
    await db.$disconnect();
  });

  it("keeps secrets and personal data out of the stored arguments", async () => {
    const t = await connectTestClient({ server: "customer-data", tools: testTools, runtime, apiKey: key("ADMIN") });
    await t.client.callTool({ name: "echo_message", arguments: { message: "call +2348031234567 now" } });
    const a = await lastAudit("echo_message");
    expect(JSON.stringify(a.args)).not.toContain("2348031234567");
    await t.close();
  });
});
