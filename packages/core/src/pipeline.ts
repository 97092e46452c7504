// The one seam every call passes through, over MCP or directly in-process:
// authentication → read-only/allow-list → scope → input → rate limit → handler → output → audit → error mapping.
import { randomUUID } from "node:crypto";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { hashArgs, redactArgs, type AuditEntry } from "./audit.ts";
import { auditWriterFor } from "./audit-writer.ts";
import { authenticate, type Principal } from "./auth.ts";
import type { ServerName } from "./config.ts";
import { databaseToolError, type DatabaseLimits } from "./db-errors.ts";
import { AuthError, ForbiddenError, NotFoundError, ReadOnlyError, ToolError, UnavailableError, UserError } from "./errors.ts";
import { renderText } from "./budget.ts";
import type { Runtime } from "./runtime.ts";
import { hasScopes } from "./scopes.ts";
import { isWriteTool, type AnyTool, type DbHandle, type Elicit, type ToolContext } from "./tool.ts";
import { UpstreamError } from "./upstream-errors.ts";

export type CallPath = "mcp" | "direct";

export interface CallOptions {
  path: CallPath;
  /** The MCP SDK has not validated these arguments (true for every call we route). */
  signal?: AbortSignal;
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
  /** Ask the person through the client (MCP elicitation); absent when the client cannot. */
  elicit?: Elicit;
}

export interface CallOutcome {
  result: CallToolResult;
  principal?: Principal;
  correlationId: string;
}

export interface Invoker {
  server: ServerName;
  /** Tools this invoker knows (after flags); a call to any other name is refused as unknown. */
  tools: ReadonlyMap<string, AnyTool>;
  call(name: string, args: unknown, opts: CallOptions): Promise<CallOutcome>;
  /** The principal for the configured key, for listing (scopes decide what is listed). */
  principal(): Promise<Principal>;
}

/** A write tool's transaction limit when it sets none. */
const DEFAULT_TRANSACTION_TIMEOUT_MS = 120_000;

/**
 * The statement limit a call runs under: the deployment's (MCP_STATEMENT_TIMEOUT_MS, on every
 * connection), or a write tool's longer transaction limit (bulk writes like refresh_predictions
 * legitimately run for minutes), set for its transaction alone.
 */
function statementLimitFor(tool: AnyTool | undefined, base: number): number {
  const tx = tool && isWriteTool(tool) ? tool.transactionTimeoutMs : undefined;
  return base > 0 && tx !== undefined && tx > base ? tx : base;
}

/**
 * Failures the caller can act on, typed: our own errors as thrown; a provider's (UpstreamError)
 * by its outcome; the database unreachable (UNAVAILABLE) or too slow (TIMEOUT). Undefined:
 * unexpected, answered INTERNAL with a correlation id.
 */
function typedError(err: unknown, limits: DatabaseLimits): ToolError | undefined {
  if (err instanceof ToolError) return err;
  if (err instanceof UpstreamError) return err.toToolError();
  return databaseToolError(err, limits);
}

/** What the caller sees for an error: typed errors speak for themselves; others get a correlation id. */
function errorResult(err: unknown, correlationId: string): { result: CallToolResult; code: string } {
  if (err instanceof ToolError) {
    return {
      code: err.code,
      result: {
        isError: true,
        content: [{ type: "text", text: `${err.code}: ${err.message}` }],
        _meta: { error: { code: err.code, ...(err.details ?? {}) }, correlation_id: correlationId },
      },
    };
  }
  return {
    code: "INTERNAL",
    result: {
      isError: true,
      content: [{ type: "text", text: `INTERNAL: Something went wrong on our side. Reference: ${correlationId}.` }],
      _meta: { error: { code: "INTERNAL" }, correlation_id: correlationId },
    },
  };
}

/**
 * Zod issues as one line a model can act on: unknown keys first (their messages, from strictInput,
 * list the accepted keys), each issue prefixed by where it is (a.b[0].c); top-level ones bare.
 */
