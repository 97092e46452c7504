// Recipients a worker left claimed when it died (kill -9 between the claim and the settle): one
// reconciler takes each over, then — its row already settled: its state; the provider can be asked
// (Twilio: List Messages) and had it: adopted as sent; asked and never received it: back to pending
// (sent by the next wave, same row and key); otherwise: OUTCOME_UNKNOWN, settled by the provider's
// delivery reports to that number. Never a blind resend.
import type { ProviderName, Provider } from "../providers/types.ts";
import { settleSend } from "../send/ledger.ts";
import { q } from "./sql.ts";
import type { RecipientRow, WorkerDeps } from "./worker.ts";

export async function reconcileClaims(d: WorkerDeps, sendId: string, orgId: string, stale: RecipientRow[]): Promise<void> {
  for (const r of stale) {
    const now = d.now();
    // Take the claim over (one reconciler per recipient, even with several workers on the chunk).
    const took = await q(d).$executeRaw`
      update bulk_send_recipients set claimed_at = ${now}, worker = ${d.workerId}, updated_at = ${now}
       where bulk_send_id = ${sendId}::uuid and seq = ${r.seq} and state = 'claimed' and claimed_at = ${r.claimed_at}`;
    if (!took || !r.message_id) continue;
    const [m] = await q(d).$queryRaw<Array<{ status: string; provider: string | null; provider_message_id: string | null; error_code: string | null; recipient: string; body: string | null; created_at: Date }>>`
      select status::text as status, provider, provider_message_id, error_code, recipient, body, created_at from messages where id = ${r.message_id}::uuid`;
    const setState = (state: string, reason: string | null, notBefore: Date | null = null) => q(d).$executeRaw`
      update bulk_send_recipients set state = ${state}, reason = ${reason}, not_before = ${notBefore}, updated_at = ${d.now()}
       where bulk_send_id = ${sendId}::uuid and seq = ${r.seq} and state = 'claimed'`;
    if (!m) {
      await setState("pending", null);
      continue;
    }
    if (m.status !== "QUEUED" || m.provider_message_id) {
      await setState(m.status === "FAILED" ? "failed" : m.status === "OUTCOME_UNKNOWN" ? "unknown" : "sent", m.error_code);
      continue;
    }
    if (m.error_code?.startsWith("transient:")) {
      await setState("pending", m.error_code);
      continue;
    }
    const provider = m.provider ? await d.svc.provider(m.provider as ProviderName) : null;
    if (provider?.lookup) {
      let found: Awaited<ReturnType<NonNullable<Provider["lookup"]>>> | null = null;
      try {
        found = await provider.lookup({ to: m.recipient, since: new Date(m.created_at.getTime() - 2000), ...(m.body ? { body: m.body } : {}) }, { timeoutMs: d.svc.sendTimeoutMs });
      } catch (e) {
        d.log.warn({ err: (e as Error).message, provider: m.provider }, "bulk reconcile: provider lookup failed; will retry");
        continue;
      }
      if (found.length > 0) {
        const hit = found[0]!;
        await settleSend(d.db, orgId, r.message_id, { kind: "accepted", providerMessageId: hit.providerMessageId, status: hit.status === "queued" || hit.status === "accepted" ? "queued" : "sent", cost: null }, d.now());
        await setState("sent", "reconciled: the provider had it");
      } else {
        // The provider never received it: nothing was sent; send it now (same row, same key).
        await q(d).$executeRaw`update messages set error_code = 'transient:reconciled_not_sent', status_at = ${d.now()} where id = ${r.message_id}::uuid and status = 'QUEUED' and provider_message_id is null`;
        await setState("pending", "reconciled: the provider never received it");
      }
      continue;
    }
    await settleSend(d.db, orgId, r.message_id, { kind: "unknown", reason: "the worker stopped before the provider answered; resolved by the provider's delivery reports, never resent" }, d.now());
    await setState("unknown", "outcome_unknown: the worker stopped before the provider answered");
  }
}
