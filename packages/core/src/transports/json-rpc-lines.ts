// Newline-delimited JSON-RPC, read defensively. The SDK's ReadBuffer drops any line that fails its
// schema (a request with an id and bad params got no reply at all: the client waited forever) and
// closes the transport on a line over 10 MiB. Here every line gets a verdict: a message to
// dispatch, or an error to answer (with the request's id when one can be recovered, else null),
// or, for notifications and responses that cannot be answered, an error to log.
import { JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";

export const JSONRPC = { PARSE_ERROR: -32700, INVALID_REQUEST: -32600, METHOD_NOT_FOUND: -32601, INVALID_PARAMS: -32602, INTERNAL_ERROR: -32603 } as const;

export type LineVerdict =
  | { kind: "message"; message: JSONRPCMessage }
  | { kind: "skip" }
  | {
      kind: "error";
      /** Answer with this id (null: the id could not be recovered); undefined: do not answer (notifications, responses). */
      replyId: RequestId | null | undefined;
      code: number;
      message: string;
      data?: Record<string, unknown>;
    };

const isRequestId = (v: unknown): v is RequestId => typeof v === "string" || (typeof v === "number" && Number.isInteger(v));
const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : `a ${typeof v}`);
const ENVELOPE_KEYS = new Set(["jsonrpc", "id", "method", "params", "result", "error"]);

/** Why a parsed object is not a JSON-RPC message the SDK accepts; the SDK's schema has the last word. */
function diagnose(obj: Record<string, unknown>): Omit<Extract<LineVerdict, { kind: "error" }>, "kind"> {
  const hasId = "id" in obj;
  const idOk = isRequestId(obj.id);
  const isCall = "method" in obj;
  const isResponse = !isCall && ("result" in obj || "error" in obj);
  // A request is answered; a notification or a response never is (JSON-RPC 2.0 §4.1, §5).
  const replyId: RequestId | null | undefined = isResponse || (isCall && !hasId) ? undefined : idOk ? (obj.id as RequestId) : null;
  const fail = (code: number, message: string) => ({ replyId, code, message });
  if (hasId && !idOk) return { replyId, code: JSONRPC.INVALID_REQUEST, message: `Invalid Request: "id" must be a string or an integer, got ${typeName(obj.id)}` };
  if (obj.jsonrpc !== "2.0") return fail(JSONRPC.INVALID_REQUEST, `Invalid Request: "jsonrpc" must be "2.0"`);
  const extra = Object.keys(obj).filter((k) => !ENVELOPE_KEYS.has(k));
  if (extra.length) return fail(JSONRPC.INVALID_REQUEST, `Invalid Request: unknown member(s) ${extra.map((k) => `"${k}"`).join(", ")}`);
  if (isCall) {
    if (typeof obj.method !== "string") return fail(JSONRPC.INVALID_REQUEST, `Invalid Request: "method" must be a string, got ${typeName(obj.method)}`);
    if ("params" in obj && (typeof obj.params !== "object" || obj.params === null || Array.isArray(obj.params))) {
      return fail(JSONRPC.INVALID_PARAMS, `Invalid params: "params" must be an object, got ${typeName(obj.params)}`);
    }
  } else if (!("result" in obj) && !("error" in obj)) {
    return fail(JSONRPC.INVALID_REQUEST, `Invalid Request: a message needs "method" (a request or notification) or "result"/"error" (a response)`);
  }
  const r = JSONRPCMessageSchema.safeParse(obj);
  const issue = r.success ? undefined : r.error.issues[0];
  return fail(JSONRPC.INVALID_REQUEST, `Invalid Request: ${issue ? `${issue.path.join(".") || "(message)"}: ${issue.message}` : "not a JSON-RPC 2.0 message"}`);
}

