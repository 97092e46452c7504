// The bulk-send worker: runs chunk jobs from pg-boss. A chunk's recipients are sent in waves:
//   1. decide each recipient now (plan.ts): refused (with the reason), deferred (quiet hours, to
//      the end of their window), or sent (rendered content, provider, cost);
//   2. CLAIM the wave in one statement: the recipients' state → claimed and their Message rows
//      (idempotency key bulk:<send>:<seq>) with QUEUED events — committed BEFORE any provider call.
//      A recipient is claimed once (its state moves from pending only once): two workers running
//      the same chunk (a job that expired while its worker was alive) never both send it;
//   3. reserve the wave's slots on the provider's shared schedule (throttle.ts) and call the
//      provider through its SDK for each, at its slot, under the send timeout;
//   4. SETTLE the wave in one transaction: messages (status, provider id, cost), SENT / FAILED
//      events, the recipients' states; delivery reports that beat the settle are applied.
// A transient refusal (rate limited, 5xx: nothing was sent) puts the recipient back, later; "too
// many requests" also pauses the provider's schedule for every worker. A recipient left claimed by
// a worker that died (kill -9 between claim and settle) is reconciled, never blindly resent: its
// row already settled → its state; the provider can be asked (Twilio: List Messages) → found, it
// was sent (adopted), not found, it never reached the provider (sent now); otherwise its outcome is
// unknown (OUTCOME_UNKNOWN, resolved by the provider's delivery reports to that number).
import { randomUUID } from "node:crypto";
import type { Logger, OrgInfo } from "@marketsage/core";
import { poolOf, type Db } from "@marketsage/db";
import type PgBoss from "pg-boss";
import { recordOutcome } from "../providers/circuit.ts";
import type { OutgoingMessage, Provider, ProviderName, SendOutcome } from "../providers/types.ts";
import { requestHash, settleSend } from "../send/ledger.ts";
import { senderFor } from "../send/send.ts";
import type { MessagingService } from "../service.ts";
import { registerCampaignLinks, trackingKey, trackMessage, type CampaignLink } from "../tracking/index.ts";
import { pgTransactions, type TxRunner } from "../webhooks/pg-tx.ts";
import { applyPendingReports, lockReportsOfMany } from "../webhooks/status.ts";
import type { BulkConfig } from "./config.ts";
import { decide, PlanContext, type Decision } from "./plan.ts";
import { enqueueChunks, type ChunkJob } from "./queue.ts";
import type { BulkSpec } from "./spec.ts";
import { reconcileClaims } from "./reconcile.ts";
import { q } from "./sql.ts";
import { pauseProvider, reserveSlots } from "./throttle.ts";

/** Where a worker's time goes (this process, since start): read by the benchmark from the worker's log. */
export const workerStats = { waves: 0, sends: 0, decideMs: 0, claimMs: 0, throttleWaitMs: 0, providerMs: 0, settleMs: 0 };

/** Transient failures are retried this many times before the recipient fails. */
export const MAX_ATTEMPTS = 6;
const OPEN = ["pending", "deferred", "claimed"];

export interface WorkerDeps {
  db: Db;
  svc: MessagingService;
  cfg: BulkConfig;
  log: Logger;
  boss: PgBoss;
  workerId: string;
  now: () => Date;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface SendRow {
  id: string;
  organization_id: string;
  campaign_id: string;
  status: string;
  spec: BulkSpec;
  chunks: number;
}

export type RecipientRow = { seq: number; contact_id: string; variant_id: string | null; state: string; not_before: Date | null; message_id: string | null; claimed_at: Date | null; attempts: number };

export async function loadOrg(db: Db, orgId: string): Promise<OrgInfo> {
  const [o] = await db.$queryRaw<Array<{ id: string; name: string; reporting_currency: string; default_country: string; time_zone: string }>>`
    select id::text, name, trim(reporting_currency) as reporting_currency, trim(default_country) as default_country, time_zone from organizations where id = ${orgId}::uuid`;
  if (!o) throw new Error(`organization ${orgId} is gone`);
  return { id: o.id, name: o.name, reportingCurrency: o.reporting_currency, defaultCountry: o.default_country, timeZone: o.time_zone };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const backoffMs = (attempt: number) => Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));

