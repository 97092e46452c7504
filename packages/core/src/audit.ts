// Audit: every call (allowed, denied, failed, rate-limited) is one row, hash-chained per
// organization: hash = sha256(prev_hash + "\n" + seq + "\n" + canonical JSON of the row).
// Editing, deleting or reordering a row breaks the chain from that row on; verifyAuditChain finds it.
import { createHash } from "node:crypto";
import type { AuditOutcome, Role } from "@marketsage/db";
import { canonicalJson } from "./canonical-json.ts";
import type { DbHandle } from "./tool.ts";

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
}

export function chainKeyFor(organizationId: string | null): string {
  return organizationId ?? "";
}

/** The exact text that is hashed: the same function runs on write and on verify. */
export function auditPayload(e: AuditEntry): string {
  return canonicalJson({
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

/** Stable round-tripping through PostgreSQL: ms timestamps, microsecond durations. */
function normalise(e: AuditEntry): AuditEntry {
  return {
    ...e,
    occurredAt: new Date(Math.floor(e.occurredAt.getTime())),
    durationMs: Math.round(e.durationMs * 1000) / 1000,
    args: JSON.parse(JSON.stringify(e.args ?? {})),
  };
}

/**
 * Append one row. Inside a caller's transaction (`locked`), an advisory lock on the chain
 * serialises writers and the row commits with the caller's writes. Otherwise the insert is a
 * single statement and retries when another process took the same sequence number.
 */
export async function appendAudit(db: DbHandle, entry: AuditEntry, opts: { inTransaction: boolean }): Promise<{ seq: number; hash: string }> {
  const e = normalise(entry);
  const chainKey = chainKeyFor(e.organizationId);
  const payload = auditPayload(e);
  if (opts.inTransaction) await db.$executeRaw`select pg_advisory_xact_lock(hashtextextended(${chainKey}, 7))`;
  for (let attempt = 0; ; attempt++) {
    const last = await db.$queryRaw<Array<{ seq: number; hash: string }>>`
      select seq, hash from audit_events where chain_key = ${chainKey} order by seq desc limit 1`;
    const seq = (last[0]?.seq ?? 0) + 1;
    const hash = chainHash(last[0]?.hash ?? GENESIS_HASH, seq, payload);
    try {
      await db.$executeRaw`
        insert into audit_events (chain_key, seq, organization_id, occurred_at, actor_user_id, api_key_id, role, server, tool, path,
                                  args_hash, args, outcome, error_code, duration_ms, result_bytes, correlation_id, prev_hash, hash)
        values (${chainKey}, ${seq}, ${e.organizationId}::uuid, ${e.occurredAt}, ${e.actorUserId}::uuid, ${e.apiKeyId}::uuid,
                ${e.role}::"Role", ${e.server}, ${e.tool}, ${e.path}, ${e.argsHash}, ${JSON.stringify(e.args)}::jsonb,
                ${e.outcome}::"AuditOutcome", ${e.errorCode}, ${e.durationMs}, ${e.resultBytes}, ${e.correlationId},
                ${last[0]?.hash ?? GENESIS_HASH}, ${hash})`;
      return { seq, hash };
    } catch (err) {
      const unique = /audit_events_chain_key_seq_key|unique/i.test(String((err as Error).message));
      if (opts.inTransaction || !unique || attempt >= 20) throw err;
    }
  }
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** The first row whose hash or link does not match, when not ok. */
  firstBadSeq: number | null;
  reason: string | null;
  lastHash: string | null;
}

interface AuditRow {
  seq: number;
  organization_id: string | null;
  occurred_at: Date;
  actor_user_id: string | null;
  api_key_id: string | null;
  role: Role | null;
  server: string;
  tool: string;
  path: "mcp" | "direct";
  args_hash: string;
  args: unknown;
  outcome: AuditOutcome;
  error_code: string | null;
  duration_ms: number;
  result_bytes: number;
  correlation_id: string;
  prev_hash: string;
  hash: string;
}

/** Recompute the chain of one organization from its first row. */
export async function verifyAuditChain(db: DbHandle, organizationId: string | null, batch = 5000): Promise<AuditVerification> {
  const chainKey = chainKeyFor(organizationId);
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for (;;) {
    const rows = await db.$queryRaw<AuditRow[]>`
      select seq, organization_id::text, occurred_at, actor_user_id::text, api_key_id::text, role::text as role, server, tool, path,
             args_hash, args, outcome::text as outcome, error_code, duration_ms, result_bytes, correlation_id, prev_hash, hash
        from audit_events where chain_key = ${chainKey} and seq >= ${expectedSeq} order by seq limit ${batch}`;
    for (const r of rows) {
      const bad = (reason: string): AuditVerification => ({ ok: false, checked, firstBadSeq: r.seq, reason, lastHash: prev });
      if (r.seq !== expectedSeq) return { ...bad(`row ${expectedSeq} is missing`), firstBadSeq: expectedSeq };
      if (r.prev_hash !== prev) return bad("prev_hash does not match the previous row");
      const payload = auditPayload({
        organizationId: r.organization_id,
        occurredAt: r.occurred_at,
        actorUserId: r.actor_user_id,
        apiKeyId: r.api_key_id,
        role: r.role,
        server: r.server,
        tool: r.tool,
        path: r.path,
        argsHash: r.args_hash,
        args: r.args,
        outcome: r.outcome,
        errorCode: r.error_code,
        durationMs: r.duration_ms,
        resultBytes: r.result_bytes,
        correlationId: r.correlation_id,
      });
      if (chainHash(prev, r.seq, payload) !== r.hash) return bad("row content does not match its hash");
      prev = r.hash;
      expectedSeq++;
      checked++;
    }
    if (rows.length < batch) return { ok: true, checked, firstBadSeq: null, reason: null, lastHash: checked ? prev : null };
  }
}
