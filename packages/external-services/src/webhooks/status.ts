// Delivery reports from any provider, applied to the message they name (by the provider's message
// id: the report chooses no organization). Each report is recorded once (a provider's retry of the
// same report is a duplicate) and moves the message forward only:
//   QUEUED / OUTCOME_UNKNOWN → SENT → DELIVERED | FAILED   (DELIVERED and FAILED are final)
// A late "sent" after "delivered" is kept in the history (an event marked `late`) and changes
// nothing; "read" (WhatsApp) is an OPENED event and implies delivered. One transaction with the
// message row locked, so concurrent reports of one message are applied one at a time.
//
// Early reports: a fast provider can report before settleSend has written the provider message id
// (the emulators report 5 ms after accepting). A report that names no message is held in
// pending_status_reports (once per report key: a provider's retry is stored once) and settleSend
// applies it, through the same lookup and rules as a live report (applyPendingReports), when it
// writes that id. Held reports expire after PENDING_REPORT_TTL_MINUTES unapplied (a report for a
// message that is not ours, or whose send never settled with that id). Only verified reports reach
// this module (receive.ts checks signatures / the callback token first); an Africa's Talking report
// (unsigned provider) is held too, and its recipient check applies when it is replayed.
//
// The race with settleSend, under READ COMMITTED. settleSend writes the id and claims the held
// reports in one transaction, which may be the caller's (uncommitted for a while). A report's
// lookup does not see that uncommitted id, so it would hold the report; if settleSend's claim ran
// before the hold committed, the report would be lost. A second lookup after the hold does not
// close it: the settling transaction may still be uncommitted then. So both sides take one
// transaction-level advisory lock per (provider, provider message id), lockReportsOf:
//   - applyStatusReport: lock → lookup → apply, or hold → commit (the lock is released at commit);
//   - settleSend: lock → write the id → claim the held reports (DELETE … RETURNING) → commit.
// Whichever locks second waits for the other's commit, and each of its later statements takes a
// new snapshot (READ COMMITTED), so it sees the other's work: a report that locks second finds the
// settled message; a settle that locks second claims the committed hold. The lock is taken in a
// statement of its own: a statement's snapshot is taken when it starts, so a lock acquired inside
// the claiming statement would leave that statement blind to the hold it waited for. Both sides
// lock before they touch the message row, so the lock order is the same (no deadlock).
//
// Unknown outcomes (OUTCOME_UNKNOWN: no answer in time, so no provider message id) are reconciled
// by recipient. A report that names no message but names its number adopts the one outbound
// message of that provider to that number (digits compared), created at most
// RECONCILE_WINDOW_MINUTES before the report, without an id, that is OUTCOME_UNKNOWN — if no other
// such message (unknown, or QUEUED: in flight, the report may be its early one) exists; else it is
// held. The message takes the id and the report is applied by the rules above (event marked
// `reconciled`). An unknown settle does the same with the reports held for its number since the
// claim (adoptHeldReports). Both take lockRecipientOf (provider, number digits) first, before the
// per-id lock and any row: a report and an unknown settle never miss each other, and two reports
// never both adopt (the candidate row is also locked and re-checked). Twilio and WhatsApp name the
// number for this only; only Africa's Talking's reports must also match it when found by id.
import type { DbHandle } from "@marketsage/core";
import type { Db } from "@marketsage/db";
import type { TxRunner } from "./pg-tx.ts";

export type ReportStatus = "queued" | "sent" | "delivered" | "failed" | "read";

export interface StatusReport {
  provider: string;
  providerMessageId: string;
  status: ReportStatus;
  at: Date;
  /** The provider's own status word and failure code / reason, kept in the event. */
  providerStatus: string;
  code?: string | null | undefined;
  reason?: string | null | undefined;
  /** What makes a report the same report when the provider retries it (e.g. its id + status). */
  reportKey: string;
  /**
   * The number the report is about. An unsigned provider's report (Africa's Talking) must name the
   * number we sent to; for the others it is used only to reconcile an unknown outcome.
   */
  recipient?: string | undefined;
}