function reconcileAfterMs(d: WorkerDeps): number {
  return d.cfg.reconcileAfterMs ?? d.svc.sendTimeoutMs + 15_000;
}

/** Runs one chunk job until its recipients are done, deferred, or the job's time is up (then it continues in a new job). */
export async function processChunk(d: WorkerDeps, job: ChunkJob): Promise<void> {
  const deadline = Date.now() + (d.cfg.expireSeconds * 1000) / 3;
  const [send] = await q(d).$queryRaw<SendRow[]>`
    select id::text, organization_id::text, campaign_id::text, status, spec, chunks from bulk_sends where id = ${job.bulkSendId}::uuid`;
  if (!send) return;
  if (send.status === "cancelled" || send.status === "completed") {
    await cancelOpen(d, send.id, job.chunk);
    return;
  }
  if (send.status === "queued") {
    await q(d).$executeRaw`update bulk_sends set status = 'running', started_at = coalesce(started_at, ${d.now()}) where id = ${send.id}::uuid and status = 'queued'`;
  }
  const org = await loadOrg(d.db, send.organization_id);
  const spec = send.spec;
  const chunkRun = new ChunkRun(d, send, org, spec);
  for (;;) {
    const rows = await q(d).$queryRaw<RecipientRow[]>`
      select seq, contact_id::text, variant_id::text, state, not_before, message_id::text, claimed_at, attempts from bulk_send_recipients
       where bulk_send_id = ${send.id}::uuid and chunk = ${job.chunk} and state = any(${OPEN}::text[]) order by seq`;
    if (rows.length === 0) break;
    const now = d.now();
    const stale = rows.filter((r) => r.state === "claimed" && r.claimed_at && now.getTime() - r.claimed_at.getTime() >= reconcileAfterMs(d));
    if (stale.length) await chunkRun.reconcile(stale);
    const due = rows.filter((r) => r.state !== "claimed" && (!r.not_before || r.not_before.getTime() <= now.getTime()));
    if (due.length === 0 && stale.length === 0) {
      // Nothing to do now: deferred recipients (quiet hours, back-off) or another worker's claims.
      const next = Math.min(
        ...rows.map((r) => (r.state === "claimed" ? r.claimed_at!.getTime() + reconcileAfterMs(d) : (r.not_before?.getTime() ?? now.getTime()))),
      );
      const wait = Math.min(d.cfg.recheckMs, Math.max(1000, next - now.getTime()));
      await enqueueChunks(d.boss, d.cfg, send.id, [job.chunk], new Date(Date.now() + wait));
      return;
    }
    for (let i = 0; i < due.length; i += d.cfg.waveSize) {
      if (await chunkRun.cancelled()) {
        await cancelOpen(d, send.id, job.chunk);
        return;
      }
      await chunkRun.wave(due.slice(i, i + d.cfg.waveSize));
      if (Date.now() > deadline) {
        await enqueueChunks(d.boss, d.cfg, send.id, [job.chunk]);
        return;
      }
    }
  }
  await finishIfDone(d, send);
}

async function cancelOpen(d: WorkerDeps, sendId: string, chunk: number): Promise<void> {
  await q(d).$executeRaw`
    update bulk_send_recipients set state = 'cancelled', updated_at = ${d.now()}
     where bulk_send_id = ${sendId}::uuid and chunk = ${chunk} and state in ('pending', 'deferred')`;
}

/** The send is complete when no recipient is left to send (pending, deferred or claimed). */
export async function finishIfDone(d: Pick<WorkerDeps, "db" | "now">, send: Pick<SendRow, "id" | "campaign_id" | "organization_id">): Promise<boolean> {
  const [open] = await q(d).$queryRaw<Array<{ open: boolean }>>`
    select exists (select 1 from bulk_send_recipients where bulk_send_id = ${send.id}::uuid and state in ('pending', 'deferred', 'claimed')) as open`;
  if (open?.open) return false;
  const now = d.now();
  const done = await q(d).$executeRaw`update bulk_sends set status = 'completed', finished_at = ${now} where id = ${send.id}::uuid and status = 'running'`;
  if (done) {
    await q(d).$executeRaw`update campaigns set status = 'SENT', sent_at = coalesce(sent_at, ${now}) where id = ${send.campaign_id}::uuid and organization_id = ${send.organization_id}::uuid and status = 'SENDING'`;
  }
  return true;
}

