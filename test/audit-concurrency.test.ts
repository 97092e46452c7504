// The audit log under real concurrency: five built server processes with one key, ten calls in
// flight each. Every answered call leaves exactly one row (matched by its arguments' hash, which
// is unique per call here), each process appends to a chain of its own, and every chain verifies.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, openDb } from "@marketsage/db";
import { hashArgs, verifyAuditLog } from "@marketsage/core";
import { useTestDatabase } from "@marketsage/core/testing";
import { ensureBuilt, serverEntry } from "./support/build.ts";

const tdb = useTestDatabase();
const ORG = DEMO_ORGS[0]!;
const PROCESSES = 5;
const IN_FLIGHT = 10;
const CALLS_PER_WORKER = 6;

interface Proc {
  client: Client;
  stderr: () => string;
}

const procs: Proc[] = [];

beforeAll(() => ensureBuilt(["customer-data"]));
afterAll(async () => {
  await Promise.all(procs.map((p) => p.client.close()));
});

async function spawnServer(): Promise<Proc> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry("customer-data")],
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: tdb.url,
      MARKETSAGE_API_KEY: demoApiKey(ORG, "ADMIN"),
      LOG_LEVEL: "warn",
      // The per-key limit is shared by all five processes; this test is about the audit log.
      MCP_RATE_LIMIT_PER_MINUTE: "1000000",
    },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const client = new Client({ name: "audit-concurrency", version: "0" });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

describe("5 processes × 10 calls in flight, one key", () => {
  it("leave exactly one audit row per answered call, one chain per process, and every chain verifies", async () => {
    procs.push(...(await Promise.all(Array.from({ length: PROCESSES }, spawnServer))));
    const sent: Array<{ args: Record<string, unknown>; isError: boolean; text: string }> = [];
    await Promise.all(
      procs.flatMap((p, pi) =>
        Array.from({ length: IN_FLIGHT }, async (_, w) => {
          for (let i = 0; i < CALLS_PER_WORKER; i++) {
            // A query that matches no one: a cheap read whose arguments are unique per call.
            const args = { query: `zzq p${pi} w${w} c${i}`, limit: 1 };
            const r = await p.client.callTool({ name: "search_customers", arguments: args });
            const text = (r.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("");
            sent.push({ args, isError: !!r.isError, text: r.isError ? text : "" });
          }
        }),
      ),
    );
    const total = PROCESSES * IN_FLIGHT * CALLS_PER_WORKER;
    expect(sent).toHaveLength(total);
    expect(sent.filter((s) => s.isError).slice(0, 3)).toEqual([]);

    const sql = new pg.Client({ connectionString: tdb.url });
    await sql.connect();
    const rows = (
      await sql.query<{ args_hash: string; chain_key: string; outcome: string }>(
        `select args_hash, chain_key, outcome::text from audit_events where tool = 'search_customers' and args_hash = any($1)`,
        [sent.map((s) => hashArgs(s.args))],
      )
    ).rows;
    await sql.end();
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.args_hash)).size).toBe(total);
    expect(rows.every((r) => r.outcome === "ALLOWED")).toBe(true);
    const perChain = new Map<string, number>();
    for (const r of rows) perChain.set(r.chain_key, (perChain.get(r.chain_key) ?? 0) + 1);
    expect([...perChain.values()]).toEqual(Array(PROCESSES).fill(IN_FLIGHT * CALLS_PER_WORKER));

    const db = openDb(tdb.url, { max: 1 });
    const v = await verifyAuditLog(db, ORG.id);
    await db.$disconnect();
    expect(v, JSON.stringify(v.chains.filter((c) => !c.ok))).toMatchObject({ ok: true, badChains: 0 });
    for (const chain of perChain.keys()) expect(v.chains.find((c) => c.chain === chain)).toMatchObject({ ok: true, checked: IN_FLIGHT * CALLS_PER_WORKER });
    for (const p of procs) expect(p.stderr()).not.toMatch(/audit (write failed|batch not written)/);
  });
});
