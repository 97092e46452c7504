// query_audit_log and verify_audit_log through the production seam (the real SDK client): each
// organization sees only its own rows, filters and pages serve every row exactly once, roles
// without audit:read get neither tool, and the verification reports an edited row and a deleted
// newest row of the caller's organization. Checked by SQL over audit_events.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { auditTools } from "../src/tools/audit.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const B = DEMO_ORGS[1]!;
let runtime: Runtime;
let sql: pg.Client;
const clients: TestClient[] = [];

beforeAll(async () => {
  runtime = testRuntime(tdb.url);
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await sql?.end();
  await runtime?.close();
});

async function as(org: (typeof DEMO_ORGS)[number], role: Role): Promise<TestClient> {
  const c = await connectTestClient({ server: "monitoring", tools: auditTools, runtime, apiKey: demoApiKey(org, role) });
  clients.push(c);
  return c;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(c: TestClient, name: string, args: Record<string, unknown>): Promise<any> {
  const r = await c.client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  const text = (r.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("\n");
  expect(valuesMissingFromText(r.structuredContent, auditTools.find((t) => t.name === name)!.output, text)).toEqual([]);
  return r.structuredContent;
}

describe("query_audit_log", () => {
  it("an organization sees its own rows only, newest first, every row exactly once across pages", async () => {
    const a = await as(A, "ADMIN");
    const b = await as(B, "IT_ADMIN");
    for (let i = 0; i < 7; i++) await call(a, "query_audit_log", { limit: 1 });
    for (let i = 0; i < 3; i++) await call(b, "query_audit_log", { limit: 1 });
    const before = (await sql.query(`select occurred_at from audit_events where organization_id = $1 and tool = 'query_audit_log' order by occurred_at desc, id desc`, [A.id])).rows.map((r) => (r.occurred_at as Date).toISOString());
    expect(before).toHaveLength(7);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(a, "query_audit_log", { tool: "query_audit_log", limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r: { at: string }) => r.at));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    // Keyset pages from the newest: the rows the paging calls write are newer than every cursor.
    expect(seen).toEqual(before);
    const bRows = await call(b, "query_audit_log", { limit: 100 });
    const [bCount] = (await sql.query(`select count(*)::int as n from audit_events where organization_id = $1`, [B.id])).rows;
    expect(bRows.items).toHaveLength(bCount.n - 1); // its own row is written after its answer
    expect(bRows.items.every((r: { role: string }) => r.role === "IT_ADMIN")).toBe(true);
  });

  it("filters by outcome: a refused call is found as DENIED with its code", async () => {
    const agent = await as(A, "AI_AGENT");
    const r = await agent.client.callTool({ name: "verify_audit_log", arguments: {} });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toMatch(/may not use verify_audit_log/);
    const a = await as(A, "ADMIN");
    const denied = await call(a, "query_audit_log", { outcome: "DENIED", tool: "verify_audit_log" });
    expect(denied.items).toHaveLength(1);
    expect(denied.items[0]).toMatchObject({ role: "AI_AGENT", outcome: "DENIED", server: "monitoring" });
    const listed = (await agent.client.listTools()).tools.map((t) => t.name);
    expect(listed).toEqual([]);
  });
});

describe("verify_audit_log", () => {
  it("verifies the organization's chains, then reports an edited row and a deleted newest row", async () => {
    const a = await as(A, "ADMIN");
    for (let i = 0; i < 4; i++) await call(a, "query_audit_log", { limit: 1 });
    const ok = await call(a, "verify_audit_log", {});
    const [n] = (await sql.query(`select count(*)::int as n from audit_events where organization_id = $1`, [A.id])).rows;
    expect(ok).toMatchObject({ ok: true, bad: [] });
    expect(ok.rows_checked).toBe(n.n - 1); // the verify call's own row is written after its answer

    const [mid] = (await sql.query(`select chain_key, seq from audit_events where organization_id = $1 order by id desc offset 3 limit 1`, [A.id])).rows;
    const [orig] = (await sql.query(`select tool from audit_events where chain_key = $1 and seq = $2`, [mid.chain_key, mid.seq])).rows;
    await sql.query(`update audit_events set tool = 'edited' where chain_key = $1 and seq = $2`, [mid.chain_key, mid.seq]);
    const edited = await call(a, "verify_audit_log", {});
    expect(edited.ok).toBe(false);
    expect(edited.bad).toContainEqual(expect.objectContaining({ chain: mid.chain_key, first_bad_seq: mid.seq }));
    await sql.query(`update audit_events set tool = $3 where chain_key = $1 and seq = $2`, [mid.chain_key, mid.seq, orig.tool]); // exactly as it was
    expect((await call(a, "verify_audit_log", {})).ok).toBe(true);

    const [newest] = (await sql.query(`select chain_key, seq from audit_events where organization_id = $1 order by id desc limit 1`, [A.id])).rows;
    await sql.query(`delete from audit_events where chain_key = $1 and seq = $2`, [newest.chain_key, newest.seq]);
    const cut = await call(a, "verify_audit_log", {});
    expect(cut.ok).toBe(false);
    expect(cut.bad.find((x: { chain: string }) => x.chain === newest.chain_key)).toBeTruthy();
    // B's log is untouched and still verifies.
    expect((await call(await as(B, "ADMIN"), "verify_audit_log", {})).ok).toBe(true);
  });
});