interface Claimed {
  seq: number;
  messageId: string;
  decision: Extract<Decision, { kind: "send" }>;
  out: OutgoingMessage;
  attempts: number;
}

class ChunkRun {
  private readonly ctx: PlanContext;
  private links: Promise<CampaignLink[]> | null = null;
  private key: Promise<Buffer> | null = null;
  private readonly senders = new Map<ProviderName, Promise<string | null>>();
  private lastStatusCheck = 0;

  constructor(private readonly d: WorkerDeps, private readonly send: SendRow, private readonly org: OrgInfo, private readonly spec: BulkSpec) {
    this.ctx = new PlanContext(d.db, org, spec, d.svc.config.smsOrder, d.now(), d.svc.trackingBase());
  }

  async cancelled(): Promise<boolean> {
    if (Date.now() - this.lastStatusCheck < 1000) return false;
    this.lastStatusCheck = Date.now();
    const [s] = await q(this.d).$queryRaw<Array<{ status: string }>>`select status from bulk_sends where id = ${this.send.id}::uuid`;
    return s?.status === "cancelled";
  }

  private sender(p: ProviderName): Promise<string | null> {
    let s = this.senders.get(p);
    if (!s) {
      s = senderFor(q(this.d), this.org.id, this.spec.channel, p, undefined);
      this.senders.set(p, s);
    }
    return s;
  }

  private tracked(): boolean {
    return this.spec.channel === "EMAIL" || this.spec.trackLinks;
  }

  private async outgoing(messageId: string, dec: Extract<Decision, { kind: "send" }>, idempotencyKey: string): Promise<OutgoingMessage> {
    let { text, html } = dec.content;
    let headers: Record<string, string> | undefined;
    if (this.tracked()) {
      this.links ??= registerCampaignLinks(q(this.d), this.org.id, this.spec.campaignId, this.spec.variants.flatMap((v) => [v.content.text, v.content.html]));
      this.key ??= trackingKey(q(this.d), this.d.env);
      const t = trackMessage({ baseUrl: this.d.svc.trackingBase(), key: await this.key }, { messageId, channel: this.spec.channel, text, html, links: await this.links, shortenLinks: this.spec.trackLinks });
      text = t.text;
      html = t.html;
      headers = Object.keys(t.headers).length ? t.headers : undefined;
    }
    const callback = this.d.svc.callbackBase(dec.provider);
    return {
      to: dec.address, from: (await this.sender(dec.provider)) ?? undefined, text: text ?? undefined, subject: dec.content.subject ?? undefined, html: html ?? undefined,
      template: dec.content.whatsappTemplate ?? undefined, headers, idempotencyKey,
      statusCallbackUrl: dec.provider === "twilio" && callback ? `${callback}/webhooks/twilio/status` : undefined,
    };
  }

  async wave(rows: RecipientRow[]): Promise<void> {
    const d = this.d;
    const now = d.now();
    (this.ctx as { now: Date }).now = now;
    const t0 = performance.now();
    const decisions = await decide(this.ctx, rows.map((r) => r.contact_id));
    workerStats.waves++;
    workerStats.decideMs += performance.now() - t0;
    const parked: Array<{ seq: number; state: string; notBefore: Date | null; reason: string | null }> = [];
    const sends = new Map<ProviderName, Array<{ row: RecipientRow; dec: Extract<Decision, { kind: "send" }> }>>();
    for (const [i, dec] of decisions.entries()) {
      const row = rows[i]!;
      if (dec.kind === "holdout") parked.push({ seq: row.seq, state: "holdout", notBefore: null, reason: null });
      else if (dec.kind === "refuse") parked.push({ seq: row.seq, state: "refused", notBefore: null, reason: `${dec.code}: ${dec.reason}` });
      else if (dec.kind === "defer") parked.push({ seq: row.seq, state: "deferred", notBefore: dec.until, reason: dec.reason });
      else {
        const list = sends.get(dec.provider) ?? [];
        list.push({ row, dec });
        sends.set(dec.provider, list);
      }
    }
    if (parked.length) {
      await q(d).$executeRaw`
        update bulk_send_recipients r set state = x.state, not_before = x.not_before, reason = x.reason, updated_at = ${now}
          from unnest(${parked.map((p) => p.seq)}::int[], ${parked.map((p) => p.state)}::text[], ${parked.map((p) => p.notBefore)}::timestamptz[], ${parked.map((p) => p.reason)}::text[]) as x(seq, state, not_before, reason)
         where r.bulk_send_id = ${this.send.id}::uuid and r.seq = any(${parked.map((p) => p.seq)}::int[]) and r.seq = x.seq and r.state in ('pending', 'deferred')`;
    }
    await Promise.all([...sends.entries()].map(([provider, list]) => this.sendGroup(provider, list)));
  }

