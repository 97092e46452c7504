// A running server process whose database goes away and comes back: calls answer UNAVAILABLE
// ("the database is not reachable; retry in a few seconds") while it is down and succeed again
// once it is back, with no restart; a statement past MCP_STATEMENT_TIMEOUT_MS answers TIMEOUT.
// The database is this file's own embedded PostgreSQL (own data directory): stopping it touches
// no other test's server.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations, DEMO_ORGS, demoApiKey, ensureEmbeddedPostgres, stopEmbeddedPostgres, type EmbeddedServer } from "@marketsage/db";
import { seedDatabase } from "@marketsage/db/seed";
import { disposeEmbedded } from "@marketsage/db/testing";
import { serverEntry } from "./support/build.ts";

const KEY = demoApiKey(DEMO_ORGS[0]!, "ADMIN");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ms-outage-"));
let db: EmbeddedServer;

type Reply = { id?: unknown; result?: { isError?: boolean; content?: Array<{ text: string }>; _meta?: { error?: { code?: string } } }; error?: unknown };

/** The built customer-data server over stdio, driven by JSON-RPC lines. */
class Server {
  private child: ChildProcessWithoutNullStreams;
  private replies = new Map<unknown, Reply>();
  private nextId = 100;
  stderr = "";
  exited: number | null | undefined = undefined;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [serverEntry("customer-data")], { env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env } });
    let buf = "";
    this.child.stdout.on("data", (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const m = JSON.parse(buf.slice(0, nl)) as Reply;
        buf = buf.slice(nl + 1);
        if (m.id !== undefined) this.replies.set(m.id, m);
      }
    });
    this.child.stderr.on("data", (d) => (this.stderr += d));
    this.child.on("close", (code) => (this.exited = code));
  }

  async request(method: string, params: object): Promise<Reply> {
    const id = this.nextId++;
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`);
    const deadline = Date.now() + 30_000;
    while (!this.replies.has(id)) {
      if (this.exited !== undefined) throw new Error(`server exited (${this.exited}); stderr:\n${this.stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no reply to ${method}; stderr:\n${this.stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.replies.get(id)!;
  }

  async start(): Promise<void> {
    const init = await this.request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "outage-test", version: "0" } });
    expect(init.result, this.stderr).toBeDefined();
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  }

  search(): Promise<Reply> {
    return this.request("tools/call", { name: "search_customers", arguments: { limit: 2 } });
  }

  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const closed = new Promise((r) => this.child.once("close", r));
    this.child.stdin.end();
    await closed;
  }
}

const text = (r: Reply) => r.result?.content?.map((c) => c.text).join("\n") ?? "";

beforeAll(async () => {
  db = await ensureEmbeddedPostgres({ dataDir });
  await applyMigrations(db.url);
  await seedDatabase(db.url, { scale: "tiny", seed: 42, now: new Date(inject("testNow")) });
});

afterAll(async () => {
  await disposeEmbedded(dataDir);
});

describe("the database stops and starts under a running server", () => {
  let srv: Server;
  afterAll(async () => {
    await srv?.stop();
  });

  it("answers UNAVAILABLE while it is down and recovers by itself when it is back", async () => {
    srv = new Server({ DATABASE_URL: db.url, MARKETSAGE_API_KEY: KEY });
    await srv.start();
    const before = await srv.search();
    expect(before.result?.isError, text(before)).toBeFalsy();

    expect(await stopEmbeddedPostgres({ dataDir })).toBe(true);
    // Twice: the first call finds the pool's connections dead, the second opens none.
    for (let i = 0; i < 2; i++) {
      const down = await srv.search();
      expect(down.error).toBeUndefined();
      expect(down.result?.isError).toBe(true);
      expect(text(down)).toBe("UNAVAILABLE: the database is not reachable; retry in a few seconds");
      expect(down.result?._meta?.error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
    }

    const again = await ensureEmbeddedPostgres({ dataDir });
    expect(again.port).toBe(db.port);
    const after = await srv.search();
    expect(after.result?.isError, text(after)).toBeFalsy();
    expect((after.result as { structuredContent?: { customers?: unknown[] } }).structuredContent?.customers).toHaveLength(2);
    expect(srv.exited).toBeUndefined();
  });
});

describe("a statement past MCP_STATEMENT_TIMEOUT_MS", () => {
  let srv: Server;
  afterAll(async () => {
    await srv?.stop();
  });

  it("answers TIMEOUT naming the limit while a lock held elsewhere blocks the query, and works once it is released", async () => {
    srv = new Server({ DATABASE_URL: db.url, MARKETSAGE_API_KEY: KEY, MCP_STATEMENT_TIMEOUT_MS: "200" });
    await srv.start();
    expect((await srv.search()).result?.isError).toBeFalsy();

    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query("begin");
      await locker.query("lock table contacts in access exclusive mode");
      const blocked = await srv.search();
      expect(blocked.result?._meta?.error?.code, text(blocked)).toBe("TIMEOUT");
      expect(text(blocked)).toMatch(/^TIMEOUT: the database did not finish within 200 ms, so the call was stopped and nothing was changed/);
    } finally {
      await locker.query("rollback");
      await locker.end();
    }
    expect((await srv.search()).result?.isError).toBeFalsy();
  });
});
