// The protocol edge of a real server process: raw lines to the built customer-data server over
// stdio. Every malformed request that carries an id is answered with a JSON-RPC error and that id;
// a line that is not JSON is answered with id null; wrong argument types are a tool result
// (INVALID_INPUT naming the field); an oversized line is answered and the server keeps serving.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { useTestDatabase } from "../src/testing/index.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../src/index.ts";
// The bundles are brought up to date once per run, by test/global-setup.ts.
import { serverEntry } from "../../../test/support/build.ts";

const tdb = useTestDatabase();
const KEY = demoApiKey(DEMO_ORGS[0]!, "ADMIN");

type Msg = { jsonrpc: string; id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: Record<string, unknown> } };

/** A server process driven by raw stdin lines, its stdout parsed line by line. */
class RawServer {
  readonly messages: Msg[] = [];
  readonly nonJson: string[] = [];
  stderr = "";
  exit: Promise<number | null>;
  private child: ChildProcessWithoutNullStreams;
  private waiters: Array<() => void> = [];

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [serverEntry("customer-data")], { env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...env } });
    let buf = "";
    this.child.stdout.on("data", (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.messages.push(JSON.parse(line) as Msg);
        } catch {
          this.nonJson.push(line);
        }
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on("data", (d) => (this.stderr += d));
    this.exit = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
  }

  write(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  send(m: object): void {
    this.write(JSON.stringify({ jsonrpc: "2.0", ...m }));
  }

  /** The first message matching, waiting up to 20 s for it. */
  async next(pred: (m: Msg) => boolean, what: string): Promise<Msg> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = this.messages.find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no reply ${what}; stderr:\n${this.stderr.slice(-2000)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  reply(id: unknown): Promise<Msg> {
    return this.next((m) => m.id === id && ("result" in m || "error" in m), `with id ${JSON.stringify(id)}`);
  }

  async stop(): Promise<number | null> {
    this.child.stdin.end();
    return this.exit;
  }
}

let srv: RawServer;

beforeAll(async () => {
  srv = new RawServer({ DATABASE_URL: tdb.url, MARKETSAGE_API_KEY: KEY });
  srv.send({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "protocol-test", version: "0" } } });
  expect((await srv.reply(1)).result).toBeDefined();
  srv.send({ method: "notifications/initialized" });
});

afterAll(async () => {
  await srv?.stop();
});

describe("malformed requests get a JSON-RPC error reply", () => {
  it("params that are not an object: -32602 with the request's id (the SDK's transport never answered)", async () => {
    srv.write('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":"not-an-object"}');
    const r = await srv.reply(7);
    expect(r.error).toEqual({ code: -32602, message: 'Invalid params: "params" must be an object, got a string' });
  });

  it("not an envelope JSON-RPC knows: -32600 with the id", async () => {
    srv.write('{"jsonrpc":"1.0","id":"v1","method":"ping"}');
    srv.write('{"jsonrpc":"2.0","id":8,"method":"ping","extra":true}');
    expect((await srv.reply("v1")).error).toMatchObject({ code: -32600, message: expect.stringContaining('"jsonrpc" must be "2.0"') });
    expect((await srv.reply(8)).error).toMatchObject({ code: -32600, message: expect.stringContaining('unknown member(s) "extra"') });
  });

  it("a line that is not JSON: -32700 with id null; with a readable id: that id", async () => {
    const before = srv.messages.filter((m) => m.id === null).length;
    srv.write("this is not json");
    const r = await srv.next((m) => m.id === null && srv.messages.filter((x) => x.id === null).length > before, "with id null");
    expect(r.error).toMatchObject({ code: -32700, message: expect.stringMatching(/^Parse error/) });
    srv.write('{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"search_customers",');
    expect((await srv.reply(9)).error).toMatchObject({ code: -32700 });
  });

  it("a tools/call without a tool name: -32602 naming name", async () => {
    srv.send({ id: 10, method: "tools/call", params: { name: 5, arguments: {} } });
    expect((await srv.reply(10)).error).toEqual({ code: -32602, message: "Invalid params: name: expected the tool's name (a string), got number" });
  });

  it("a tools/list cursor that is not a string: -32602 naming cursor", async () => {
    srv.send({ id: 12, method: "tools/list", params: { cursor: 5 } });
    expect((await srv.reply(12)).error).toEqual({ code: -32602, message: "Invalid params: cursor: expected a string, got number" });
  });

  it("params of the wrong type for another method: -32602 naming the field, not -32603 with zod's JSON", async () => {
    srv.send({ id: 11, method: "initialize", params: { protocolVersion: 5, capabilities: {}, clientInfo: { name: "x", version: "0" } } });
    const r = await srv.reply(11);
    expect(r.error?.code).toBe(-32602);
    expect(r.error?.message).toMatch(/^Invalid params: .*protocolVersion: /);
    expect(r.error?.message).not.toContain("[");
  });
});