  private keyOf(seq: number): string {
    return `bulk:${this.send.id}:${seq}`;
  }

  /** Claim, send at the provider's pace, settle — for the wave's recipients of one provider. */
  private async sendGroup(providerName: ProviderName, list: Array<{ row: RecipientRow; dec: Extract<Decision, { kind: "send" }> }>): Promise<void> {
    const d = this.d;
    const provider = await d.svc.provider(providerName);
    const prepared: Claimed[] = [];
    for (const { row, dec } of list) {
      const messageId = row.message_id ?? randomUUID();
      prepared.push({ seq: row.seq, messageId, decision: dec, out: await this.outgoing(messageId, dec, this.keyOf(row.seq)), attempts: row.attempts });
    }
    let t = performance.now();
    const claimed = await this.claim(providerName, provider, prepared);
    workerStats.claimMs += performance.now() - t;
    if (claimed.length === 0) return;
    const slots = await reserveSlots(q(d), providerName, claimed.length, d.cfg.rates[providerName]);
    const t0 = Date.now();
    workerStats.throttleWaitMs += slots.waitMs;
    t = performance.now();
    const outcomes = await Promise.all(
      claimed.map(async (c, i) => {
        await sleep(slots.waitMs + i * slots.spacingMs - (Date.now() - t0));
        const s0 = performance.now();
        const o = await provider.send(c.out, { timeoutMs: d.svc.sendTimeoutMs });
        workerStats.providerMs += performance.now() - s0;
        return o;
      }),
    );
    workerStats.sends += claimed.length;
    t = performance.now();
    await this.settle(providerName, claimed, outcomes);
    workerStats.settleMs += performance.now() - t;
  }