/** The verdict on one line (without its newline). */
export function classifyLine(line: string): LineVerdict {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text.trim() === "") return { kind: "skip" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const id = scanTopLevelId(Buffer.from(text, "utf8"));
    return { kind: "error", replyId: id ?? null, code: JSONRPC.PARSE_ERROR, message: `Parse error: the line is not valid JSON (${(e as Error).message})` };
  }
  if (Array.isArray(value)) {
    return { kind: "error", replyId: null, code: JSONRPC.INVALID_REQUEST, message: "Invalid Request: batches are not supported; send one JSON-RPC message per line" };
  }
  if (typeof value !== "object" || value === null) {
    return { kind: "error", replyId: null, code: JSONRPC.INVALID_REQUEST, message: `Invalid Request: a message must be a JSON object, got ${typeName(value)}` };
  }
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (parsed.success) return { kind: "message", message: parsed.data };
  return { kind: "error", ...diagnose(value as Record<string, unknown>) };
}

const Q = 0x22; // "
const BS = 0x5c; // \
const MAX_CAPTURE = 256;

/**
 * Finds the top-level "id" of a JSON object from its bytes, fed in pieces, without keeping them:
 * for a line too large to hold or too broken to parse. Only structure is tracked (depth, strings,
 * escapes); JSON's structural characters are ASCII, so UTF-8 needs no decoding.
 */
export class TopLevelIdScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectKey = false;
  /** Bytes of the current depth-1 key or of the id's value; undefined when not capturing. */
  private capture: number[] | undefined;
  private lastKey: string | undefined;
  private state: "scan" | "await-value" | "value-string" | "value-bare" | "done" = "scan";
  private started = false;
  private result: RequestId | undefined;

  get id(): RequestId | undefined {
    if (this.state === "value-bare") this.finishBare();
    return this.result;
  }

  feed(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length && this.state !== "done"; i++) this.step(chunk[i]!);
  }

  private step(b: number): void {
    if (!this.started) {
      if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) return;
      this.started = true;
      if (b !== 0x7b) {
        this.state = "done"; // not an object: no id to find
        return;
      }
    }
    switch (this.state) {
      case "await-value":
        if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) return;
        if (b === Q) {
          this.state = "value-string";
          this.capture = [b];
          return;
        }
        this.state = "value-bare";
        this.capture = [b];
        return;
      case "value-string":
        this.capture!.push(b);
        if (this.capture!.length > MAX_CAPTURE) return this.giveUp();
        if (this.escaped) this.escaped = false;
        else if (b === BS) this.escaped = true;
        else if (b === Q) {
          try {
            this.result = JSON.parse(Buffer.from(this.capture!).toString("utf8")) as string;
          } catch {
            // not a valid string: leave the id unknown
          }
          this.state = "done";
        }
        return;
      case "value-bare":
        if ((b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2b || b === 0x2e || b === 0x65 || b === 0x45) {
          this.capture!.push(b);
          if (this.capture!.length > 32) this.giveUp();
          return;
        }
        this.finishBare();
        return;
      case "scan":
        this.scan(b);
        return;
      case "done":
        return;
    }
  }

  private finishBare(): void {
    const n = Number(Buffer.from(this.capture ?? []).toString("ascii"));
    if (this.capture?.length && Number.isInteger(n)) this.result = n;
    this.state = "done";
  }

  private giveUp(): void {
    this.state = "done";
    this.capture = undefined;
  }

  private scan(b: number): void {
    if (this.inString) {
      if (this.capture) {
        this.capture.push(b);
        if (this.capture.length > 16) this.capture = undefined; // a long key is not "id"
      }
      if (this.escaped) this.escaped = false;
      else if (b === BS) this.escaped = true;
      else if (b === Q) {
        this.inString = false;
        if (this.capture) this.lastKey = Buffer.from(this.capture.slice(0, -1)).toString("utf8");
        this.capture = undefined;
      }
      return;
    }
    if (b === Q) {
      this.inString = true;
      const isKey = this.depth === 1 && this.expectKey;
      this.expectKey = false;
      this.lastKey = undefined;
      this.capture = isKey ? [] : undefined;
      return;
    }
    if (b === 0x7b || b === 0x5b) {
      this.depth++;
      if (this.depth === 1) this.expectKey = true;
      return;
    }
    if (b === 0x7d || b === 0x5d) {
      this.depth--;
      if (this.depth <= 0) this.state = "done";
      return;
    }
    if (this.depth === 1 && b === 0x2c) {
      this.expectKey = true;
      return;
    }
    if (this.depth === 1 && b === 0x3a) {
      if (this.lastKey === "id") this.state = "await-value";
      this.lastKey = undefined;
    }
  }
}

