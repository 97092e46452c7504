// send_bulk's two steps. The DRY RUN decides every recipient now (will send, deferred by quiet
// hours, refused by reason, held out), estimates the cost per provider, and returns a confirmation
// token bound to the resolved content and the recipient snapshot (a changed segment or content
// needs a new dry run). The SEND checks the token when the send is large or costly (thresholds in
// bulk/config.ts), then in one transaction: the campaign (created for an inline one, marked
// SENDING), its variants, the bulk send, every recipient snapshotted with its arm, and the chunk
// jobs — so a send is either wholly enqueued or not at all. A retry with the same idempotency key
// answers the first send.
import { createHmac, timingSafeEqual } from "node:crypto";
import { ConflictError, UserError, type DbHandle, type OrgInfo } from "@marketsage/core";
import { poolOf, type Db } from "@marketsage/db";
import type { ProviderName } from "../providers/types.ts";
import { inReportingCurrency, type CostEstimate } from "../queries/cost.ts";
import { trackingKey } from "../tracking/index.ts";
import { pgDirect, pgTransactions } from "../webhooks/pg-tx.ts";
import { snapshotAudience, type Audience } from "./audience.ts";
import type { BulkConfig } from "./config.ts";
import { decide, PlanContext } from "./plan.ts";
import { bossFor, QUEUE } from "./queue.ts";
import { assignArm, resolveSpec, specHash, type BulkSpec, type CampaignInput } from "./spec.ts";

export const TOKEN_TTL_MS = 3600_000;

export interface BulkRequest {
  campaignId?: string | undefined;
  campaign?: CampaignInput | undefined;
  segmentId?: string | undefined;
  contactIds?: string[] | undefined;
  provider?: ProviderName | "auto" | undefined;
  trackLinks: boolean;
  idempotencyKey: string;
  confirmationToken?: string | undefined;
}

export interface Estimate {
  recipients: number;
  willSend: number;
  deferred: number;
  /** The earliest and latest time a deferred recipient is sent (ISO). */
  deferredUntil: { first: string; last: string } | null;
  holdout: number;
  refused: Record<string, number>;
  byVariant: Array<{ name: string; recipients: number }>;
  cost: Array<{ provider: string; messages: number; amount: string; currency: string }>;
  /** The cost in the organization's reporting currency (null when a rate or FX rate is missing). */
  costReporting: { amount: number; currency: string } | null;
  /** Recipients with no rate for their destination (their cost is not in the totals). */
  unpriced: number;
}

/** Adds decimal strings exactly (4 decimal places, as provider rates are stored). */
function addDecimal(a: string, b: string): string {
  const scale = 4;
  const toUnits = (s: string) => {
    const neg = s.startsWith("-");
    const [i, f = ""] = s.replace("-", "").split(".");
    const n = BigInt((i || "0") + f.padEnd(scale, "0").slice(0, scale));
    return neg ? -n : n;
  };
  const n = toUnits(a) + toUnits(b);
  const neg = n < 0n;
  const str = (neg ? -n : n).toString().padStart(scale + 1, "0");
  return `${neg ? "-" : ""}${str.slice(0, -scale)}.${str.slice(-scale)}`;
}

