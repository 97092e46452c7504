// A tool is a value: name, words for the model, zod schemas, annotations, scopes and a handler.
// Servers are arrays of these; `core` registers them and wraps every call the same way.
import type { Db, Prisma } from "@marketsage/db";
import type { z } from "zod";
import type { Logger } from "./logger.ts";
import type { Scope } from "./scopes.ts";
import type { Principal } from "./auth.ts";
import type { ServerName } from "./config.ts";
import { strictInput } from "./strict-input.ts";

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** A database handle: the pooled client for reads, the call's transaction for writes. */
export type DbHandle = Prisma.TransactionClient;

export interface ToolContext {
  principal: Principal;
  /** The caller's organization: every query filters by org.id. */
  org: Principal["org"];
  db: DbHandle;
  /**
   * The pooled client, for read tools and tools with `transaction: "own"` (they open their own
   * transactions: a send commits its ledger row before the provider is called). Undefined for
   * write tools whose work is the call's transaction (`db`).
   */
  client?: Db;
  log: Logger;
  /** The clock: tests fix it; handlers never call new Date() for "now". */
  now(): Date;
  /** Report progress (MCP progress notifications when the client asked for them). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /**
   * Ask the person a question through their client (MCP elicitation: a form with the given flat
   * schema), when the client declared it can; undefined otherwise (fall back to a token or a second
   * call). The answer's content is the form's values when the action is "accept".
   */
  elicit?: Elicit;
  signal: AbortSignal;
  server: ServerName;
  tool: string;
  correlationId: string;
  hasScope(scope: Scope): boolean;
}

export interface ElicitSchema {
  type: "object";
  properties: Record<string, { type: "boolean" | "string" | "number" | "integer"; title?: string; description?: string; default?: unknown }>;
  required?: string[];
}
export type Elicit = (message: string, schema: ElicitSchema) => Promise<{ action: "accept" | "decline" | "cancel"; content?: Record<string, unknown> }>;

export type RateLimitClass = "call" | "send";

export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  scopes: readonly Scope[];
  annotations: ToolAnnotations;
  input: I;
  output: O;
  /** "send" tools also count against the send caps and fail closed without the limiter. */
  rateLimit?: RateLimitClass;
  /**
   * Write tools: how long their transaction (the write and its audit row) may run; default 120 s.
   * Bulk writes (a whole organization's predictions) set more.
   */
  transactionTimeoutMs?: number;
  /**
   * Write tools: "call" (default) runs the handler and its audit row in one transaction; "own" runs
   * the handler on the pooled client (it commits its own steps, e.g. a send's ledger claim before
   * the provider call, which no rollback could undo) and writes the audit row after it. Such a
   * tool must be safe to retry (an idempotency key): an audit row that cannot be written then
   * answers UNAVAILABLE though the work was done.
   */
  transaction?: "call" | "own";
  handler: (input: z.output<I>, ctx: ToolContext) => Promise<z.input<O>> | z.input<O>;
  /** A short text rendering for clients that ignore structured content. */
  render?: (output: z.output<O>) => string;
  /**
   * Content after the text, made from the validated output (never from anything else, so what it
   * shows is what the structured content says): e.g. a report's charts as PNG images.
   */
  attachments?: (output: z.output<O>) => Promise<ImageAttachment[]> | ImageAttachment[];
}

/** An MCP image content block: base64 data and its MIME type. */
export interface ImageAttachment {
  type: "image";
  data: string;
  mimeType: string;
}

// The list type erases each tool's own schema types; defineTool keeps them while writing one.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = ToolDefinition<any, any>;

/** Every tool is made here, so every tool's input is strict (unknown keys refused by name), at any depth. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return { ...def, input: strictInput(def.input) };
}

export function isWriteTool(tool: AnyTool): boolean {
  return !tool.annotations.readOnlyHint;
}