/** The top-level id of (the start of) a JSON object's bytes, if it can be seen. */
export function scanTopLevelId(bytes: Uint8Array): RequestId | undefined {
  const s = new TopLevelIdScanner();
  s.feed(bytes);
  return s.id;
}

export interface OversizedLine {
  /** Bytes in the line (without its newline). */
  bytes: number;
  /** The request's id, when it could be seen. */
  id: RequestId | undefined;
}

/**
 * Splits a byte stream into lines of at most maxBytes. A longer line is never held in memory:
 * its bytes are scanned for the id and dropped, and it is reported once its newline arrives.
 */
export class LineFramer {
  private chunks: Buffer[] = [];
  private size = 0;
  private oversized: { scanner: TopLevelIdScanner; bytes: number } | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onOversized: (line: OversizedLine) => void,
  ) {}

  /** Bytes received after the last newline. */
  get pendingBytes(): number {
    return this.oversized ? this.oversized.bytes : this.size;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const part = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      if (this.oversized) {
        this.oversized.scanner.feed(part);
        this.oversized.bytes += part.length;
      } else if (this.size + part.length > this.maxBytes) {
        const scanner = new TopLevelIdScanner();
        for (const c of this.chunks) scanner.feed(c);
        scanner.feed(part);
        this.oversized = { scanner, bytes: this.size + part.length };
        this.chunks = [];
        this.size = 0;
      } else if (part.length) {
        this.chunks.push(part);
        this.size += part.length;
      }
      if (nl === -1) return;
      this.completeLine();
      start = nl + 1;
    }
  }

  private completeLine(): void {
    if (this.oversized) {
      const { scanner, bytes } = this.oversized;
      this.oversized = undefined;
      this.onOversized({ bytes, id: scanner.id });
      return;
    }
    const line = this.chunks.length === 1 ? this.chunks[0]!.toString("utf8") : Buffer.concat(this.chunks, this.size).toString("utf8");
    this.chunks = [];
    this.size = 0;
    this.onLine(line);
  }

  clear(): void {
    this.chunks = [];
    this.size = 0;
    this.oversized = undefined;
  }
}

/**
 * The SDK answers a request whose params fail its schema with -32603 and zod's issue list as raw
 * JSON (e.g. resources/read with a numeric uri). That is the caller's mistake, not ours: say
 * -32602 and name the field in one line. Any other message passes through unchanged.
 */
export function clarifyErrorResponse(message: JSONRPCMessage): JSONRPCMessage {
  if (!("error" in message) || message.error.code !== JSONRPC.INTERNAL_ERROR) return message;
  const text = message.error.message;
  if (!text.startsWith("[")) return message;
  let issues: unknown;
  try {
    issues = JSON.parse(text);
  } catch {
    return message;
  }
  if (!Array.isArray(issues) || !issues.length || !issues.every((i) => i && typeof i === "object" && Array.isArray(i.path) && typeof i.message === "string")) return message;
  const described = (issues as Array<{ path: PropertyKey[]; message: string }>)
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || "(params)"}: ${i.message}`)
    .join("; ");
  return { ...message, error: { code: JSONRPC.INVALID_PARAMS, message: `Invalid params: ${described}` } };
}
