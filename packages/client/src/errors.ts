// What a caller of the typed client can catch. A tool error is the server's answer (the same
// code and message over MCP and direct); McpUnavailableError is the transport failing, which
// `auto` mode turns into a fallback and `mcp` mode throws.
import type { ServerName } from "@marketsage/core";

export type CallPath = "mcp" | "direct";

/** Why a call did not go (or stay) on MCP. */
export type FallbackReason =
  | "mcp_disabled"
  | "server_disabled"
  | "not_in_rollout"
  | "circuit_open"
  | "spawn_failed"
  | "server_exited"
  | "connect_failed"
  | "initialize_timeout"
  | "call_timeout"
  | "crashed"
  | "protocol_error";

export class MarketSageToolError extends Error {
  constructor(
    /** The pipeline's error code: INVALID_INPUT, NOT_FOUND, FORBIDDEN, UNAUTHENTICATED, RATE_LIMITED, READ_ONLY, … */
    public readonly code: string,
    message: string,
    public readonly server: ServerName,
    public readonly tool: string,
    public readonly servedBy: CallPath,
    public readonly correlationId: string | undefined,
    public readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = "MarketSageToolError";
  }
}

export class McpUnavailableError extends Error {
  constructor(
    public readonly server: ServerName,
    public readonly reason: FallbackReason,
    public readonly detail: string,
    /** True when the request may have reached the server (a timeout or crash mid-call). */
    public readonly mayHaveRun = false,
    /** core's EXIT name when the server process exited with one of its codes (DISABLED, AUTH, …). */
    public readonly exitMeaning?: string,
  ) {
    super(`${server} over MCP: ${reason}: ${detail}`);
    this.name = "McpUnavailableError";
  }
}

/** A write whose outcome is unknown: it may have run on the server, so it is not replayed directly. */
export class OutcomeUnknownError extends Error {
  constructor(
    public readonly server: ServerName,
    public readonly tool: string,
    public override readonly cause: McpUnavailableError,
  ) {
    super(`${tool} on ${server}: the outcome is unknown (${cause.reason}: ${cause.detail}); it was not retried because it changes data and is not idempotent.`);
    this.name = "OutcomeUnknownError";
  }
}
