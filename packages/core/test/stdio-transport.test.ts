// The stdio transport in-process, on PassThrough streams: every line gets a message, a JSON-RPC
// error reply, or a log line; nothing is dropped silently and an oversized line is never held.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";
import { classifyLine, clarifyErrorResponse, LineFramer, RobustStdioServerTransport, scanTopLevelId } from "../src/index.ts";

const ok = (m: object) => JSON.stringify({ jsonrpc: "2.0", ...m });

describe("classifyLine", () => {
  it("passes a valid request, notification and response through as messages", () => {
    for (const l of [ok({ id: 1, method: "tools/list" }), ok({ method: "notifications/initialized" }), ok({ id: "a", result: {} })]) {
      expect(classifyLine(l)).toMatchObject({ kind: "message" });
    }
  });

  it.each([
    ["params not an object", ok({ id: 7, method: "tools/call", params: "not-an-object" }), 7, -32602, /"params" must be an object, got a string/],
    ["params an array", ok({ id: 8, method: "tools/call", params: [1] }), 8, -32602, /got an array/],
    ["wrong jsonrpc", JSON.stringify({ jsonrpc: "1.0", id: "x", method: "ping" }), "x", -32600, /"jsonrpc" must be "2.0"/],
    ["method not a string", ok({ id: 9, method: 5 }), 9, -32600, /"method" must be a string/],
    ["unknown member", ok({ id: 10, method: "ping", extra: 1 }), 10, -32600, /unknown member\(s\) "extra"/],
    ["neither call nor response", ok({ id: 11 }), 11, -32600, /needs "method"/],
    ["an id that is not an id", ok({ id: { a: 1 }, method: "ping" }), null, -32600, /"id" must be a string or an integer/],
    ["not JSON, no id", "nope", null, -32700, /Parse error/],
    ["broken JSON with a visible id", '{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{', 12, -32700, /Parse error/],
    ["a bare number", "42", null, -32600, /must be a JSON object, got a number/],
    ["a batch", `[${ok({ id: 1, method: "ping" })}]`, null, -32600, /batches are not supported/],
  ])("answers %s with the id it can recover", (_what, line, id, code, message) => {
    const v = classifyLine(line);
    expect(v).toMatchObject({ kind: "error", replyId: id, code });
    expect(v.kind === "error" && v.message).toMatch(message);
  });

  it("does not answer a malformed notification or response (JSON-RPC never answers those), but reports it", () => {
    expect(classifyLine(ok({ method: "notifications/x", params: 3 }))).toMatchObject({ kind: "error", replyId: undefined, code: -32602 });
    expect(classifyLine(ok({ id: 3, result: 5 }))).toMatchObject({ kind: "error", replyId: undefined });
    expect(classifyLine(ok({ result: {}, extra: true }))).toMatchObject({ kind: "error", replyId: undefined });
  });

  it("skips blank lines and strips a CR", () => {
    expect(classifyLine("   ")).toEqual({ kind: "skip" });
    expect(classifyLine(`${ok({ id: 1, method: "ping" })}\r`)).toMatchObject({ kind: "message" });
  });
});

describe("scanTopLevelId", () => {
  const scan = (s: string) => scanTopLevelId(Buffer.from(s));
  it("finds the top-level id wherever it is, ignoring nested ones and strings that look like it", () => {
    expect(scan('{"jsonrpc":"2.0","id":7,"method":"x"}')).toBe(7);
    expect(scan('{"method":"x","params":{"id":99,"s":"\\"id\\":5"},"id":"abc"}')).toBe("abc");
    expect(scan('{"params":[{"id":1}],"note":"id","id":-3}')).toBe(-3);
    expect(scan('{"id":"a\\"b"}')).toBe('a"b');
    expect(scan('{"id": 12')).toBe(12);
  });
  it("gives up on what is no id: null, fractions, non-objects", () => {
    expect(scan('{"id":null}')).toBeUndefined();
    expect(scan('{"id":1.5}')).toBeUndefined();
    expect(scan('[{"id":1}]')).toBeUndefined();
    expect(scan('{"params":{"id":1}}')).toBeUndefined();
  });
});