export interface AppliedReport {
  found: boolean;
  /** A report already recorded (or, when held, already held): a provider's retry. */
  duplicate: boolean;
  /** The message's status after the report. */
  status: string | null;
  /** Whether the report moved the status. */
  advanced: boolean;
  messageId: string | null;
  /** No message yet: the report is kept and applied when the send settles (within the TTL). */
  held: boolean;
  /** The report named no message by id and was matched by recipient to an unknown outcome. */
  reconciled?: true;
}

/** The message row a report applies to (locked FOR UPDATE by the caller's transaction). */
export interface ReportTarget {
  id: string;
  status: string;
}

/** How long a held report waits for its send to settle. */
export const PENDING_REPORT_TTL_MINUTES = 10;
/** How long before a report an unknown-outcome message may have been created to adopt its id. */
export const RECONCILE_WINDOW_MINUTES = 15;
/** Advisory lock class (first key) of the per-(provider, provider message id) lock. */
const LOCK_CLASS = 7401;
/** Advisory lock class of the per-(provider, recipient) lock of the reconciliation. */
const RECIPIENT_LOCK_CLASS = 7402;
/** Providers whose reports are unsigned: a report must name the number the message was sent to. */
const RECIPIENT_CHECKED: ReadonlySet<string> = new Set(["africastalking"]);
/** Clock skew allowed between our claim's created_at (app clock) and a hold's received_at (database clock). */
const CLOCK_SLACK_SECONDS = 5;

/** A number as its digits only ("+254 700-000101", "254700000101" → "254700000101"). */
export const recipientDigits = (n: string | null | undefined): string => (n ?? "").replace(/[^0-9]/g, "");
/** Expired held reports deleted per hold, at most (the rest go on the next holds). */
const EXPIRE_BATCH = 500;

const RANK: Record<string, number> = { QUEUED: 0, OUTCOME_UNKNOWN: 0, SENT: 1, DELIVERED: 2, FAILED: 2 };
const TARGET: Record<ReportStatus, "QUEUED" | "SENT" | "DELIVERED" | "FAILED"> = { queued: "QUEUED", sent: "SENT", delivered: "DELIVERED", failed: "FAILED", read: "DELIVERED" };
const EVENT: Record<ReportStatus, "QUEUED" | "SENT" | "DELIVERED" | "FAILED" | "OPENED"> = { queued: "QUEUED", sent: "SENT", delivered: "DELIVERED", failed: "FAILED", read: "OPENED" };
const NOT_FOUND: AppliedReport = { found: false, duplicate: false, status: null, advanced: false, messageId: null, held: false };

/**
 * The transaction-level advisory lock that serializes a report's lookup-and-hold against
 * settleSend's write-and-claim for one (provider, provider message id); see the top of this file.
 * Released when the transaction ends. Must run as its own statement, before the lookup / claim.
 */
export async function lockReportsOf(tx: DbHandle, provider: string, providerMessageId: string): Promise<void> {
  await tx.$queryRaw`select 1 as locked from pg_advisory_xact_lock(${LOCK_CLASS}::int, hashtext(${provider} || ':' || ${providerMessageId}))`;
}

/** lockReportsOf for many ids of one provider in one statement (a bulk send's settle), in a fixed order. */
export async function lockReportsOfMany(tx: DbHandle, provider: string, providerMessageIds: readonly string[]): Promise<void> {
  if (providerMessageIds.length === 0) return;
  await tx.$queryRaw`
    select count(pg_advisory_xact_lock(${LOCK_CLASS}::int, k)) as locked
      from (select distinct hashtext(${provider} || ':' || id) as k from unnest(${[...providerMessageIds]}::text[]) as id order by 1) as ks`;
}

/**
 * The transaction-level advisory lock per (provider, recipient digits) that serializes the
 * reconciliation of unknown outcomes (a report's adopt-or-hold against another report's and an
 * unknown settle's); see the top of this file. Taken before lockReportsOf. Its own statement.
 */
export async function lockRecipientOf(tx: DbHandle, provider: string, digits: string): Promise<void> {
  await tx.$queryRaw`select 1 as locked from pg_advisory_xact_lock(${RECIPIENT_LOCK_CLASS}::int, hashtext(${provider} || ':' || ${digits}))`;
}

