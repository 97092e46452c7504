// Verifying the audit log of an organization: every chain recomputed from its first row, its end
// compared with its head row, and every witness (another chain's record of this chain's head)
// checked against this chain's rows. Ready for a `verify_audit_log` tool.
//
// What each check catches: an edited row no longer matches its hash; a deleted or reordered row
// breaks the seq/prev_hash links; rows deleted from a chain's end no longer reach the head; rows
// deleted from the end together with a rewritten head fall below a seq another chain witnessed;
// a chain deleted entirely is still named by the witnesses of the others.
import type { AuditOutcome, Role } from "@marketsage/db";
import { auditPayload, chainHash, GENESIS_HASH, type WitnessedHead } from "./audit.ts";
import type { DbHandle } from "./tool.ts";

export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** The first row whose hash or link does not match, when not ok. */
  firstBadSeq: number | null;
  reason: string | null;
  lastHash: string | null;
}

export interface ChainVerification extends AuditVerification {
  chain: string;
  /** The runtime that wrote the chain (null for chains from before per-writer chains). */
  writer: string | null;
  /** What the head row says (null when the chain has none). */
  headSeq: number | null;
  /** The seq of the last row that verified. */
  lastSeq: number;
}

export interface AuditLogVerification {
  ok: boolean;
  organizationId: string | null;
  chains: ChainVerification[];
  rowsChecked: number;
  witnessesChecked: number;
  /** Chains that are not ok. */
  badChains: number;
}

interface AuditRow {
  seq: number;
  writer: string | null;
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
  witness: WitnessedHead[] | null;
  prev_hash: string;
  hash: string;
}

interface HeadRow {
  chain_key: string;
  writer: string | null;
  seq: number;
  hash: string;
}

/** A witness as found in a row: who recorded it, and where. */
interface Claim extends WitnessedHead {
  by: string;
  bySeq: number;
}

interface Walk {
  result: AuditVerification & { lastSeq: number };
  writer: string | null;
  claims: Claim[];
}

/** Recompute one chain from its first row; the witnesses its rows carry are collected on the way. */
async function walkChain(db: DbHandle, chainKey: string, batch: number): Promise<Walk> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  let writer: string | null = null;
  const claims: Claim[] = [];
  const done = (over: Partial<AuditVerification>): Walk => ({
    result: { ok: true, checked, firstBadSeq: null, reason: null, lastHash: checked ? prev : null, lastSeq: expectedSeq - 1, ...over },
    writer,
    claims,
  });
  for (;;) {
    const rows = await db.$queryRaw<AuditRow[]>`
      select seq, writer, organization_id::text, occurred_at, actor_user_id::text, api_key_id::text, role::text as role, server, tool, path,
             args_hash, args, outcome::text as outcome, error_code, duration_ms, result_bytes, correlation_id, witness, prev_hash, hash
        from audit_events where chain_key = ${chainKey} and seq >= ${expectedSeq} order by seq limit ${batch}`;
    for (const r of rows) {
      const bad = (reason: string, seq = r.seq) => done({ ok: false, firstBadSeq: seq, reason, lastHash: prev });
      if (r.seq !== expectedSeq) return bad(`row ${expectedSeq} is missing`, expectedSeq);
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
        writer: r.writer,
        witness: r.witness,
      });
      if (chainHash(prev, r.seq, payload) !== r.hash) return bad("row content does not match its hash");
      writer ??= r.writer;
      for (const w of r.witness ?? []) claims.push({ ...w, by: chainKey, bySeq: r.seq });
      prev = r.hash;
      expectedSeq++;
      checked++;
    }
    if (rows.length < batch) return done({});
  }
}

/** A chain's rows must end exactly at its head. */
function checkHead(chain: string, walk: Walk, head: HeadRow | undefined): AuditVerification & { lastSeq: number } {
  const r = walk.result;
  if (!r.ok) return r;
  const fail = (firstBadSeq: number | null, reason: string) => ({ ...r, ok: false, firstBadSeq, reason });
  if (!head) return r.checked ? fail(null, `chain ${chain} has rows but no head row`) : r;
  if (head.seq > r.lastSeq) {
    const range = head.seq === r.lastSeq + 1 ? `row ${head.seq} is` : `rows ${r.lastSeq + 1}–${head.seq} are`;
    return fail(r.lastSeq + 1, `${range} missing: the chain's head records seq ${head.seq}`);
  }
  if (head.seq < r.lastSeq) return fail(head.seq + 1, `rows after seq ${head.seq} are not recorded by the chain's head`);
  if (head.seq > 0 && head.hash !== r.lastHash) return fail(head.seq, "the newest row does not match the chain's head");
  return r;
}

