// One live MCP connection to one server: a child process over stdio (the official SDK's
// StdioClientTransport) or a Streamable HTTP endpoint. Classifies every way it can fail —
// spawn failure, early exit with core's EXIT codes, initialize timeout, call timeout, crash —
// into McpUnavailableError, so the client can decide to fall back and the manager to restart.
import type { ChildProcess } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError, type CallToolResult, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { EXIT, type Logger, type ServerName } from "@marketsage/core";
import { McpUnavailableError } from "./errors.ts";

export type LaunchSpec =
  | { kind: "stdio"; command: string; args: string[]; env: Record<string, string>; cwd?: string }
  | { kind: "http"; url: string; apiKey: string };

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** EXIT name (CONFIG, DISABLED, DATABASE, AUTH, FATAL) when the code is one of core's. */
  meaning: string | undefined;
  stderrTail: string;
}

export interface McpConnection {
  server: ServerName;
  client: Client;
  pid: number | null;
  tools: Tool[];
  initializeMs: number;
  readonly alive: boolean;
  readonly exit: ExitInfo | undefined;
  onExit(cb: (info: ExitInfo) => void): void;
  callTool(name: string, args: Record<string, unknown>, timeoutMs: number): Promise<CallToolResult>;
  close(): Promise<void>;
}

const EXIT_NAMES = new Map<number, string>(Object.entries(EXIT).map(([k, v]) => [v, k]));

function describeExit(e: ExitInfo): string {
  const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}${e.meaning ? ` (${e.meaning})` : ""}`;
  const last = e.stderrTail.trim().split("\n").filter(Boolean).at(-1);
  return last ? `${how}: ${last.slice(0, 300)}` : how;
}

/** The SDK's transport does not expose the child's exit code; we need it to say why a server stopped. */
class ObservedStdioTransport extends StdioClientTransport {
  private resolveExit!: (e: { code: number | null; signal: NodeJS.Signals | null } | undefined) => void;
  readonly exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>((r) => (this.resolveExit = r));
  override async start(): Promise<void> {
    try {
      await super.start();
    } catch (err) {
      this.resolveExit(undefined);
      throw err;
    }
    // `_process` is the SDK's private handle on the child (set before "spawn" resolves start()).
    const child = (this as unknown as { _process?: ChildProcess })._process;
    if (!child) return this.resolveExit(undefined);
    if (child.exitCode !== null || child.signalCode !== null) return this.resolveExit({ code: child.exitCode, signal: child.signalCode });
    // "close" (not "exit"): stdio is drained by then, so the last stderr line is in hand.
    child.once("close", (code, signal) => setImmediate(() => this.resolveExit({ code, signal })));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export async function openConnection(
  server: ServerName,
  spec: LaunchSpec,
  opts: { initializeTimeoutMs: number; log: Logger; clientName?: string },
): Promise<McpConnection> {
  const client = new Client({ name: opts.clientName ?? "marketsage-app", version: "0.1.0" });
  const exitCallbacks: Array<(i: ExitInfo) => void> = [];
  let exit: ExitInfo | undefined;
  let closedByUs = false;
  let stderrTail = "";
  let transport: ObservedStdioTransport | StreamableHTTPClientTransport;
  let exited: Promise<void> = Promise.resolve();

  if (spec.kind === "stdio") {
    const t = new ObservedStdioTransport({ command: spec.command, args: spec.args, env: spec.env, cwd: spec.cwd, stderr: "pipe" });
    t.stderr?.on("data", (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      stderrTail = (stderrTail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.trim()) opts.log.debug({ server, line: line.slice(0, 500) }, "server stderr");
    });
    transport = t;
  } else {
    transport = new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: { authorization: `Bearer ${spec.apiKey}` } } });
  }

  if (transport instanceof ObservedStdioTransport) {
    exited = transport.exited.then((e) => {
      if (!e) return;
      exit = { ...e, meaning: e.code === null ? undefined : EXIT_NAMES.get(e.code), stderrTail };
      if (!closedByUs) for (const cb of exitCallbacks) cb(exit);
    });
  }

  const started = performance.now();
  try {
    await client.connect(transport, { timeout: opts.initializeTimeoutMs });
  } catch (err) {
    closedByUs = true;
    await transport.close().catch(() => undefined);
    // Give an exiting child a moment to report its exit code and last stderr line.
    await Promise.race([exited, sleep(1000)]);
    throw classifyStartError(server, spec, err, exit, opts.initializeTimeoutMs);
  }
  const initializeMs = performance.now() - started;
  const pid = transport instanceof ObservedStdioTransport ? transport.pid : null;

  let tools: Tool[] = [];
  try {
    // Listing once also lets the SDK validate every structuredContent against the tool's outputSchema.
    tools = (await client.listTools(undefined, { timeout: opts.initializeTimeoutMs })).tools;
  } catch (err) {
    closedByUs = true;
    await transport.close().catch(() => undefined);
    throw new McpUnavailableError(server, "protocol_error", `tools/list failed: ${(err as Error).message}`);
  }

  return {
    server,
    client,
    pid,
    tools,
    initializeMs,
    get alive() {
      return exit === undefined && !closedByUs;
    },
    get exit() {
      return exit;
    },
    onExit(cb) {
      exitCallbacks.push(cb);
    },
    async callTool(name, args, timeoutMs) {
      if (exit) throw new McpUnavailableError(server, "crashed", `the server process ${describeExit(exit)}`);
      try {
        return (await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs })) as CallToolResult;
      } catch (err) {
        if (exit) throw new McpUnavailableError(server, "crashed", `the server process ${describeExit(exit)} during ${name}`, true);
        if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
          throw new McpUnavailableError(server, "call_timeout", `${name} got no answer within ${timeoutMs} ms`, true);
        }
        if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) {
          throw new McpUnavailableError(server, "crashed", `the connection closed during ${name}`, true);
        }
        if (spec.kind === "http" && !(err instanceof McpError)) {
          throw new McpUnavailableError(server, "connect_failed", `${spec.url}: ${(err as Error).message}`, true);
        }
        throw new McpUnavailableError(server, "protocol_error", `${name}: ${(err as Error).message}`, true);
      }
    },
    async close() {
      closedByUs = true;
      await client.close().catch(() => undefined);
      await Promise.race([exited, sleep(5000)]);
    },
  };
}

function classifyStartError(server: ServerName, spec: LaunchSpec, err: unknown, exit: ExitInfo | undefined, timeoutMs: number): McpUnavailableError {
  // A timeout first: the exit that follows is our own close of the silent process.
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
    return new McpUnavailableError(server, "initialize_timeout", `no answer to initialize within ${timeoutMs} ms`);
  }
  if (exit) return new McpUnavailableError(server, "server_exited", `the server process ${describeExit(exit)}`, false, exit.meaning);
  const e = err as NodeJS.ErrnoException;
  if (spec.kind === "http") return new McpUnavailableError(server, "connect_failed", `${spec.url}: ${e.message}`);
  if (e.code === "ENOENT" || e.code === "EACCES") return new McpUnavailableError(server, "spawn_failed", `cannot run ${spec.command}: ${e.message}`);
  return new McpUnavailableError(server, "spawn_failed", e.message ?? String(err));
}