export async function applyStatusReport(client: Db | TxRunner, r: StatusReport): Promise<AppliedReport> {
  const db: TxRunner = client as TxRunner;
  // The common case first: the report names a settled message by its id. Only the id's lock is
  // taken (a report names one message; reports to one number — a campaign's, a bench's — do not
  // wait for each other). A miss writes nothing and goes the full way below, locks in order.
  const direct = await db.$transaction(async (tx) => {
    await lockReportsOf(tx, r.provider, r.providerMessageId);
    const m = await findMessage(tx, r);
    return m ? applyReportTx(tx, r, m) : null;
  });
  if (direct) return direct;
  return db.$transaction(async (tx) => {
    const digits = recipientDigits(r.recipient);
    if (digits) await lockRecipientOf(tx, r.provider, digits);
    await lockReportsOf(tx, r.provider, r.providerMessageId);
    const m = await findMessage(tx, r);
    if (m) return applyReportTx(tx, r, m);
    // A message with this id exists but was not sent to the report's number: a forged or
    // misrouted report for a settled send. Nothing will ever match it; it is not held.
    const [other] = await tx.$queryRaw<Array<{ id: string }>>`
      select id from messages where provider = ${r.provider} and provider_message_id = ${r.providerMessageId} and direction = 'OUTBOUND' limit 1`;
    if (other) return NOT_FOUND;
    const adopted = digits ? await adoptByRecipient(tx, r, digits) : undefined;
    if (adopted) return { ...(await applyReportTx(tx, r, adopted, { reconciled: true })), reconciled: true };
    return hold(tx, r);
  });
}

/** The outbound message a report names (locked), with the unsigned providers' recipient check. */
async function findMessage(tx: DbHandle, r: StatusReport): Promise<ReportTarget | undefined> {
  const check = RECIPIENT_CHECKED.has(r.provider) && r.recipient !== undefined ? recipientDigits(r.recipient) : null;
  const [m] = await tx.$queryRaw<ReportTarget[]>`
    select id, status::text as status from messages
     where provider = ${r.provider} and provider_message_id = ${r.providerMessageId} and direction = 'OUTBOUND'
       and (${check}::text is null or regexp_replace(recipient, '[^0-9]', '', 'g') = ${check})
     order by created_at desc limit 1 for update`;
  return m;
}

/**
 * The messages a report to `digits` (naming no message by id) could belong to: that provider's
 * outbound messages to that number, without a provider message id, created at most
 * RECONCILE_WINDOW_MINUTES before `at`, OUTCOME_UNKNOWN or still QUEUED (a send in flight, whose
 * own early report this may be). At most `limit`. By the (provider, provider_message_id) index.
 */
async function candidates(tx: DbHandle, provider: string, digits: string, at: Date, limit: number): Promise<ReportTarget[]> {
  return tx.$queryRaw<ReportTarget[]>`
    select id, status::text as status from messages
     where provider = ${provider} and provider_message_id is null and direction = 'OUTBOUND'
       and status in ('QUEUED', 'OUTCOME_UNKNOWN')
       and created_at >= ${at}::timestamptz - make_interval(mins => ${RECONCILE_WINDOW_MINUTES}::int)
       and regexp_replace(recipient, '[^0-9]', '', 'g') = ${digits}
     order by created_at desc limit ${limit}::int`;
}

/**
 * A report that names no message by id, matched by recipient: the only candidate, when it is
 * OUTCOME_UNKNOWN, locked, re-checked and given the report's id. Under lockRecipientOf and
 * lockReportsOf (the caller's), after the lookup by id found nothing.
 */
async function adoptByRecipient(tx: DbHandle, r: StatusReport, digits: string): Promise<ReportTarget | undefined> {
  const found = await candidates(tx, r.provider, digits, r.at, 2);
  if (found.length !== 1 || found[0]!.status !== "OUTCOME_UNKNOWN") return undefined;
  const [m] = await tx.$queryRaw<ReportTarget[]>`
    select id, status::text as status from messages
     where id = ${found[0]!.id}::uuid and provider_message_id is null and status = 'OUTCOME_UNKNOWN' for update`;
  if (!m) return undefined;
  const n = await tx.$executeRaw`update messages set provider_message_id = ${r.providerMessageId} where id = ${m.id}::uuid and provider_message_id is null`;
  return n === 1 ? m : undefined;
}

