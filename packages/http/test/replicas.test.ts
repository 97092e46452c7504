// Two HTTP host processes (replicas behind any load balancer) on two ports, one database: they
// enforce one rate limit and write one audit log whose chains all verify.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG } from "@marketsage/catalog";
import { verifyAuditLog } from "@marketsage/core";
import { useTestDatabase } from "@marketsage/core/testing";
import { DEMO_ORGS, demoApiKey, findRepoRoot, hashApiKey, openDb } from "@marketsage/db";

const tdb = useTestDatabase();
const ORG = DEMO_ORGS[0]!;
const KEY = demoApiKey(ORG, "USER");
const LIMIT = 6;
const hosts: Array<{ child: ChildProcess; url: string }> = [];

function startHost(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(findRepoRoot(), "packages", "http", "dist", "main.js")], {
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: tdb.url, MCP_HTTP_PORT: "0", MCP_RATE_LIMIT_PER_MINUTE: String(LIMIT), LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (d) => {
      err += d;
      const m = /MarketSage MCP host on (http:\/\/[^\s]+)/.exec(err);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on("exit", (code) => reject(new Error(`host exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`host did not start: ${err}`)), 30_000).unref();
  });
}

beforeAll(async () => {
  hosts.push(...(await Promise.all([startHost(), startHost()])));
});
afterAll(async () => {
  for (const h of hosts) h.child.kill("SIGTERM");
  await Promise.all(hosts.map((h) => new Promise((r) => (h.child.exitCode !== null ? r(null) : h.child.once("exit", r)))));
});

describe("two host processes", () => {
  it("share one rate limit and one audit log that verifies", async () => {
    const server = CATALOG[0]!.name;
    const pkg = await CATALOG[0]!.load();
    const probe = pkg.healthCheck;
    const clients = await Promise.all(
      hosts.map(async (h) => {
        const c = new Client({ name: "replica-test", version: "0" });
        await c.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp/${server}`), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
        return c;
      }),
    );
    expect(new Set(hosts.map((h) => h.url)).size).toBe(2);
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < LIMIT + 3; i++) {
        const r = await clients[i % 2]!.callTool({ name: probe.tool, arguments: probe.args });
        const text = (r.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? "").join("");
        outcomes.push(r.isError ? text.split(":")[0]! : "OK");
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    expect(outcomes).toEqual([...Array(LIMIT).fill("OK"), "RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"]);

    const sql = new pg.Client({ connectionString: tdb.url });
    await sql.connect();
    try {
      const rows = (
        await sql.query<{ outcome: string; chain_key: string }>(
          `select a.outcome::text as outcome, a.chain_key from audit_events a join api_keys k on k.id = a.api_key_id where k.key_hash = $1 and a.tool = $2 order by a.id`,
          [hashApiKey(KEY), probe.tool],
        )
      ).rows;
      expect(rows.map((r) => r.outcome).sort()).toEqual([...Array(LIMIT).fill("ALLOWED"), "RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"].sort());
      // Each process appends to its own chain; both are in the one log.
      expect(new Set(rows.map((r) => r.chain_key)).size).toBe(2);
    } finally {
      await sql.end();
    }
    const db = openDb(tdb.url, { max: 1 });
    try {
      const v = await verifyAuditLog(db, ORG.id);
      expect(v.ok, JSON.stringify(v)).toBe(true);
    } finally {
      await db.$disconnect();
    }
  });
});
