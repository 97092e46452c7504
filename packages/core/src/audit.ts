// Audit rows: what is stored and hashed. Every call (allowed, denied, failed, rate-limited) is one
// row, hash-chained per organization and writer: hash = sha256(prev_hash + "\n" + seq + "\n" +
// canonical JSON of the row). Editing, deleting or reordering a row breaks the chain from that row
// on; each chain's head row and the witnesses in other chains anchor its end (audit-verify.ts).
// Appending is audit-writer.ts.
import { createHash } from "node:crypto";
import type { AuditOutcome, Role } from "@marketsage/db";
import { canonicalJson } from "./canonical-json.ts";

export const GENESIS_HASH = "0".repeat(64);

export interface AuditEntry {
  organizationId: string | null;
  occurredAt: Date;
  actorUserId: string | null;
  apiKeyId: string | null;
  role: Role | null;
  server: string;
  tool: string;
  path: "mcp" | "direct";
  argsHash: string;
  args: unknown;
  outcome: AuditOutcome;
  errorCode: string | null;
  durationMs: number;
  resultBytes: number;
  correlationId: string;
  /** The runtime instance that appends the row; absent on rows from before per-writer chains. */
  writer?: string | null;
  /** Heads of the organization's other chains, recorded by the first row of a batch. */
  witness?: readonly WitnessedHead[] | null;
}

/** "Chain X had reached seq N with hash H": recorded by another chain, checked on verify. */
export interface WitnessedHead {
  chain: string;
  seq: number;
  hash: string;
}

/** The chain rows of this organization from this writer go to. */
export function chainKeyFor(organizationId: string | null, writer: string): string {
  return `${organizationId ?? "none"}/${writer}`;
}

/** The chain key rows had before per-writer chains (still verified as a chain of their own). */
export function legacyChainKeyFor(organizationId: string | null): string {
  return organizationId ?? "";
}

/** The exact text that is hashed: the same function runs on write and on verify. */
/** A row's own fields, snake_case as stored: hashed (auditPayload) and inserted (the writer) alike. */
export function auditFields(e: AuditEntry) {
  return {
    organization_id: e.organizationId,
    occurred_at: e.occurredAt.toISOString(),
    actor_user_id: e.actorUserId,
    api_key_id: e.apiKeyId,
    role: e.role,
    server: e.server,
    tool: e.tool,
    path: e.path,
    args_hash: e.argsHash,
    args: e.args,
    outcome: e.outcome,
    error_code: e.errorCode,
    duration_ms: e.durationMs,
    result_bytes: e.resultBytes,
    correlation_id: e.correlationId,
  };
}

export function auditPayload(e: AuditEntry): string {
  return canonicalJson({
    ...auditFields(e),
    // Only on rows that carry them, so rows from before per-writer chains hash as they did.
    writer: e.writer ?? undefined,
    witness: e.witness ?? undefined,
  });
}

export function chainHash(prevHash: string, seq: number, payload: string): string {
  return createHash("sha256").update(`${prevHash}\n${seq}\n${payload}`, "utf8").digest("hex");
}

export function hashArgs(args: unknown): string {
  return createHash("sha256").update(canonicalJson(args ?? {}), "utf8").digest("hex");
}

const SECRET_KEY = /(^|_)(api_?key|key|secret|token|password|authorization)$/i;
const PII_KEY = /^(email|phone|recipient|to|from|body|text|message|content|first_name|last_name|name|query)$/i;

/**
 * Text PostgreSQL stores as given: NUL is refused in text and jsonb, and so is a lone surrogate in
 * jsonb. A caller's argument must never make its row (or its whole batch) unwritable.
 */
export function storableText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u0000/g, "\uFFFD").replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** Arguments as stored in the audit row: secrets and personal data replaced, shape kept. */
export function redactArgs(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[…]";
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactArgs(v, depth + 1));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEY.test(k)) out[k] = "[secret]";
      else if (PII_KEY.test(k) && (typeof v === "string" || typeof v === "number")) out[k] = "[pii]";
      else out[k] = redactArgs(v, depth + 1);
    }
    return out;
  }
  if (typeof value === "string" && value.length > 200) return `${value.slice(0, 200)}…`;
  return value;
}

/** A JSON value jsonb accepts: storable text in keys and strings, no NaN, Infinity or bigint. */
function storableJson(value: unknown): unknown {
  if (typeof value === "string") return storableText(value);
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(storableJson);
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[storableText(k)] = storableJson(v);
    return out;
  }
  return value;
}

/**
 * The entry exactly as PostgreSQL will give it back (ms timestamps, microsecond durations, JSON
 * args, storable text), so the hash computed on write is the hash recomputed on verify.
 */
export function normaliseEntry(e: AuditEntry): AuditEntry {
  return {
    ...e,
    occurredAt: new Date(Math.floor(e.occurredAt.getTime())),
    tool: storableText(e.tool),
    errorCode: e.errorCode === null ? null : storableText(e.errorCode),
    durationMs: Number.isFinite(e.durationMs) ? Math.round(e.durationMs * 1000) / 1000 : 0,
    resultBytes: Math.min(Math.max(0, Math.round(e.resultBytes)), 2_147_483_647),
    args: JSON.parse(JSON.stringify(storableJson(e.args ?? {})) ?? "{}"),
  };
}