  private async claim(providerName: ProviderName, provider: Provider, prepared: Claimed[]): Promise<Claimed[]> {
    const d = this.d;
    const now = d.now();
    const fresh = prepared.filter((p) => !this.retrying(p));
    const again = prepared.filter((p) => this.retrying(p));
    const won = new Set<number>();
    if (fresh.length) {
      const variantIds = fresh.map((p) => this.spec.variants[p.decision.variant]?.id ?? null);
      const templateIds = fresh.map((p) => this.spec.variants[p.decision.variant]?.templateId ?? null);
      // `b.seq = any(…)` (here and in the other updates of a wave's recipients): the wave's rows by
      // the primary key. Joined on x alone, the planner (a fresh send's table, no statistics yet)
      // read every pending recipient of the send and compared each with the wave's: 0.5 s a claim
      // at 5,000 recipients, growing with the send.
      const rows = await q(d).$queryRaw<Array<{ seq: number }>>`
        with x as (
          select * from unnest(
            ${fresh.map((p) => p.seq)}::int[], ${fresh.map((p) => p.messageId)}::uuid[], ${fresh.map((p) => p.decision.contactId)}::uuid[],
            ${variantIds}::uuid[], ${templateIds}::uuid[], ${fresh.map((p) => p.decision.address)}::text[], ${fresh.map((p) => p.out.from ?? null)}::text[],
            ${fresh.map((p) => bodyOf(p))}::text[], ${fresh.map((p) => p.decision.segments)}::int[], ${fresh.map((p) => this.keyOf(p.seq))}::text[],
            ${fresh.map((p) => requestHash({ bulk_send: this.send.id, seq: p.seq }))}::text[]
          ) as x(seq, mid, contact_id, variant_id, template_id, recipient, sender, body, segments, key, hash)),
        r as (
          update bulk_send_recipients b set state = 'claimed', message_id = x.mid, claimed_at = ${now}, worker = ${d.workerId}, attempts = b.attempts + 1, updated_at = ${now}
            from x where b.bulk_send_id = ${this.send.id}::uuid and b.seq = any(${fresh.map((p) => p.seq)}::int[]) and b.seq = x.seq and b.state in ('pending', 'deferred') and b.message_id is null
          returning b.seq),
        m as (
          insert into messages (id, organization_id, campaign_id, variant_id, contact_id, channel, direction, recipient, sender, body, provider, idempotency_key,
                                segments, status, created_at, request_hash, template_id, status_at, sandbox)
          select x.mid, ${this.org.id}::uuid, ${this.spec.campaignId}::uuid, x.variant_id, x.contact_id, ${this.spec.channel}::"Channel", 'OUTBOUND', x.recipient, x.sender, x.body,
                 ${providerName}, x.key, x.segments, 'QUEUED', ${now}, x.hash, x.template_id, ${now}, ${provider.sandbox}
            from x join r on r.seq = x.seq
          returning id, organization_id, campaign_id, variant_id, contact_id, channel),
        e as (
          insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
          select organization_id, id, campaign_id, variant_id, contact_id, channel, 'QUEUED', ${now}, ${JSON.stringify({ provider: providerName, bulk_send: this.send.id })}::jsonb from m)
        select seq from r`;
      for (const r of rows) won.add(r.seq);
    }
    if (again.length) {
      // A retry after a transient refusal: the same row (nothing was sent), claimed again.
      const rows = await q(d).$queryRaw<Array<{ seq: number }>>`
        with r as (
          update bulk_send_recipients b set state = 'claimed', claimed_at = ${now}, worker = ${d.workerId}, attempts = b.attempts + 1, updated_at = ${now}
           where b.bulk_send_id = ${this.send.id}::uuid and b.seq = any(${again.map((p) => p.seq)}::int[]) and b.state in ('pending', 'deferred') and b.message_id is not null
          returning b.seq, b.message_id),
        m as (
          update messages set error_code = null, error_reason = null, status_at = ${now}, provider = ${providerName}
            from r where messages.id = r.message_id and messages.status = 'QUEUED' and messages.provider_message_id is null
          returning messages.id)
        select seq from r`;
      for (const r of rows) won.add(r.seq);
    }
    return prepared.filter((p) => won.has(p.seq));
  }

  private retrying(p: Claimed): boolean {
    return p.attempts > 0;
  }