function formatIssues(issues: ReadonlyArray<{ code?: string; path: PropertyKey[]; message: string }>): string {
  const where = (path: PropertyKey[]) => path.map((p, i) => (typeof p === "number" ? `[${p}]` : i ? `.${String(p)}` : String(p))).join("");
  const ordered = [...issues.filter((i) => i.code === "unrecognized_keys"), ...issues.filter((i) => i.code !== "unrecognized_keys")];
  const shown = ordered.slice(0, 8).map((i) => (i.path.length ? `${where(i.path)}: ${i.message}` : i.message));
  return shown.join("; ") + (issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : "");
}

export interface InvokerOptions {
  server: ServerName;
  tools: readonly AnyTool[];
  runtime: Runtime;
  /** The API key of this caller (stdio: MARKETSAGE_API_KEY; direct: the app's key). */
  apiKey: string | undefined;
}

/** Tools that survive the deployment's flags (read-only, allow-list), decided once. */
export function toolsAfterFlags(tools: readonly AnyTool[], flags: Runtime["flags"]): AnyTool[] {
  return tools.filter((t) => (!flags.readOnly || !isWriteTool(t)) && (!flags.tools || flags.tools.has(t.name)));
}

export function createInvoker(opts: InvokerOptions): Invoker {
  const { runtime, server } = opts;
  const all = new Map(opts.tools.map((t) => [t.name, t]));
  const enabled = new Map(toolsAfterFlags(opts.tools, runtime.flags).map((t) => [t.name, t]));

  // Every answered call has exactly one audit row: the caller is answered only once its row has
  // committed (with the call's writes, for a write tool: `tx`). A row that cannot be written makes
  // the answer UNAVAILABLE, never a success without a record.
  const auditWriter = auditWriterFor(runtime);
  async function audit(entry: AuditEntry, tx?: DbHandle, ownTransaction = false): Promise<void> {
    try {
      if (tx) await auditWriter.appendInTransaction(tx, entry);
      else await auditWriter.append(entry);
    } catch (err) {
      runtime.log.error({ err, tool: entry.tool, correlationId: entry.correlationId }, "audit write failed; the call is answered UNAVAILABLE");
      throw new UnavailableError(
        ownTransaction
          ? "the audit log cannot be written, so the result is withheld; the work may have been done: retry in a few seconds with the same idempotency key, which answers the first result and never repeats it."
          : "the audit log cannot be written, so the result is withheld and any change was rolled back; retry in a few seconds.",
        { reason: "audit_log" },
      );
    }
  }

  async function call(name: string, args: unknown, copts: CallOptions): Promise<CallOutcome> {
    const correlationId = randomUUID();
    const started = performance.now();
    const occurredAt = runtime.now();
    const safeArgs = redactArgs(args ?? {});
    const argsHash = hashArgs(args ?? {});
    let principal: Principal | undefined;
    const entry = (outcome: AuditEntry["outcome"], errorCode: string | null, resultBytes: number): AuditEntry => ({
      organizationId: principal?.org.id ?? null,
      occurredAt,
      actorUserId: principal?.userId ?? null,
      apiKeyId: principal?.apiKeyId ?? null,
      role: principal?.role ?? null,
      server,
      tool: name,
      path: copts.path,
      argsHash,
      args: safeArgs,
      outcome,
      errorCode,
      durationMs: performance.now() - started,
      resultBytes,
      correlationId,
    });

    try {
      principal = await authenticate(runtime.db, opts.apiKey, runtime.now());
      const tool = all.get(name);
      if (!tool) throw new NotFoundError(`Tool ${name}`);
      if (runtime.flags.readOnly && isWriteTool(tool)) throw new ReadOnlyError(name);
      if (!enabled.has(name)) throw new ForbiddenError(`${name} is not enabled in this deployment (MCP_TOOLS allow-list).`);
      if (!hasScopes(principal.scopes, tool.scopes)) {
        throw new ForbiddenError(`Your role (${principal.role}) may not use ${name}: it needs ${tool.scopes.join(", ")}.`);
      }
      const parsed = tool.input.safeParse(args ?? {});
      if (!parsed.success) throw new UserError(`Invalid arguments for ${name}: ${formatIssues(parsed.error.issues)}`);
      await runtime.limiter.consume(principal, server, tool.rateLimit ?? "call");

      const p = principal;
      const ctxFor = (db: DbHandle): ToolContext => ({
        principal: p,
        org: p.org,
        db,
        log: runtime.log.child({ tool: name, correlationId }),
        now: runtime.now,
        progress: copts.progress ?? (async () => undefined),
        ...(copts.elicit ? { elicit: copts.elicit } : {}),
        signal: copts.signal ?? new AbortController().signal,
        server,
        tool: name,
        correlationId,
        hasScope: (s) => p.scopes.has(s),
      });
      const finish = async (raw: unknown) => {
        const out = tool.output.safeParse(raw);
        if (!out.success) {
          runtime.log.error({ tool: name, correlationId, issues: out.error.issues.slice(0, 5) }, "tool output does not match its schema");
          throw new Error(`output of ${name} does not match its schema`);
        }
        const structured = out.data as Record<string, unknown>;
        const text = renderText(tool.render ? tool.render(structured) : JSON.stringify(structured));
        const extra = tool.attachments ? await tool.attachments(structured) : [];
        const result: CallToolResult = { content: [{ type: "text", text }, ...extra], structuredContent: structured };
        return { result, bytes: Buffer.byteLength(JSON.stringify(structured)) };
      };

      let done: { result: CallToolResult; bytes: number };
      if (isWriteTool(tool) && tool.transaction === "own") {
        // The handler commits its own steps; its audit row follows. If that row cannot be written
        // the work is done but unrecorded here: the caller hears UNAVAILABLE and retries with the
        // same idempotency key, which answers the first result (and writes its audit row).
        done = await finish(await tool.handler(parsed.data, { ...ctxFor(runtime.db), client: runtime.db }));
        await audit(entry("ALLOWED", null, done.bytes), undefined, true);
      } else if (isWriteTool(tool)) {
        const statementLimit = statementLimitFor(tool, runtime.statementTimeoutMs);
        // The write and its audit row commit together, or neither does.
        done = await runtime.db.$transaction(
          async (tx) => {
            if (statementLimit !== runtime.statementTimeoutMs) await tx.$executeRawUnsafe(`set local statement_timeout = ${Math.trunc(statementLimit)}`);
            const d = await finish(await tool.handler(parsed.data, ctxFor(tx)));
            await audit(entry("ALLOWED", null, d.bytes), tx);
            return d;
          },
          { timeout: tool.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS, maxWait: 10_000 },
        );
      } else {
        done = await finish(await tool.handler(parsed.data, { ...ctxFor(runtime.db), client: runtime.db }));
        await audit(entry("ALLOWED", null, done.bytes));
      }
      return { result: done.result, principal, correlationId };
    } catch (err) {
      const tool = all.get(name);
      const writes = tool !== undefined && isWriteTool(tool) && tool.transaction !== "own";
      const typed = typedError(err, {
        statementTimeoutMs: statementLimitFor(tool, runtime.statementTimeoutMs),
        transactionTimeoutMs: writes ? (tool.transactionTimeoutMs ?? DEFAULT_TRANSACTION_TIMEOUT_MS) : undefined,
      });
      const { result, code } = errorResult(typed ?? err, correlationId);
      const outcome =
        code === "RATE_LIMITED" ? "RATE_LIMITED" : code === "FORBIDDEN" || code === "UNAUTHENTICATED" || code === "READ_ONLY" ? "DENIED" : "FAILED";
      if (!typed) runtime.log.error({ err, tool: name, correlationId }, "tool failed");
      // A database or provider failure: the caller gets the typed answer, the log gets the detail.
      else if (!(err instanceof ToolError)) runtime.log.warn({ err, tool: name, correlationId, code }, `call failed: ${typed.message}`);
      else if (err instanceof AuthError) runtime.log.warn({ tool: name, reason: err.reason, correlationId }, "call refused: authentication");
      try {
        await audit(entry(outcome, code, 0));
      } catch (auditErr) {
        // With the database down the audit row cannot be written either; the database's answer
        // (retry in a few seconds) is the one that tells the caller what happened.
        if (code === "UNAVAILABLE" && !(err instanceof ToolError) && !(err instanceof UpstreamError)) return { result, principal, correlationId };
        return { result: errorResult(auditErr, correlationId).result, principal, correlationId };
      }
      return { result, principal, correlationId };
    }
  }

  return {
    server,
    tools: enabled,
    call,
    principal: () => authenticate(runtime.db, opts.apiKey, runtime.now()),
  };
}
