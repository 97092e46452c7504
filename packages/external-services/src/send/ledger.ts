// The send ledger: a Message row claimed under the caller's idempotency key BEFORE the provider is
// called, then settled with the provider's outcome; the status history as message events.
//
// - Same key, same request (sha256 of its canonical form): the first result, never a second send —
//   also for two concurrent calls (one insert wins; the other reads the winner's row, in flight or
//   settled).
// - Same key, other content: IdempotencyConflict.
// - A transient failure (the provider said nothing was sent) may be retried with the same key: the
//   retry re-claims the row atomically (one retry at a time). Definite failures and
//   `outcome_unknown` are final for the key: an unknown outcome is resolved by the provider's
//   reports or polling, never by sending again.
// - Delivery reports that arrived before the settle (a fast provider beats our write of its message
//   id) were held by applyStatusReport; settleSend applies them to the row it settles. An unknown
//   outcome has no id: reports held for its provider and recipient since the claim that name one
//   id are adopted when the message is their only candidate (webhooks/status.ts, reconciliation).
import { createHash, randomUUID } from "node:crypto";
import { canonicalJson, type DbHandle } from "@marketsage/core";
import { poolOf } from "@marketsage/db";
import { pgTransactions, type TxRunner } from "../webhooks/pg-tx.ts";
import type { Channel, SendOutcome } from "../providers/types.ts";
import { adoptHeldReports, applyPendingReports, lockRecipientOf, lockReportsOf, recipientDigits, type UnknownOutcome } from "../webhooks/status.ts";

export class IdempotencyConflict extends Error {
  constructor(readonly key: string, readonly messageId: string) {
    super(`idempotency key "${key}" was already used for a different message (${messageId}): use a new key for new content`);
  }
}

export const requestHash = (request: unknown) => createHash("sha256").update(canonicalJson(request)).digest("hex");

export interface LedgerMessage {
  id: string;
  status: "QUEUED" | "SENT" | "DELIVERED" | "FAILED" | "OUTCOME_UNKNOWN" | "RECEIVED";
  provider: string | null;
  providerMessageId: string | null;
  errorCode: string | null;
  errorReason: string | null;
  cost: string | null;
  currency: string | null;
  segments: number;
  createdAt: Date;
  statusAt: Date | null;
}

export interface Claim {
  orgId: string;
  key: string;
  hash: string;
  channel: Channel;
  recipient: string;
  sender: string | null;
  contactId: string | null;
  body: string | null;
  provider: string;
  segments: number;
  sandbox: boolean;
  templateId: string | null;
  campaignId?: string | null;
  now: Date;
}

export type ClaimResult = { claimed: true; messageId: string } | { claimed: false; message: LedgerMessage; inFlight: boolean };

type Row = {
  id: string; status: LedgerMessage["status"]; provider: string | null; provider_message_id: string | null; error_code: string | null; error_reason: string | null;
  cost: string | null; currency: string | null; segments: number; created_at: Date; status_at: Date | null; request_hash: string | null;
};
const COLS = "id, status::text as status, provider, provider_message_id, error_code, error_reason, cost::text as cost, trim(currency) as currency, segments, created_at, status_at, request_hash";
const toMessage = (r: Row): LedgerMessage => ({
  id: r.id, status: r.status, provider: r.provider, providerMessageId: r.provider_message_id, errorCode: r.error_code, errorReason: r.error_reason,
  cost: r.cost, currency: r.currency, segments: r.segments, createdAt: r.created_at, statusAt: r.status_at,
});

/** Transient failures are marked so a retry with the same key may claim the row again. */
const RETRYABLE = "transient:";