export async function estimateSend(db: DbHandle, org: OrgInfo, spec: BulkSpec, audience: Audience, smsOrder: readonly ProviderName[], now: Date, trackingBase: string): Promise<Estimate> {
  const ctx = new PlanContext(db, org, spec, smsOrder, now, trackingBase);
  const e: Estimate = { recipients: audience.contactIds.length, willSend: 0, deferred: 0, deferredUntil: null, holdout: 0, refused: {}, byVariant: spec.variants.map((v) => ({ name: v.name, recipients: 0 })), cost: [], costReporting: null, unpriced: 0 };
  const costs = new Map<string, { provider: string; messages: number; amount: string; currency: string }>();
  let first = Infinity;
  let last = -Infinity;
  const priced: CostEstimate[] = [];
  for (let i = 0; i < audience.contactIds.length; i += 1000) {
    for (const dcs of await decide(ctx, audience.contactIds.slice(i, i + 1000))) {
      if (dcs.kind === "holdout") {
        e.holdout++;
        continue;
      }
      if (dcs.kind === "refuse") {
        e.refused[dcs.code] = (e.refused[dcs.code] ?? 0) + 1;
        continue;
      }
      e.byVariant[dcs.variant]!.recipients++;
      if (dcs.kind === "defer") {
        e.deferred++;
        first = Math.min(first, dcs.until.getTime());
        last = Math.max(last, dcs.until.getTime());
      } else e.willSend++;
      if (!dcs.cost) {
        e.unpriced++;
        continue;
      }
      const k = `${dcs.cost.provider}:${dcs.cost.total.currency}`;
      const c = costs.get(k) ?? { provider: dcs.cost.provider, messages: 0, amount: "0.0000", currency: dcs.cost.total.currency };
      c.messages++;
      c.amount = addDecimal(c.amount, dcs.cost.total.amount);
      costs.set(k, c);
    }
  }
  e.cost = [...costs.values()];
  for (const c of e.cost) priced.push({ provider: c.provider as ProviderName, country: "", unitCost: { amount: c.amount, currency: c.currency }, units: 1, total: { amount: c.amount, currency: c.currency }, source: "" });
  if (e.cost.length) {
    // The same conversion a single send's routing uses (stored FX at `now`), summed over providers.
    let sum = 0;
    let known = true;
    for (const p of priced) {
      const r = await inReportingCurrency(db, org, [p], now);
      const v = r.get(p.provider);
      if (v === null || v === undefined) known = false;
      else sum += v;
    }
    e.costReporting = known ? { amount: Math.round(sum * 100) / 100, currency: org.reportingCurrency } : null;
  } else e.costReporting = { amount: 0, currency: org.reportingCurrency };
  if (Number.isFinite(first)) e.deferredUntil = { first: new Date(first).toISOString(), last: new Date(last).toISOString() };
  return e;
}

// ---- the confirmation token: HMAC over what the estimate was computed for ----

const confirmKey = async (db: DbHandle) => createHmac("sha256", await trackingKey(db)).update("bulk-confirm").digest();

function tokenMac(key: Buffer, orgId: string, spec: string, audience: string, exp: number): string {
  return createHmac("sha256", key).update(`${orgId}|${spec}|${audience}|${exp}`).digest("base64url").slice(0, 32);
}

export async function confirmationToken(db: DbHandle, orgId: string, spec: BulkSpec, audience: Audience, now: Date): Promise<{ token: string; expiresAt: Date }> {
  const exp = Math.floor((now.getTime() + TOKEN_TTL_MS) / 1000);
  return { token: `${exp.toString(36)}.${tokenMac(await confirmKey(db), orgId, specHash(spec), audience.hash, exp)}`, expiresAt: new Date(exp * 1000) };
}

async function checkToken(db: DbHandle, orgId: string, spec: BulkSpec, audience: Audience, token: string, now: Date): Promise<void> {
  const [e36, mac] = token.split(".");
  const exp = e36 ? parseInt(e36, 36) : NaN;
  if (!mac || !Number.isFinite(exp)) throw new UserError("confirmation_token is not one send_bulk gave: run send_bulk with dry_run: true to get one.", { reason: "bad_token" });
  if (exp * 1000 < now.getTime()) throw new UserError(`the confirmation token expired at ${new Date(exp * 1000).toISOString()}: run the dry run again for a new one.`, { reason: "token_expired" });
  const key = await confirmKey(db);
  const want = Buffer.from(tokenMac(key, orgId, specHash(spec), audience.hash, exp));
  if (want.length === mac.length && timingSafeEqual(want, Buffer.from(mac))) return;
  throw new UserError(
    "the confirmation token does not match this send: the recipients (the segment's members) or the content changed since the dry run, or the token is for another send. Run send_bulk with dry_run: true again, check the new numbers, and confirm with its token.",
    { reason: "token_mismatch" },
  );
}

