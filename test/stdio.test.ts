// A real server process over stdio: nothing but protocol messages on stdout, and clear exits
// (with the fix in the message) when it cannot serve.
import { spawn } from "node:child_process";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { createMigratedDatabase } from "@marketsage/db/testing";
import { useTestDatabase } from "@marketsage/core/testing";
import { CATALOG } from "@marketsage/catalog";
import { serverFlagName } from "@marketsage/core";
import { ensureBuilt, serverEntry } from "./support/build.ts";

const tdb = useTestDatabase();
const KEY = demoApiKey(DEMO_ORGS[0]!, "ADMIN");

beforeAll(() => ensureBuilt(CATALOG.map((e) => e.name)));

function run(env: Record<string, string>, input: object[], waitForId?: number, server = "customer-data"): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverEntry(server)], { env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      if (waitForId !== undefined && stdout.includes(`"id":${waitForId}`)) child.stdin.end();
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    for (const m of input) child.stdin.write(`${JSON.stringify(m)}\n`);
    if (waitForId === undefined) child.stdin.end();
    setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
  });
}

describe("stdio server process", () => {
  it("writes only JSON-RPC messages on stdout, logs on stderr", async () => {
    const msgs = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "search_customers", arguments: { limit: 2 } } },
    ];
    const r = await run({ DATABASE_URL: tdb.url, MARKETSAGE_API_KEY: KEY }, msgs, 3);
    const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
    expect(lines.length, r.stderr).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ jsonrpc: "2.0" });
    const call = lines.map((l) => JSON.parse(l)).find((m) => m.id === 3);
    expect(call.result.isError).toBeFalsy();
    expect(call.result.structuredContent.customers).toHaveLength(2);
    expect(r.stderr).toContain("ready on stdio");
    expect(r.stderr).not.toContain(KEY);
  });

  it("refuses an unknown key at start with exit code 5 and says what to fix", async () => {
    const r = await run({ DATABASE_URL: tdb.url, MARKETSAGE_API_KEY: "msk_wrong" }, []);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/API key is not recognised/);
    expect(r.stdout).toBe("");
  });

  it.each(CATALOG.map((e) => [e.name]))("%s exits 3 when its flag is off, naming the flag", async (server) => {
    const flag = serverFlagName(server);
    const r = await run({ DATABASE_URL: tdb.url, MARKETSAGE_API_KEY: KEY, [flag]: "false" }, [], undefined, server);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${server} is disabled (${flag} is false)`);
  });

  it.each(CATALOG.map((e) => [e.name]))("%s exits 2 when MCP_TOOLS names a tool no enabled server has, naming it", async (server) => {
    const r = await run({ DATABASE_URL: tdb.url, MARKETSAGE_API_KEY: KEY, MCP_TOOLS: "search_customers,serch_customers" }, [], undefined, server);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MCP_TOOLS names "serch_customers", which no enabled server has/);
    expect(r.stdout).toBe("");
  });

  it("exits 2 on a per-server flag that names no server", async () => {
    const r = await run({ DATABASE_URL: tdb.url, MARKETSAGE_API_KEY: KEY, MCP_CUSTOMERDATA_ENABLED: "false" }, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MCP_CUSTOMERDATA_ENABLED: no server is called "customerdata"/);
  });

  it("exits 4 on an unmigrated database, naming the command that fixes it", async () => {
    const empty = await createMigratedDatabase(`${inject("runPrefix")}_unmigrated`);
    const pg = await import("pg");
    const c = new pg.default.Client({ connectionString: empty.url });
    await c.connect();
    await c.query("delete from _prisma_migrations where migration_name = (select max(migration_name) from _prisma_migrations)");
    await c.end();
    const r = await run({ DATABASE_URL: empty.url, MARKETSAGE_API_KEY: KEY }, []);
    await empty.drop();
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/migration\(s\) not applied.*pnpm db:setup/);
  });
});