/** The message settleSend has just recorded as an unknown outcome. */
export interface UnknownOutcome {
  id: string;
  provider: string;
  recipient: string;
  createdAt: Date;
}

/**
 * For settleSend, in its transaction, after it has recorded an unknown outcome, under
 * lockRecipientOf (taken before it wrote the row): the reports held for that provider and number
 * since the claim. When they name one provider message id that no message has, and this message is
 * the only candidate for them (as for a live report), it takes that id and they are applied
 * (applyPendingReports), marked `reconciled`: their results. Otherwise (nothing adopted) null.
 */
export async function adoptHeldReports(tx: DbHandle, m: UnknownOutcome): Promise<AppliedReport[] | null> {
  const digits = recipientDigits(m.recipient);
  if (!digits) return null;
  const held = await tx.$queryRaw<Array<{ pid: string; first: Date }>>`
    select provider_message_id as pid, min((report->>'at')::timestamptz) as first from pending_status_reports
     where received_at >= ${m.createdAt}::timestamptz - make_interval(secs => ${CLOCK_SLACK_SECONDS}::int)
       and received_at >= now() - make_interval(mins => ${PENDING_REPORT_TTL_MINUTES}::int)
       and provider = ${m.provider} and regexp_replace(report->>'recipient', '[^0-9]', '', 'g') = ${digits}
     group by provider_message_id limit 2`;
  if (held.length !== 1) return null;
  const { pid, first } = held[0]!;
  const others = await candidates(tx, m.provider, digits, first, 2);
  if (others.length !== 1 || others[0]!.id !== m.id) return null;
  await lockReportsOf(tx, m.provider, pid);
  const [owner] = await tx.$queryRaw<Array<{ id: string }>>`
    select id from messages where provider = ${m.provider} and provider_message_id = ${pid} and direction = 'OUTBOUND' limit 1`;
  if (owner) return null;
  const n = await tx.$executeRaw`
    update messages set provider_message_id = ${pid} where id = ${m.id}::uuid and provider_message_id is null and status = 'OUTCOME_UNKNOWN'`;
  if (n !== 1) return null;
  return (await applyPendingReports(tx, m.provider, pid, { reconciled: true })).map((a) => (a.found ? { ...a, reconciled: true as const } : a));
}

/**
 * One report applied to its message, inside the caller's transaction, with the message row
 * already locked (FOR UPDATE) by it: recorded once by report key, forward only, late ones kept.
 */
export async function applyReportTx(tx: DbHandle, r: StatusReport, m: ReportTarget, extra: Record<string, unknown> = {}): Promise<AppliedReport> {
  const duplicate: AppliedReport = { found: true, duplicate: true, status: m.status, advanced: false, messageId: m.id, held: false };
  const target = TARGET[r.status];
  const from = RANK[m.status] ?? 0;
  const advanced = RANK[target]! > from;
  const detail = { report_key: r.reportKey, provider_status: r.providerStatus, code: r.code ?? null, reason: r.reason ?? null, ...(advanced || r.status === "read" ? {} : { late: true }), ...extra };
  // A report's time is the provider's (WhatsApp's to the second), kept in the detail; the event's
  // time is never before the message or its previous event, so the history reads in the order it
  // happened to us. Written only when no event of the message has this report key yet (a
  // provider's retry): the insert's row count says which.
  const insert = (type: string, d: Record<string, unknown>) => tx.$executeRaw`
    insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
    select organization_id, id, campaign_id, variant_id, contact_id, channel, ${type}::"MessageEventType",
           greatest(${r.at}::timestamptz, created_at, (select max(occurred_at) from message_events e where e.message_id = messages.id)),
           ${JSON.stringify({ ...d, provider_at: r.at.toISOString() })}::jsonb
      from messages where id = ${m.id}::uuid
       and not exists (select 1 from message_events e where e.message_id = ${m.id}::uuid and e.detail->>'report_key' = ${r.reportKey})`;
  if (r.status === "read" && advanced) {
    // "read" before any "delivered": the delivery is implied and recorded first.
    const [seen] = await tx.$queryRaw<Array<{ n: number }>>`
      select count(*)::int as n from message_events where message_id = ${m.id}::uuid and detail->>'report_key' = ${r.reportKey}`;
    if (seen!.n > 0) return duplicate;
    await insert("DELIVERED", { ...detail, report_key: `${r.reportKey}:implied`, implied_by: "read" });
  }
  if ((await insert(EVENT[r.status], detail)) === 0) return duplicate;
  if (!advanced) return { found: true, duplicate: false, status: m.status, advanced: false, messageId: m.id, held: false };
  await tx.$executeRaw`
    update messages set status = ${target}::"MessageStatus", status_at = greatest(${r.at}::timestamptz, created_at),
           error_code = case when ${target} = 'FAILED' then ${r.code ?? "failed"} else error_code end,
           error_reason = case when ${target} = 'FAILED' then ${r.reason ?? null} else error_reason end
     where id = ${m.id}::uuid`;
  return { found: true, duplicate: false, status: target, advanced: true, messageId: m.id, held: false };
}