export async function claimSend(db: DbHandle, c: Claim): Promise<ClaimResult> {
  const id = randomUUID();
  // The row and its QUEUED event in one statement (one commit on the pooled client).
  const inserted = await db.$queryRaw<Array<{ id: string }>>`
    with m as (
      insert into messages (id, organization_id, campaign_id, contact_id, channel, direction, recipient, sender, body, provider, idempotency_key,
                            segments, status, created_at, request_hash, template_id, status_at, sandbox)
      values (${id}::uuid, ${c.orgId}::uuid, ${c.campaignId ?? null}::uuid, ${c.contactId}::uuid, ${c.channel}::"Channel", 'OUTBOUND', ${c.recipient}, ${c.sender}, ${c.body},
              ${c.provider}, ${c.key}, ${c.segments}, 'QUEUED', ${c.now}, ${c.hash}, ${c.templateId}::uuid, ${c.now}, ${c.sandbox})
      on conflict (organization_id, idempotency_key) do nothing
      returning id, organization_id, campaign_id, variant_id, contact_id, channel),
    e as (
      insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
      select organization_id, id, campaign_id, variant_id, contact_id, channel, 'QUEUED', ${c.now}, ${JSON.stringify({ provider: c.provider })}::jsonb from m)
    select id from m`;
  if (inserted.length) return { claimed: true, messageId: id };
  const [r] = await db.$queryRawUnsafe<Row[]>(`select ${COLS} from messages where organization_id = $1::uuid and idempotency_key = $2`, c.orgId, c.key);
  if (!r) throw new Error("idempotency key row vanished"); // deleted between the insert and the read
  if (r.request_hash !== c.hash) throw new IdempotencyConflict(c.key, r.id);
  if (r.status === "FAILED" && r.error_code?.startsWith(RETRYABLE)) {
    const [again] = await db.$queryRaw<Array<{ id: string }>>`
      update messages set status = 'QUEUED', status_at = ${c.now}, error_code = null, error_reason = null, provider = ${c.provider}
       where id = ${r.id}::uuid and status = 'FAILED' and error_code = ${r.error_code} returning id`;
    if (again) {
      await event(db, c.orgId, r.id, "QUEUED", c.now, { provider: c.provider, retry: true });
      return { claimed: true, messageId: r.id };
    }
    const [now] = await db.$queryRawUnsafe<Row[]>(`select ${COLS} from messages where id = $1::uuid`, r.id);
    return { claimed: false, message: toMessage(now!), inFlight: now!.status === "QUEUED" && !now!.provider_message_id };
  }
  return { claimed: false, message: toMessage(r), inFlight: r.status === "QUEUED" && !r.provider_message_id };
}

/**
 * Records the provider's answer on the claimed row (and its event) and returns the row — after the
 * delivery reports that arrived before this answer (held by applyStatusReport) were applied to it.
 * One transaction: the caller's when `db` is one, else its own. See webhooks/status.ts for the
 * lock that keeps a report racing this settle from being lost.
 */
export async function settleSend(db: DbHandle, orgId: string, messageId: string, outcome: SendOutcome, now: Date): Promise<LedgerMessage> {
  // A Prisma.TransactionClient has no $transaction: then we are in the caller's transaction.
  const client = db as DbHandle & { $transaction?: <T>(fn: (tx: DbHandle) => Promise<T>) => Promise<T> };
  if (typeof client.$transaction === "function") {
    // On the pooled client: a pg transaction on its pool (no ORM interactive-transaction round trips).
    const pool = poolOf(db);
    const runner = pool ? pgTransactions(pool) : (client as TxRunner);
    return runner.$transaction((tx) => settleTx(tx, orgId, messageId, outcome, now));
  }
  return settleTx(db, orgId, messageId, outcome, now);
}