export interface Prepared {
  spec: BulkSpec;
  audience: Audience;
  estimate: Estimate;
  needsConfirmation: { yes: boolean; why: string };
}

/** `trackingBase`: where the tracking links point (the service's trackingBase()). */
export async function prepareSend(db: DbHandle, org: OrgInfo, cfg: BulkConfig, smsOrder: readonly ProviderName[], req: BulkRequest, now: Date, trackingBase: string): Promise<Prepared> {
  const spec = await resolveSpec(db, org.id, { campaignId: req.campaignId, campaign: req.campaign, provider: req.provider, trackLinks: req.trackLinks, idempotencyKey: req.idempotencyKey });
  const audience = await snapshotAudience(db, org.id, { segmentId: req.segmentId, contactIds: req.contactIds, now });
  if (audience.unknown.length) throw new UserError(`${audience.unknown.length} of the contact ids are not contacts of this organization (e.g. ${audience.unknown[0]}): search_customers shows the ids.`);
  if (audience.contactIds.length === 0) throw new UserError(`${audience.segmentName ? `segment "${audience.segmentName}"` : "the list"} has no contacts: nothing to send.`);
  const estimate = await estimateSend(db, org, spec, audience, smsOrder, now, trackingBase);
  const big = audience.contactIds.length >= cfg.confirmRecipients;
  const costly = cfg.confirmCost !== null && (estimate.costReporting === null || estimate.costReporting.amount >= cfg.confirmCost);
  const why = big
    ? `${audience.contactIds.length} recipients (confirmation from ${cfg.confirmRecipients})`
    : costly
      ? `an estimated cost of ${estimate.costReporting ? `${estimate.costReporting.amount} ${estimate.costReporting.currency}` : "unknown"} (confirmation from ${cfg.confirmCost} ${org.reportingCurrency})`
      : "";
  return { spec, audience, estimate, needsConfirmation: { yes: big || costly, why } };
}

export interface Enqueued {
  bulkSendId: string;
  replayed: boolean;
}