type StoredReport = Omit<StatusReport, "at"> & { at: string };

/** Keeps a report that names no message yet (once per report key) and drops expired ones. */
async function hold(tx: DbHandle, r: StatusReport): Promise<AppliedReport> {
  const stored: StoredReport = {
    provider: r.provider, providerMessageId: r.providerMessageId, status: r.status, at: r.at.toISOString(), providerStatus: r.providerStatus,
    code: r.code ?? null, reason: r.reason ?? null, reportKey: r.reportKey, ...(r.recipient !== undefined ? { recipient: r.recipient } : {}),
  };
  const inserted = await tx.$queryRaw<Array<{ id: bigint }>>`
    insert into pending_status_reports (provider, provider_message_id, report, report_key, received_at)
    values (${r.provider}, ${r.providerMessageId}, ${JSON.stringify(stored)}::jsonb, ${r.reportKey}, now())
    on conflict (provider, provider_message_id, report_key) do nothing
    returning id`;
  // Opportunistic expiry, by the received_at index; SKIP LOCKED so concurrent holds never wait on
  // each other's deletes (a row another transaction is deleting is gone either way).
  await tx.$executeRaw`
    delete from pending_status_reports where id in (
      select id from pending_status_reports where received_at < now() - make_interval(mins => ${PENDING_REPORT_TTL_MINUTES}::int)
       order by received_at limit ${EXPIRE_BATCH}::int for update skip locked)`;
  return { ...NOT_FOUND, duplicate: inserted.length === 0, held: true };
}

/**
 * Claims the reports held for (provider, provider message id) — DELETE … RETURNING, so a report is
 * claimed by one transaction only — and applies the unexpired ones in report time order, each
 * through the same lookup (recipient check included) and rules as a live report. For settleSend,
 * in its transaction, after it has written the id; takes lockReportsOf (again: re-entrant).
 */
export async function applyPendingReports(tx: DbHandle, provider: string, providerMessageId: string, extra: Record<string, unknown> = {}): Promise<AppliedReport[]> {
  await lockReportsOf(tx, provider, providerMessageId);
  const claimed = await tx.$queryRaw<Array<{ id: bigint; report: StoredReport; fresh: boolean }>>`
    delete from pending_status_reports where provider = ${provider} and provider_message_id = ${providerMessageId}
    returning id, report, received_at >= now() - make_interval(mins => ${PENDING_REPORT_TTL_MINUTES}::int) as fresh`;
  const reports = claimed
    .filter((c) => c.fresh)
    .map((c) => ({ id: c.id, report: { ...c.report, at: new Date(c.report.at) } as StatusReport }))
    .sort((a, b) => a.report.at.getTime() - b.report.at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const results: AppliedReport[] = [];
  for (const { report } of reports) {
    const m = await findMessage(tx, report);
    results.push(m ? await applyReportTx(tx, report, m, extra) : NOT_FOUND);
  }
  return results;
}