async function settleTx(db: DbHandle, orgId: string, messageId: string, outcome: SendOutcome, now: Date): Promise<LedgerMessage> {
  const set =
    outcome.kind === "accepted"
      ? { status: outcome.status === "sent" ? "SENT" : "QUEUED", pid: outcome.providerMessageId, code: null, reason: null, cost: outcome.cost?.amount ?? null, cur: outcome.cost?.currency ?? null }
      : outcome.kind === "unknown"
        ? { status: "OUTCOME_UNKNOWN", pid: null, code: "outcome_unknown", reason: outcome.reason, cost: null, cur: null }
        : { status: "FAILED", pid: null, code: outcome.kind === "transient" ? `${RETRYABLE}${outcome.code}` : outcome.code, reason: outcome.reason, cost: null, cur: null };
  // With a provider message id: take the per-(provider, id) report lock BEFORE the row is written
  // (a report takes it before it locks the row too: one lock order), so a report racing this
  // settle either commits its hold before our claim below, or waits and then sees our row.
  let provider: string | null = null;
  if (set.pid) {
    const [p] = await db.$queryRaw<Array<{ provider: string | null }>>`select provider from messages where id = ${messageId}::uuid and organization_id = ${orgId}::uuid`;
    if (!p) throw new Error(`message ${messageId} is not this organization's`);
    provider = p.provider;
    if (provider) await lockReportsOf(db, provider, set.pid);
  }
  // An unknown outcome: take the per-(provider, recipient) reconciliation lock BEFORE the row is
  // written (a report takes it first too), so a report for this number either committed its hold
  // before our look at the held reports below, or waits and then sees the row OUTCOME_UNKNOWN.
  let unknown: UnknownOutcome | null = null;
  if (outcome.kind === "unknown") {
    const [p] = await db.$queryRaw<Array<{ provider: string | null; recipient: string; created_at: Date; direction: string }>>`
      select provider, recipient, created_at, direction::text as direction from messages where id = ${messageId}::uuid and organization_id = ${orgId}::uuid`;
    if (!p) throw new Error(`message ${messageId} is not this organization's`);
    const digits = recipientDigits(p.recipient);
    if (p.provider && digits && p.direction === "OUTBOUND") {
      unknown = { id: messageId, provider: p.provider, recipient: p.recipient, createdAt: p.created_at };
      await lockRecipientOf(db, p.provider, digits);
    }
  }
  const [r] = await db.$queryRawUnsafe<Row[]>(
    `update messages set status = $3::"MessageStatus", provider_message_id = coalesce($4, provider_message_id), error_code = $5, error_reason = $6,
            cost = $7::numeric, currency = $8, status_at = $9
      where id = $1::uuid and organization_id = $2::uuid returning ${COLS}`,
    messageId, orgId, set.status, set.pid, set.code, set.reason, set.cost, set.cur, now,
  );
  if (!r) throw new Error(`message ${messageId} is not this organization's`);
  const type = outcome.kind === "accepted" ? (set.status === "SENT" ? "SENT" : null) : outcome.kind === "unknown" ? null : "FAILED";
  if (type) await event(db, orgId, messageId, type, now, outcome.kind === "accepted" ? { provider_message_id: outcome.providerMessageId } : { code: set.code, reason: set.reason });
  if (unknown) {
    // The row again only when it took a held report's id (and whatever those reports moved).
    if (!(await adoptHeldReports(db, unknown))) return toMessage(r);
    const [after] = await db.$queryRawUnsafe<Row[]>(`select ${COLS} from messages where id = $1::uuid`, messageId);
    return toMessage(after!);
  }
  if (!set.pid || !provider) return toMessage(r);
  const applied = await applyPendingReports(db, provider, set.pid);
  if (!applied.some((a) => a.found && !a.duplicate)) return toMessage(r);
  const [after] = await db.$queryRawUnsafe<Row[]>(`select ${COLS} from messages where id = $1::uuid`, messageId);
  return toMessage(after!);
}

async function event(db: DbHandle, orgId: string, messageId: string, type: "QUEUED" | "SENT" | "FAILED", at: Date, detail: Record<string, unknown>): Promise<void> {
  // Campaign, channel and contact are copied from the message (message_events keeps them so
  // analytics never join the messages).
  await db.$executeRaw`
    insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
    select organization_id, id, campaign_id, variant_id, contact_id, channel, ${type}::"MessageEventType", ${at}, ${JSON.stringify(detail)}::jsonb
      from messages where id = ${messageId}::uuid and organization_id = ${orgId}::uuid`;
}
