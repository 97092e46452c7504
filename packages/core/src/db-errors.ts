// Database failures a caller can act on, recognised in one place. A database that cannot be
// reached (stopped, restarting, refusing or dropping connections) answers UNAVAILABLE, retryable;
// a statement cut off by statement_timeout or lock_timeout answers TIMEOUT. Prisma, its pg
// adapter and pg each wrap these differently (measured: a raw query when the server is down is
// Prisma P2010 carrying the adapter's DriverAdapterError {kind: "DatabaseNotReachable"}; a model
// query is P1001; a lock wait past statement_timeout is a bare DriverAdapterError with SQLSTATE
// 57014; a transaction whose connection died is pg's plain "not queryable" Error), so every layer
// is looked through.
import { TimeoutError, UnavailableError, type ToolError } from "./errors.ts";

export type DatabaseFailureKind = "unavailable" | "busy" | "statement_timeout" | "transaction_timeout";

export interface DatabaseFailure {
  kind: DatabaseFailureKind;
  /** What recognised it (a code or kind), for the log. */
  reason: string;
}

/** Node socket errors: the server is not there (or went away). */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ECONNABORTED"]);

/** Prisma's codes: P1001 cannot reach, P1002 reached but timed out, P1017 server closed the connection. */
const PRISMA_UNAVAILABLE = new Set(["P1001", "P1002", "P1017"]);

/** The pg adapter's DriverAdapterError kinds for a missing or lost connection. */
const ADAPTER_UNAVAILABLE = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);

/**
 * SQLSTATEs: class 08 (connection exception, e.g. 08006 connection failure), 57P01 admin
 * shutdown (a fast stop), 57P02 crash shutdown, 57P03 cannot connect now (starting up).
 */
function sqlstateKind(code: string, message: string): DatabaseFailureKind | undefined {
  if (code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03") return "unavailable";
  if (code === "53300") return "busy"; // too many connections
  if (code === "57014" && /statement timeout/i.test(message)) return "statement_timeout";
  if (code === "55P03" && /lock timeout/i.test(message)) return "statement_timeout";
  return undefined;
}

/** pg and pg-pool raise plain Errors for a lost connection; only their words tell. */
const MESSAGE_KINDS: ReadonlyArray<[RegExp, DatabaseFailureKind, string]> = [
  [/Connection terminated|not queryable|Can't reach database server|Server has closed the connection/i, "unavailable", "connection lost"],
  [/timeout exceeded when trying to connect/i, "busy", "pool wait"],
  [/Unable to start a transaction in the given time/i, "busy", "transaction start wait"],
  [/canceling statement due to (statement|lock) timeout/i, "statement_timeout", "statement timeout"],
  [/expired transaction|Transaction already closed/i, "transaction_timeout", "transaction expired"],
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null;

/** The error and what it wraps: cause chains, Prisma's meta.driverAdapterError, AggregateError's errors. */
function layers(err: unknown): Obj[] {
  const out: Obj[] = [];
  const queue: unknown[] = [err];
  while (queue.length && out.length < 12) {
    const e = queue.shift();
    if (!isObj(e) || out.includes(e)) continue;
    out.push(e);
    queue.push(e.cause);
    if (isObj(e.meta)) queue.push(e.meta.driverAdapterError);
    if (Array.isArray(e.errors)) queue.push(...e.errors);
  }
  return out;
}

function classifyLayer(e: Obj): (DatabaseFailure & { byMessage?: true }) | undefined {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const code = str(e.code) ?? str(e.errorCode) ?? str(e.originalCode);
  const message = str(e.message) ?? str(e.originalMessage) ?? "";
  if (code && PRISMA_UNAVAILABLE.has(code)) return { kind: "unavailable", reason: code };
  if (code && SOCKET_CODES.has(code)) return { kind: "unavailable", reason: code };
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const kind = sqlstateKind(code, message);
    if (kind) return { kind, reason: code };
  }
  const kind = str(e.kind);
  if (kind && ADAPTER_UNAVAILABLE.has(kind)) return { kind: "unavailable", reason: kind };
  if (kind === "TooManyConnections") return { kind: "busy", reason: kind };
  for (const [re, k, reason] of MESSAGE_KINDS) if (re.test(message)) return { kind: k, reason, byMessage: true };
  return undefined;
}

/** Whether err is the database being unreachable, busy or too slow; undefined for anything else. */
export function classifyDatabaseError(err: unknown): DatabaseFailure | undefined {
  // A timeout anywhere in the chain wins (a statement cut off also closes what wraps it); then a
  // code beats words; then the outermost layer.
  const rank = (f: DatabaseFailure & { byMessage?: true }) => (f.kind.endsWith("timeout") ? 0 : 2) + (f.byMessage ? 1 : 0);
  const found = layers(err)
    .map(classifyLayer)
    .filter((f) => f !== undefined)
    .sort((a, b) => rank(a) - rank(b));
  return found[0] && { kind: found[0].kind, reason: found[0].reason };
}

export const DATABASE_UNAVAILABLE_MESSAGE = "the database is not reachable; retry in a few seconds";

export interface DatabaseLimits {
  /** The statement time limit that applied to the call (MCP_STATEMENT_TIMEOUT_MS, or the tool's longer one). */
  statementTimeoutMs?: number;
  /** A write tool's transaction time limit. */
  transactionTimeoutMs?: number;
}

/** The typed error a caller gets for a database failure, or undefined when err is not one. */
export function databaseToolError(err: unknown, limits: DatabaseLimits): ToolError | undefined {
  const f = classifyDatabaseError(err);
  if (!f) return undefined;
  switch (f.kind) {
    case "unavailable":
      return new UnavailableError(DATABASE_UNAVAILABLE_MESSAGE, { retryable: true });
    case "busy":
      return new UnavailableError("the database is too busy to take this call; retry in a few seconds", { retryable: true });
    case "statement_timeout":
      return new TimeoutError(
        `the database did not finish ${limits.statementTimeoutMs ? `within ${limits.statementTimeoutMs} ms` : "in time"}, so the call was stopped and nothing was changed; narrow the request (a shorter range, fewer items) or retry later`,
        limits.statementTimeoutMs ? { limit_ms: limits.statementTimeoutMs } : undefined,
      );
    case "transaction_timeout":
      return new TimeoutError(
        `the call did not finish within its time limit${limits.transactionTimeoutMs ? ` of ${limits.transactionTimeoutMs} ms` : ""} and was rolled back; nothing was changed`,
        limits.transactionTimeoutMs ? { limit_ms: limits.transactionTimeoutMs } : undefined,
      );
  }
}