describe("LineFramer", () => {
  it("splits lines across chunks and reports an oversized line once, with its id, holding none of it", () => {
    const lines: string[] = [];
    const big: Array<{ bytes: number; id: unknown }> = [];
    const f = new LineFramer(64, (l) => lines.push(l), (b) => big.push(b));
    f.push(Buffer.from('{"a":'));
    f.push(Buffer.from('1}\n{"b":2}\n{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"x":"'));
    for (let i = 0; i < 100; i++) f.push(Buffer.alloc(1000, 0x61));
    expect(f.pendingBytes).toBeGreaterThan(100_000);
    f.push(Buffer.from('"}}\n{"c":3}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(big).toHaveLength(1);
    expect(big[0]!.id).toBe(41);
    expect(big[0]!.bytes).toBe(Buffer.byteLength('{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"x":"') + 100_000 + 3);
  });

  it("accepts a line of exactly the limit and refuses one byte more", () => {
    const lines: string[] = [];
    const big: unknown[] = [];
    const f = new LineFramer(10, (l) => lines.push(l), (b) => big.push(b));
    f.push(Buffer.from("0123456789\n0123456789A\n"));
    expect(lines).toEqual(["0123456789"]);
    expect(big).toEqual([{ bytes: 11, id: undefined }]);
  });
});

describe("clarifyErrorResponse", () => {
  it("turns the SDK's -32603 with raw zod issues into -32602 naming the field", () => {
    const raw = JSON.stringify([{ code: "invalid_type", expected: "string", path: ["params", "uri"], message: "Invalid input: expected string, received number" }], null, 2);
    const out = clarifyErrorResponse({ jsonrpc: "2.0", id: 4, error: { code: -32603, message: raw } });
    expect(out).toEqual({ jsonrpc: "2.0", id: 4, error: { code: -32602, message: "Invalid params: params.uri: Invalid input: expected string, received number" } });
  });
  it("leaves every other message alone", () => {
    const internal = { jsonrpc: "2.0" as const, id: 4, error: { code: -32603, message: "[not json" } };
    expect(clarifyErrorResponse(internal)).toBe(internal);
    const result = { jsonrpc: "2.0" as const, id: 5, result: {} };
    expect(clarifyErrorResponse(result)).toBe(result);
  });
});

describe("RobustStdioServerTransport", () => {
  function setup(maxMessageBytes?: number) {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const logs: Array<Record<string, unknown>> = [];
    const logStream = new PassThrough();
    logStream.on("data", (d) => logs.push(JSON.parse(String(d))));
    const t = new RobustStdioServerTransport({ stdin, stdout, maxMessageBytes, log: createLogger({ level: "info", destination: logStream }) });
    const received: unknown[] = [];
    t.onmessage = (m) => received.push(m);
    let out = "";
    stdout.on("data", (d) => (out += d));
    const replies = () => out.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    return { stdin, t, received, replies, logs };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it("delivers good messages, answers bad requests by id, and keeps going", async () => {
    const s = setup();
    await s.t.start();
    s.stdin.write(`${ok({ id: 1, method: "ping" })}\n${ok({ id: 7, method: "tools/call", params: "not-an-object" })}\nnot json\n${ok({ id: 2, method: "ping" })}\n`);
    await tick();
    expect(s.received).toEqual([
      { jsonrpc: "2.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: 2, method: "ping" },
    ]);
    expect(s.replies()).toEqual([
      { jsonrpc: "2.0", id: 7, error: { code: -32602, message: 'Invalid params: "params" must be an object, got a string' } },
      { jsonrpc: "2.0", id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error/) } },
    ]);
    expect(s.logs.filter((l) => l.msg && String(l.msg).startsWith("refused a stdin line"))).toHaveLength(2);
    await s.t.close();
  });

  it("answers an oversized request by its id (logs one without an id as an error), and serves the next line", async () => {
    const s = setup(1024);
    await s.t.start();
    s.stdin.write(`{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"pad":"${"x".repeat(5000)}"}}\n`);
    s.stdin.write(`{"jsonrpc":"2.0","method":"tools/call","params":{"pad":"${"x".repeat(5000)}"}}\n`);
    s.stdin.write(`${ok({ id: 3, method: "ping" })}\n`);
    await tick();
    const r = s.replies();
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ id: "big", error: { code: -32600, data: { limit_bytes: 1024 } } });
    expect(r[0].error.message).toMatch(/Message too large: \d+ bytes, over the limit of 1024 bytes \(MCP_MAX_MESSAGE_BYTES\)/);
    expect(s.received).toEqual([{ jsonrpc: "2.0", id: 3, method: "ping" }]);
    expect(s.logs.filter((l) => l.level === 50 && String(l.msg).includes("without an id: it was too large"))).toHaveLength(1);
    await s.t.close();
  });

  it("logs a message cut off by the end of stdin", async () => {
    const s = setup();
    await s.t.start();
    s.stdin.end('{"jsonrpc":"2.0","id":1,"method":"pi');
    await tick();
    await tick();
    expect(s.logs.some((l) => l.level === 50 && String(l.msg).includes("stdin ended inside a message"))).toBe(true);
    expect(s.received).toEqual([]);
  });
});
