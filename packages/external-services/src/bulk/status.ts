// A bulk send's progress from its recipients' rows (the source of truth) and its messages: counts
// by state, delivery as reports arrive, throughput over the last minute, an ETA at that pace,
// errors by reason, and whether any worker is alive to run it. cancel_bulk_send stops the pending
// and deferred recipients; what was sent stays sent (claimed ones finish their provider call).
import { NotFoundError, type DbHandle } from "@marketsage/core";

export const WORKER_SERVER = "bulk-worker";
/** A worker whose heartbeat is older than this is considered gone. */
export const WORKER_STALE_MS = 45_000;

export interface BulkStatus {
  id: string;
  campaignId: string;
  campaignName: string;
  channel: string;
  status: string;
  total: number;
  states: Record<string, number>;
  /** Messages of this send by status (DELIVERED as reports arrive). */
  delivery: Record<string, number>;
  sentLastMinute: number;
  perSecond: number;
  etaSeconds: number | null;
  nextDeferredAt: Date | null;
  errors: Array<{ reason: string; count: number }>;
  workersAlive: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelledAt: Date | null;
  done: number;
}

export const DONE_STATES = ["sent", "failed", "refused", "unknown", "cancelled", "holdout"];

export async function bulkStatus(db: DbHandle, orgId: string, id: string, now: Date): Promise<BulkStatus> {
  const [s] = await db.$queryRaw<Array<{ id: string; campaign_id: string; name: string | null; channel: string; status: string; total: number; created_at: Date; started_at: Date | null; finished_at: Date | null; cancelled_at: Date | null }>>`
    select b.id::text, b.campaign_id::text, c.name, b.channel::text as channel, b.status, b.total, b.created_at, b.started_at, b.finished_at, b.cancelled_at
      from bulk_sends b left join campaigns c on c.id = b.campaign_id
     where b.id = ${id}::uuid and b.organization_id = ${orgId}::uuid`;
  if (!s) throw new NotFoundError(`bulk send ${id}`);
  const states = await db.$queryRaw<Array<{ state: string; n: number; next: Date | null }>>`
    select state, count(*)::int as n, min(not_before) as next from bulk_send_recipients where bulk_send_id = ${id}::uuid group by state`;
  const since = new Date(now.getTime() - 60_000);
  const [recent] = await db.$queryRaw<Array<{ n: number }>>`
    select count(*)::int as n from bulk_send_recipients where bulk_send_id = ${id}::uuid and state = 'sent' and updated_at > ${since}`;
  const delivery = await db.$queryRaw<Array<{ status: string; n: number }>>`
    select m.status::text as status, count(*)::int as n from bulk_send_recipients r join messages m on m.id = r.message_id
     where r.bulk_send_id = ${id}::uuid group by 1`;
  const errors = await db.$queryRaw<Array<{ reason: string; n: number }>>`
    select split_part(reason, ':', 1) as reason, count(*)::int as n from bulk_send_recipients
     where bulk_send_id = ${id}::uuid and state in ('failed', 'refused', 'unknown') group by 1 order by 2 desc limit 10`;
  const [w] = await db.$queryRaw<Array<{ n: number }>>`
    select count(*)::int as n from server_heartbeats where server = ${WORKER_SERVER} and beat_at > ${new Date(now.getTime() - WORKER_STALE_MS)}`;
  const st = Object.fromEntries(states.map((r) => [r.state, r.n]));
  const done = DONE_STATES.reduce((a, k) => a + (st[k] ?? 0), 0);
  const perSecond = (recent?.n ?? 0) / 60;
  const left = (st.pending ?? 0) + (st.claimed ?? 0);
  const deferred = states.find((r) => r.state === "deferred");
  return {
    id: s.id, campaignId: s.campaign_id, campaignName: s.name ?? "(deleted campaign)", channel: s.channel, status: s.status, total: s.total, states: st,
    delivery: Object.fromEntries(delivery.map((r) => [r.status, r.n])),
    sentLastMinute: recent?.n ?? 0, perSecond: Math.round(perSecond * 10) / 10,
    etaSeconds: s.status === "completed" || s.status === "cancelled" ? 0 : perSecond > 0 ? Math.ceil(left / perSecond) : null,
    nextDeferredAt: deferred?.next ?? null,
    errors: errors.map((e) => ({ reason: e.reason, count: e.n })), workersAlive: w?.n ?? 0,
    createdAt: s.created_at, startedAt: s.started_at, finishedAt: s.finished_at, cancelledAt: s.cancelled_at, done,
  };
}

export async function cancelBulkSend(db: DbHandle, orgId: string, id: string, reason: string, now: Date): Promise<{ cancelled: number; alreadyFinished: boolean }> {
  const [s] = await db.$queryRaw<Array<{ status: string; campaign_id: string }>>`select status, campaign_id::text from bulk_sends where id = ${id}::uuid and organization_id = ${orgId}::uuid for update`;
  if (!s) throw new NotFoundError(`bulk send ${id}`);
  if (s.status === "completed" || s.status === "cancelled") return { cancelled: 0, alreadyFinished: true };
  await db.$executeRaw`update bulk_sends set status = 'cancelled', cancelled_at = ${now}, cancel_reason = ${reason}, finished_at = ${now} where id = ${id}::uuid`;
  const n = await db.$executeRaw`
    update bulk_send_recipients set state = 'cancelled', reason = ${`cancelled: ${reason}`}, updated_at = ${now}
     where bulk_send_id = ${id}::uuid and state in ('pending', 'deferred')`;
  await db.$executeRaw`update campaigns set status = 'CANCELLED' where id = ${s.campaign_id}::uuid and organization_id = ${orgId}::uuid and status in ('SENDING', 'SCHEDULED', 'DRAFT')`;
  return { cancelled: n, alreadyFinished: false };
}