/**
 * One chain by its key (e.g. an organization id for rows from before per-writer chains, or
 * "<org>/<writer>"), including its head; witnesses are checked by verifyAuditLog.
 */
export async function verifyAuditChain(db: DbHandle, chainKey: string, batch = 5000): Promise<AuditVerification> {
  const walk = await walkChain(db, chainKey, batch);
  const heads = await db.$queryRaw<HeadRow[]>`select chain_key, writer, seq, hash from audit_chain_heads where chain_key = ${chainKey}`;
  const { lastSeq: _lastSeq, ...result } = checkHead(chainKey, walk, heads[0]);
  return result;
}

/** Every chain of one organization (null: the calls refused before a key named one), and an overall verdict. */
export async function verifyAuditLog(db: DbHandle, organizationId: string | null, batch = 5000): Promise<AuditLogVerification> {
  const heads = await db.$queryRaw<HeadRow[]>`
    select chain_key, writer, seq, hash from audit_chain_heads
     where organization_id = ${organizationId}::uuid or (${organizationId}::uuid is null and organization_id is null)`;
  const withRows = await db.$queryRaw<Array<{ chain_key: string }>>`
    select distinct chain_key from audit_events
     where organization_id = ${organizationId}::uuid or (${organizationId}::uuid is null and organization_id is null)`;
  const headOf = new Map(heads.map((h) => [h.chain_key, h]));
  const keys = [...new Set([...heads.map((h) => h.chain_key), ...withRows.map((r) => r.chain_key)])].sort();

  const results = new Map<string, ChainVerification>();
  const claims: Claim[] = [];
  let rowsChecked = 0;
  for (const chain of keys) {
    const walk = await walkChain(db, chain, batch);
    const head = headOf.get(chain);
    results.set(chain, { chain, writer: head?.writer ?? walk.writer, headSeq: head?.seq ?? null, ...checkHead(chain, walk, head) });
    claims.push(...walk.claims);
    rowsChecked += walk.result.checked;
  }

  // Each witness: the witnessed chain has that row, with that hash.
  const witnessed = claims.length
    ? await db.$queryRaw<Array<{ chain_key: string; seq: number; hash: string }>>`
        select e.chain_key, e.seq, e.hash from audit_events e
          join unnest(${claims.map((c) => c.chain)}::text[], ${claims.map((c) => c.seq)}::int[]) as w(chain_key, seq)
            on e.chain_key = w.chain_key and e.seq = w.seq`
    : [];
  const hashAt = new Map(witnessed.map((w) => [`${w.chain_key}\n${w.seq}`, w.hash]));
  for (const c of [...claims].sort((a, b) => a.seq - b.seq)) {
    const r: ChainVerification = results.get(c.chain) ?? {
      chain: c.chain,
      writer: null,
      headSeq: null,
      ok: true,
      checked: 0,
      firstBadSeq: null,
      reason: null,
      lastHash: null,
      lastSeq: 0,
    };
    results.set(c.chain, r);
    if (!r.ok && r.firstBadSeq !== null && r.firstBadSeq <= c.seq) continue;
    const hash = hashAt.get(`${c.chain}\n${c.seq}`);
    if (hash === c.hash && c.seq <= r.lastSeq) continue;
    const what = hash === undefined || c.seq > r.lastSeq ? "is missing" : "differs";
    Object.assign(r, { ok: false, firstBadSeq: c.seq, reason: `row ${c.seq} ${what}: chain ${c.by} recorded this chain's head at seq ${c.seq} in its row ${c.bySeq}` });
  }

  const chains = [...results.values()].sort((a, b) => (a.chain < b.chain ? -1 : 1));
  const badChains = chains.filter((c) => !c.ok).length;
  return { ok: badChains === 0, organizationId, chains, rowsChecked, witnessesChecked: claims.length, badChains };
}