describe("wrong argument types are a tool result the model can act on", () => {
  it("a field of the wrong type: INVALID_INPUT naming the field", async () => {
    srv.send({ id: 20, method: "tools/call", params: { name: "search_customers", arguments: { limit: "abc" } } });
    const r = await srv.reply(20);
    expect(r.error).toBeUndefined();
    expect(r.result).toMatchObject({ isError: true, _meta: { error: { code: "INVALID_INPUT" } } });
    const text = (r.result!.content as Array<{ text: string }>)[0]!.text;
    expect(text).toMatch(/^INVALID_INPUT: Invalid arguments for search_customers: limit: /);
  });

  it("arguments that are not an object: INVALID_INPUT, not -32603", async () => {
    srv.send({ id: 21, method: "tools/call", params: { name: "search_customers", arguments: "x" } });
    const r = await srv.reply(21);
    expect(r.error).toBeUndefined();
    expect(r.result).toMatchObject({ isError: true, _meta: { error: { code: "INVALID_INPUT" } } });
    expect((r.result!.content as Array<{ text: string }>)[0]!.text).toMatch(/^INVALID_INPUT: Invalid arguments for search_customers: .*expected object/);
  });
});

describe("an oversized line (over MCP_MAX_MESSAGE_BYTES, default 4 MiB)", () => {
  it("is answered with an error reply carrying its id, logged, and the server keeps serving (no exit)", async () => {
    const pad = "x".repeat(DEFAULT_MAX_MESSAGE_BYTES + 1024);
    srv.write(`{"jsonrpc":"2.0","id":30,"method":"tools/call","params":{"name":"search_customers","arguments":{"query":"${pad}"}}}`);
    const r = await srv.reply(30);
    expect(r.error).toMatchObject({ code: -32600, data: { limit_bytes: DEFAULT_MAX_MESSAGE_BYTES } });
    expect(r.error?.message).toMatch(/^Message too large: \d+ bytes, over the limit of 4194304 bytes \(MCP_MAX_MESSAGE_BYTES\)/);
    expect(srv.stderr).toMatch(/refused a stdin line: Message too large/);

    srv.send({ id: 31, method: "tools/call", params: { name: "search_customers", arguments: { limit: 1 } } });
    const after = await srv.reply(31);
    expect(after.result?.isError).toBeFalsy();
  });

  it("without an id (a notification is never answered): an error in the log, and the server keeps serving", async () => {
    const replies = srv.messages.length;
    srv.write(`{"jsonrpc":"2.0","method":"notifications/x","params":{"pad":"${"y".repeat(DEFAULT_MAX_MESSAGE_BYTES + 10)}"}}`);
    srv.send({ id: 32, method: "ping" });
    expect((await srv.reply(32)).result).toEqual({});
    expect(srv.messages.length).toBe(replies + 1);
    expect(srv.stderr).toMatch(/"level":50[^\n]*refused a stdin line without an id: it was too large/);
  });

  it("stdout carried nothing but JSON-RPC throughout", () => {
    expect(srv.nonJson).toEqual([]);
  });
});
