// Infrastructure failures through the seam, in-process: a statement past MCP_STATEMENT_TIMEOUT_MS
// answers TIMEOUT (and a write rolls back), a bulk write tool keeps its longer limit, a database
// that cannot be reached answers UNAVAILABLE, and provider errors answer by their outcome; each
// is audited with its code and the detail stays in the log.
import net from "node:net";
import { PassThrough } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "../src/testing/index.ts";
import { createInvoker, createLogger, DATABASE_UNAVAILABLE_MESSAGE, type Runtime } from "../src/index.ts";
import { failingTools } from "./fixtures/failing-tools.ts";
import { key, text } from "./helpers.ts";

const tdb = useTestDatabase();
let runtime: Runtime;
let t: TestClient;
let sql: pg.Client;
const logLines: string[] = [];

beforeAll(async () => {
  const logStream = new PassThrough();
  logStream.on("data", (d) => logLines.push(String(d)));
  runtime = testRuntime(tdb.url, { statementTimeoutMs: 300, log: createLogger({ level: "info", destination: logStream }) });
  t = await connectTestClient({ server: "customer-data", tools: failingTools, runtime, apiKey: key("ADMIN") });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await t.close();
  await sql.end();
  await runtime.close();
});

const call = (name: string, args: Record<string, unknown>) => t.client.callTool({ name, arguments: args });
const errorCode = (r: unknown) => ((r as { _meta?: { error?: { code?: string } } })._meta?.error?.code);
async function lastAudit(tool: string) {
  return (await sql.query(`select outcome::text, error_code from audit_events where tool = $1 order by occurred_at desc, id desc limit 1`, [tool])).rows[0];
}
const segments = async (label: string) => (await sql.query(`select count(*)::int n from segments where name = $1`, [label])).rows[0].n;

describe("statement timeout (MCP_STATEMENT_TIMEOUT_MS)", () => {
  it("a read past the limit answers TIMEOUT naming the limit, audited FAILED/TIMEOUT", async () => {
    const r = await call("sleep_read", { seconds: 2 });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe(
      "TIMEOUT: the database did not finish within 300 ms, so the call was stopped and nothing was changed; narrow the request (a shorter range, fewer items) or retry later",
    );
    expect(await lastAudit("sleep_read")).toEqual({ outcome: "FAILED", error_code: "TIMEOUT" });
    expect((await call("sleep_read", { seconds: 0 })).isError).toBeFalsy();
  });

  it("a read blocked by a lock held in another session answers TIMEOUT", async () => {
    const locker = new pg.Client({ connectionString: tdb.url });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query("lock table segments in access exclusive mode");
      const r = await call("count_test_segments", {});
      expect(errorCode(r)).toBe("TIMEOUT");
    } finally {
      await locker.query("rollback");
      await locker.end();
    }
    expect((await call("count_test_segments", {})).isError).toBeFalsy();
  });

  it("a write past the limit answers TIMEOUT and its write is rolled back", async () => {
    const r = await call("sleep_write", { label: "timeout-write", seconds: 2 });
    expect(errorCode(r)).toBe("TIMEOUT");
    expect(await segments("timeout-write")).toBe(0);
  });

  it("a write tool that declares a longer transaction limit gets it for its statements", async () => {
    const r = await call("sleep_long_write", { label: "long-write", seconds: 0.6 });
    expect(r.isError, text(r)).toBeFalsy();
    expect(await segments("long-write")).toBe(1);
    // and the longer limit is the transaction's own: the next read is back under 300 ms
    expect(errorCode(await call("sleep_read", { seconds: 0.6 }))).toBe("TIMEOUT");
  });
});

describe("a database that cannot be reached", () => {
  it("answers UNAVAILABLE with the retry message, not INTERNAL", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const down = testRuntime(`postgresql://postgres@127.0.0.1:${port}/nothing`);
    try {
      const inv = createInvoker({ server: "customer-data", tools: failingTools, runtime: down, apiKey: key("ADMIN") });
      const { result } = await inv.call("sleep_read", { seconds: 0 }, { path: "direct" });
      expect(result.isError).toBe(true);
      expect(text(result)).toBe(`UNAVAILABLE: ${DATABASE_UNAVAILABLE_MESSAGE}`);
      expect(result._meta?.error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
      // tools/list cannot list without the key's principal: a JSON-RPC error that says why
      const listing = await connectTestClient({ server: "customer-data", tools: failingTools, runtime: down, apiKey: key("ADMIN") });
      try {
        await expect(listing.client.listTools()).rejects.toMatchObject({ code: -32603, message: expect.stringContaining("UNAVAILABLE: the database is not reachable") });
      } finally {
        await listing.close();
      }
    } finally {
      await down.close();
    }
  });
});

describe("provider (upstream) errors", () => {
  it.each([
    ["503", "UNAVAILABLE", /^UNAVAILABLE: FakeSMS is not available right now \(HTTP 503\); retry in 7 s\.$/],
    ["refused", "UNAVAILABLE", /^UNAVAILABLE: FakeSMS could not be reached; nothing was done/],
    ["400", "UPSTREAM_REJECTED", /^UPSTREAM_REJECTED: FakeSMS refused the request \(HTTP 400\)/],
    ["504", "OUTCOME_UNKNOWN", /^OUTCOME_UNKNOWN: FakeSMS did not confirm the request/],
  ])("%s answers %s with the public message; the internal one goes to the log only", async (failure, code, message) => {
    const before = logLines.length;
    const r = await call("call_fake_provider", { failure });
    expect(errorCode(r)).toBe(code);
    expect(text(r)).toMatch(message);
    expect(JSON.stringify(r)).not.toContain("FAKE-SECRET");
    expect(logLines.slice(before).join("")).toContain("FAKE-SECRET");
    expect(await lastAudit("call_fake_provider")).toEqual({ outcome: "FAILED", error_code: code });
  });
});
