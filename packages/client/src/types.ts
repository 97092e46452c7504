// The typed client's shape, derived from each server's tools object: one method per tool,
// input typed as z.input and data as z.output of that tool's own schemas (never a second copy).
import type { ServerName, ToolDefinition } from "@marketsage/core";
import type { z } from "zod";
import type { CallPath, FallbackReason } from "./errors.ts";
import type { CamelCase, CatalogEntries } from "@marketsage/catalog";

export type ClientMode = "auto" | "mcp" | "direct";

export interface ToolCallResult<T> {
  /** The tool's structured output (identical JSON whichever path served it). */
  data: T;
  servedBy: CallPath;
  /** Why the call went direct in auto mode (absent when MCP served it or mode is direct). */
  fallbackReason?: FallbackReason;
  fallbackDetail?: string;
  server: ServerName;
  tool: string;
  durationMs: number;
}

export interface CallOptions {
  /** Per-call timeout over MCP (default MCP_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type InputOf<T> = T extends ToolDefinition<infer I, any> ? z.input<I> : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OutputOf<T> = T extends ToolDefinition<any, infer O> ? z.output<O> : never;

/** Tools whose every argument is optional can be called with no argument. */
export type ToolMethod<T> = {} extends InputOf<T>
  ? (input?: InputOf<T>, opts?: CallOptions) => Promise<ToolCallResult<OutputOf<T>>>
  : (input: InputOf<T>, opts?: CallOptions) => Promise<ToolCallResult<OutputOf<T>>>;

export type ToolMethods<Tools> = { [K in keyof Tools]: ToolMethod<Tools[K]> };

type ToolsOf<N extends keyof CatalogEntries> = Awaited<ReturnType<CatalogEntries[N]["load"]>>["tools"];

/** One namespace per catalog server (customer-data → client.customerData), one method per tool. */
export type ServerNamespaces = { [N in keyof CatalogEntries & string as CamelCase<N>]: ToolMethods<ToolsOf<N>> };
