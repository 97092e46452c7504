// A CallToolResult, from either path, turned into the caller's answer: the structured data, or a
// MarketSageToolError carrying the pipeline's code and message (the same over MCP and direct).
import type { ServerName } from "@marketsage/core";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { MarketSageToolError, type CallPath } from "./errors.ts";

interface ErrorMeta {
  error?: { code?: string } & Record<string, unknown>;
  correlation_id?: string;
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n").trim();
}

export function unwrapResult(server: ServerName, tool: string, result: CallToolResult, servedBy: CallPath): Record<string, unknown> {
  if (result.isError) {
    const meta = (result._meta ?? {}) as ErrorMeta;
    const text = textOf(result);
    const prefixed = /^([A-Z][A-Z_]+): ([\s\S]*)$/.exec(text);
    // Errors raised before the pipeline (e.g. the SDK's own input validation) carry no code.
    const code = meta.error?.code ?? prefixed?.[1] ?? "TOOL_ERROR";
    const message = prefixed && prefixed[1] === code ? prefixed[2]! : text;
    const { code: _c, ...details } = meta.error ?? {};
    throw new MarketSageToolError(code, message, server, tool, servedBy, meta.correlation_id, details);
  }
  if (!result.structuredContent) throw new Error(`${server}/${tool} answered without structured content`);
  // Direct results are the pipeline's objects; a JSON round trip makes them exactly what MCP carries.
  return servedBy === "direct" ? (JSON.parse(JSON.stringify(result.structuredContent)) as Record<string, unknown>) : result.structuredContent;
}
