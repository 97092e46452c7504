// The stdio server transport: the SDK's StdioServerTransport contract (newline-delimited JSON-RPC
// on stdin/stdout), read defensively. Every line is answered or logged, never dropped silently:
// a malformed request with a recoverable id gets its JSON-RPC error (-32700/-32600/-32602), a line
// that is no message at all gets the error with id null, and a line over the size limit is
// scanned for its id, discarded without being held in memory, and answered by that id (logged as
// an error when it has none); the server keeps serving.
import process from "node:process";
import type { Readable, Writable } from "node:stream";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../logger.ts";
import { clarifyErrorResponse, classifyLine, JSONRPC, LineFramer, type OversizedLine } from "./json-rpc-lines.ts";

/** MCP_MAX_MESSAGE_BYTES' default: far above any tool call, far below what would strain memory. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface StdioTransportOptions {
  stdin?: Readable;
  stdout?: Writable;
  /** Where refused lines are reported (stderr through pino); silent when absent. */
  log?: Logger;
  /** The longest line accepted, in bytes (MCP_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
}

export class RobustStdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;

  private readonly stdin: Readable;
  private readonly stdout: Writable;
  private readonly log: Logger | undefined;
  private readonly maxBytes: number;
  private readonly framer: LineFramer;
  private started = false;
  private closed = false;

  constructor(opts: StdioTransportOptions = {}) {
    this.stdin = opts.stdin ?? process.stdin;
    this.stdout = opts.stdout ?? process.stdout;
    this.log = opts.log;
    this.maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.framer = new LineFramer(
      this.maxBytes,
      (line) => this.handleLine(line),
      (big) => this.handleOversized(big),
    );
  }

  private readonly onData = (chunk: Buffer | string) => {
    this.framer.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
  };

  private readonly onEnd = () => {
    const pending = this.framer.pendingBytes;
    if (pending > 0) {
      this.log?.error({ bytes: pending }, "stdin ended inside a message (no newline after it); it was not processed");
    }
  };

  private readonly onStreamError = (error: Error) => {
    this.log?.error({ err: error }, "stdio stream error");
    this.onerror?.(error);
  };

  async start(): Promise<void> {
    if (this.started) throw new Error("RobustStdioServerTransport already started (Server.connect() starts it).");
    this.started = true;
    this.stdin.on("data", this.onData);
    this.stdin.on("end", this.onEnd);
    this.stdin.on("error", this.onStreamError);
    // EPIPE when the client went away: report it instead of crashing on an unhandled 'error'.
    this.stdout.on("error", this.onStreamError);
  }

  private handleLine(line: string): void {
    const v = classifyLine(line);
    if (v.kind === "skip") return;
    if (v.kind === "message") {
      try {
        this.onmessage?.(v.message);
      } catch (err) {
        // A throwing handler must not cost the lines after it in the same chunk.
        this.log?.error({ err }, "handling a stdin message failed");
        this.onerror?.(err as Error);
      }
      return;
    }
    this.refuse(v.replyId, v.code, v.message, v.data, Buffer.byteLength(line));
  }

  private handleOversized(big: OversizedLine): void {
    const message = `Message too large: ${big.bytes} bytes, over the limit of ${this.maxBytes} bytes (MCP_MAX_MESSAGE_BYTES). Send less per call (page through results, split the input).`;
    // The whole line was scanned: no top-level id means a notification (never answered) or no
    // message at all. Either way the log says so, at error level: something was lost.
    if (big.id === undefined) this.log?.error({ bytes: big.bytes, limitBytes: this.maxBytes }, "refused a stdin line without an id: it was too large; nothing was answered");
    this.refuse(big.id, JSONRPC.INVALID_REQUEST, message, { limit_bytes: this.maxBytes, received_bytes: big.bytes }, big.bytes);
  }

  /** Log a refused line and answer it when JSON-RPC allows an answer. */
  private refuse(replyId: RequestId | null | undefined, code: number, message: string, data: Record<string, unknown> | undefined, bytes: number): void {
    const answered = replyId !== undefined;
    this.log?.warn({ code, id: replyId ?? null, bytes, answered }, `refused a stdin line: ${message.slice(0, 200)}`);
    if (!answered) return;
    // id null is JSON-RPC's answer when the request's id cannot be known (the SDK's types have no null id).
    const reply = { jsonrpc: "2.0", id: replyId, error: { code, message, ...(data ? { data } : {}) } };
    void this.write(`${JSON.stringify(reply)}\n`);
  }

  private write(text: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.writableEnded || this.stdout.destroyed) return resolve();
      if (this.stdout.write(text)) resolve();
      else this.stdout.once("drain", resolve);
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.write(`${JSON.stringify(clarifyErrorResponse(message))}\n`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off("data", this.onData);
    this.stdin.off("end", this.onEnd);
    this.stdin.off("error", this.onStreamError);
    this.stdout.off("error", this.onStreamError);
    // Pause stdin only when nobody else reads it (as the SDK's transport does).
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.framer.clear();
    this.onclose?.();
  }
}