  private async settle(providerName: ProviderName, claimed: Claimed[], outcomes: SendOutcome[]): Promise<void> {
    const d = this.d;
    const now = d.now();
    const pool = poolOf(d.db);
    const runner: TxRunner = pool ? pgTransactions(pool) : (d.db as unknown as TxRunner);
    const rows = claimed.map((c, i) => ({ c, o: outcomes[i]! }));
    const definite = rows.filter((r) => r.o.kind !== "unknown");
    const unknown = rows.filter((r) => r.o.kind === "unknown");
    let rateLimited = 0;
    const m = definite.map(({ c, o }) => {
      if (o.kind === "accepted") {
        return { id: c.messageId, seq: c.seq, status: o.status === "sent" ? "SENT" : "QUEUED", pid: o.providerMessageId, code: null, reason: null, cost: o.cost?.amount ?? null, cur: o.cost?.currency ?? null, event: o.status === "sent" ? "SENT" : null, rstate: "sent", notBefore: null as Date | null };
      }
      if (o.kind === "transient" && c.attempts + 1 < MAX_ATTEMPTS) {
        if (o.code === "rate_limited") rateLimited++;
        // Nothing was sent: the row stays QUEUED (no FAILED event to count) and the recipient waits.
        return { id: c.messageId, seq: c.seq, status: "QUEUED", pid: null, code: `transient:${o.code}`, reason: o.reason, cost: null, cur: null, event: null, rstate: "pending", notBefore: new Date(now.getTime() + backoffMs(c.attempts + 1)) };
      }
      const code = o.kind === "transient" ? o.code : (o as { code: string }).code;
      return { id: c.messageId, seq: c.seq, status: "FAILED", pid: null, code, reason: (o as { reason: string }).reason, cost: null, cur: null, event: "FAILED", rstate: "failed", notBefore: null };
    });
    if (m.length) {
      await runner.$transaction(async (tx) => {
        const pids = m.flatMap((x) => (x.pid ? [x.pid] : []));
        await lockReportsOfMany(tx, providerName, pids);
        await tx.$executeRaw`
          with x as (select * from unnest(${m.map((x) => x.id)}::uuid[], ${m.map((x) => x.status)}::text[], ${m.map((x) => x.pid)}::text[], ${m.map((x) => x.code)}::text[],
                                          ${m.map((x) => x.reason)}::text[], ${m.map((x) => x.cost)}::numeric[], ${m.map((x) => x.cur)}::text[], ${m.map((x) => x.event)}::text[])
                      as x(id, status, pid, code, reason, cost, cur, event)),
          u as (
            update messages set status = x.status::"MessageStatus", provider_message_id = coalesce(x.pid, messages.provider_message_id), error_code = x.code, error_reason = x.reason,
                   cost = x.cost, currency = x.cur, status_at = ${now}
              from x where messages.id = x.id and messages.organization_id = ${this.org.id}::uuid
            returning messages.id, messages.organization_id, messages.campaign_id, messages.variant_id, messages.contact_id, messages.channel)
          insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
          select u.organization_id, u.id, u.campaign_id, u.variant_id, u.contact_id, u.channel, x.event::"MessageEventType", ${now},
                 case when x.event = 'SENT' then jsonb_build_object('provider_message_id', x.pid) else jsonb_build_object('code', x.code, 'reason', x.reason) end
            from u join x on x.id = u.id where x.event is not null`;
        await tx.$executeRaw`
          update bulk_send_recipients b set state = x.state, not_before = x.not_before, reason = x.reason, updated_at = ${now}
            from unnest(${m.map((x) => x.seq)}::int[], ${m.map((x) => x.rstate)}::text[], ${m.map((x) => x.notBefore)}::timestamptz[], ${m.map((x) => (x.code ? `${x.code}: ${x.reason ?? ""}` : null))}::text[]) as x(seq, state, not_before, reason)
           where b.bulk_send_id = ${this.send.id}::uuid and b.seq = any(${m.map((x) => x.seq)}::int[]) and b.seq = x.seq and b.state = 'claimed'`;
        if (pids.length) {
          const held = await tx.$queryRaw<Array<{ pid: string }>>`
            select distinct provider_message_id as pid from pending_status_reports where provider = ${providerName} and provider_message_id = any(${pids}::text[])`;
          for (const h of held) await applyPendingReports(tx, providerName, h.pid);
        }
      });
    }
    for (const { c, o } of unknown) {
      await settleSend(d.db, this.org.id, c.messageId, o, now);
      await q(d).$executeRaw`
        update bulk_send_recipients set state = 'unknown', reason = ${`outcome_unknown: ${(o as { reason: string }).reason}`}, updated_at = ${now}
         where bulk_send_id = ${this.send.id}::uuid and seq = ${c.seq} and state = 'claimed'`;
    }
    if (rateLimited) await pauseProvider(q(d), providerName, backoffMs(Math.max(...claimed.map((c) => c.attempts + 1))));
    // The provider's circuit: one write per wave, not per message.
    const kinds = outcomes.map((o) => o.kind);
    const kind = kinds.includes("accepted") ? "accepted" : kinds.includes("definite") ? "definite" : kinds[0]!;
    if (kind !== "accepted" || kinds.some((k) => k !== "accepted")) await recordOutcome(q(d), providerName, kind, now);
  }

  reconcile(stale: RecipientRow[]): Promise<void> {
    return reconcileClaims(this.d, this.send.id, this.org.id, stale);
  }
}

function bodyOf(p: Claimed): string | null {
  const t = p.out.text ?? null;
  if (t !== null) return t;
  const w = p.decision.content.whatsappTemplate;
  return w ? `[template ${w.name}] ${w.params.join(" | ")}` : null;
}
