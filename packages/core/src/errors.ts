// Typed errors a handler may throw. The pipeline maps them to `isError` results once; anything
// else becomes a generic message with a correlation id (detail goes to the log and audit row).

export type ErrorCode =
  | "INVALID_INPUT"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "UNAUTHENTICATED"
  | "RATE_LIMITED"
  | "READ_ONLY"
  | "CONFLICT"
  | "UNAVAILABLE"
  | "TIMEOUT"
  | "OUTCOME_UNKNOWN"
  | "UPSTREAM_REJECTED"
  | "INTERNAL";

export class ToolError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Something the caller can fix: the message says how. */
export class UserError extends ToolError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("INVALID_INPUT", message, details);
  }
}

export class NotFoundError extends ToolError {
  constructor(what: string, details?: Record<string, unknown>) {
    super("NOT_FOUND", `${what} was not found in this organization.`, details);
  }
}

export class ForbiddenError extends ToolError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("FORBIDDEN", message, details);
  }
}

export class AuthError extends ToolError {
  constructor(
    public readonly reason: "missing" | "unknown" | "expired" | "revoked",
    message: string,
  ) {
    super("UNAUTHENTICATED", message, { reason });
  }
}

export class RateLimitedError extends ToolError {
  constructor(
    public readonly retryAfterSeconds: number,
    what: string,
  ) {
    super("RATE_LIMITED", `Rate limit reached for ${what}. Retry after ${retryAfterSeconds} s.`, { retry_after_seconds: retryAfterSeconds });
  }
}

export class ReadOnlyError extends ToolError {
  constructor(tool: string) {
    super("READ_ONLY", `${tool} changes data and this deployment is read-only (MCP_READ_ONLY=true).`);
  }
}

export class ConflictError extends ToolError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, details);
  }
}

export class UnavailableError extends ToolError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("UNAVAILABLE", message, details);
  }
}

/** The work did not finish in its time limit and was abandoned (nothing was changed). */
export class TimeoutError extends ToolError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("TIMEOUT", message, details);
  }
}

/**
 * A change may or may not have happened (e.g. a provider timed out after receiving a send): the
 * caller must check before retrying, or risk doing it twice.
 */
export class OutcomeUnknownError extends ToolError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("OUTCOME_UNKNOWN", message, details);
  }
}

/** A provider definitely refused the request: nothing happened, and the same request will fail again. */
export class UpstreamRejectedError extends ToolError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("UPSTREAM_REJECTED", message, details);
  }
}