/** Enqueues the prepared send (the caller checked the confirmation). */
export async function enqueueSend(db: Db, org: OrgInfo, cfg: BulkConfig, p: Prepared, req: BulkRequest, principal: { apiKeyId: string }, now: Date): Promise<Enqueued> {
  const pool = poolOf(db);
  if (!pool) throw new Error("bulk sends need the database's connection pool");
  const direct = pgDirect(pool);
  const hash = specHash(p.spec);
  const existing = async () => {
    const [r] = await direct.$queryRaw<Array<{ id: string; estimate: { spec_hash?: string; audience_hash?: string } | null }>>`
      select id::text, estimate from bulk_sends where organization_id = ${org.id}::uuid and idempotency_key = ${req.idempotencyKey}`;
    if (!r) return null;
    if (r.estimate?.spec_hash !== hash || r.estimate?.audience_hash !== p.audience.hash) {
      throw new ConflictError(`idempotency key "${req.idempotencyKey}" was already used for another bulk send (${r.id}): use a new key for a new send.`, { bulk_send_id: r.id });
    }
    return { bulkSendId: r.id, replayed: true };
  };
  const before = await existing();
  if (before) return before;
  if (p.needsConfirmation.yes) {
    if (!req.confirmationToken) {
      throw new UserError(`This send needs confirmation (${p.needsConfirmation.why}): run send_bulk with dry_run: true, show the person the numbers, then send again with its confirmation_token.`, { reason: "confirmation_required" });
    }
    await checkToken(direct, org.id, p.spec, p.audience, req.confirmationToken, now);
  } else if (req.confirmationToken) {
    await checkToken(direct, org.id, p.spec, p.audience, req.confirmationToken, now);
  }
  const boss = await bossFor(db, "sender", cfg);
  const id = crypto.randomUUID();
  const spec = p.spec;
  const n = p.audience.contactIds.length;
  const chunks = Math.ceil(n / cfg.chunkSize);
  try {
    await pgTransactions(pool).$transaction(async (tx) => {
      if (spec.existing) {
        const moved = await tx.$executeRaw`
          update campaigns set status = 'SENDING', segment_id = coalesce(${p.audience.segmentId}::uuid, segment_id) where id = ${spec.campaignId}::uuid and organization_id = ${org.id}::uuid and status in ('DRAFT', 'SCHEDULED')`;
        if (!moved) throw new ConflictError("the campaign is no longer a draft (another send started it): get_bulk_send_status or list_campaigns shows it.");
      } else {
        const main = spec.variants[0]!.content;
        const created = await tx.$executeRaw`
          insert into campaigns (id, organization_id, name, channel, status, subject, content, segment_id, created_at)
          values (${spec.campaignId}::uuid, ${org.id}::uuid, ${spec.campaignName}, ${spec.channel}::"Channel", 'SENDING', ${main.subject ?? null}, ${main.html ?? main.text ?? null},
                  ${p.audience.segmentId}::uuid, ${now})
          on conflict (id) do nothing`;
        if (!created) throw new ConflictError(`a campaign was already created under idempotency key "${req.idempotencyKey}": use a new key for a new send.`);
        for (const v of spec.variants) {
          if (!v.id) continue;
          await tx.$executeRaw`
            insert into campaign_variants (id, organization_id, campaign_id, name, subject, content, weight, is_control)
            values (${v.id}::uuid, ${org.id}::uuid, ${spec.campaignId}::uuid, ${v.name}, ${v.content.subject ?? null}, ${v.content.html ?? v.content.text ?? null}, ${v.weight}, false)`;
        }
      }
      await tx.$executeRaw`
        insert into bulk_sends (id, organization_id, campaign_id, channel, status, spec, total, chunk_size, chunks, estimate, requested_by, idempotency_key, created_at)
        values (${id}::uuid, ${org.id}::uuid, ${spec.campaignId}::uuid, ${spec.channel}::"Channel", 'queued', ${JSON.stringify(spec)}::jsonb, ${n}, ${cfg.chunkSize}, ${chunks},
                ${JSON.stringify({ ...p.estimate, spec_hash: hash, audience_hash: p.audience.hash, segment_id: p.audience.segmentId, segment_name: p.audience.segmentName, segment_evaluated_at: p.audience.evaluatedAt })}::jsonb,
                ${principal.apiKeyId}, ${req.idempotencyKey}, ${now})`;
      for (let i = 0; i < n; i += 20_000) {
        const ids = p.audience.contactIds.slice(i, i + 20_000);
        const arms = ids.map((c) => assignArm(spec, c));
        await tx.$executeRaw`
          insert into bulk_send_recipients (bulk_send_id, seq, organization_id, contact_id, chunk, variant_id, state, updated_at)
          select ${id}::uuid, x.seq, ${org.id}::uuid, x.contact_id, x.seq / ${cfg.chunkSize}, x.variant_id, x.state, ${now}
            from unnest(${ids.map((_, j) => i + j)}::int[], ${ids}::uuid[], ${arms.map((a) => (a.holdout ? null : (spec.variants[a.variant]!.id ?? null)))}::uuid[],
                        ${arms.map((a) => (a.holdout ? "holdout" : "pending"))}::text[]) as x(seq, contact_id, variant_id, state)`;
      }
      // The jobs in the same transaction (pg-boss on this transaction's connection): all or nothing.
      const jobs = Array.from({ length: chunks }, (_, chunk) => ({ name: QUEUE, data: { bulkSendId: id, chunk }, retryLimit: 100_000, retryDelay: 1, expireInSeconds: cfg.expireSeconds }));
      for (let i = 0; i < jobs.length; i += 1000) {
        await boss.insert(jobs.slice(i, i + 1000), { db: { executeSql: async (text: string, values: unknown[]) => ({ rows: await tx.$queryRawUnsafe(text, ...(values ?? [])) }) } });
      }
    });
  } catch (e) {
    // A concurrent call with the same key won the insert: answer its send.
    if ((e as { code?: string }).code === "23505") {
      const again = await existing();
      if (again) return again;
    }
    throw e;
  }
  return { bulkSendId: id, replayed: false };
}
