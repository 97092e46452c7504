// Delivery reports from any provider, applied to the message they name (by the provider's message
// id: the report chooses no organization). Each report is recorded once (a provider's retry of the
// same report is a duplicate) and moves the message forward only:
//   QUEUED / OUTCOME_UNKNOWN → SENT → DELIVERED | FAILED   (DELIVERED and FAILED are final)
// A late "sent" after "delivered" is kept in the history (an event marked `late`) and changes
// nothing; "read" (WhatsApp) is an OPENED event and implies delivered. One transaction with the
// message row locked, so concurrent reports of one message are applied one at a time.
import type { Db } from "@marketsage/db";

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
  /** When the provider is unsigned (Africa's Talking): the report must name the number we sent to. */
  recipient?: string | undefined;
}

export interface AppliedReport {
  found: boolean;
  duplicate: boolean;
  /** The message's status after the report. */
  status: string | null;
  /** Whether the report moved the status. */
  advanced: boolean;
  messageId: string | null;
}

const RANK: Record<string, number> = { QUEUED: 0, OUTCOME_UNKNOWN: 0, SENT: 1, DELIVERED: 2, FAILED: 2 };
const TARGET: Record<ReportStatus, "QUEUED" | "SENT" | "DELIVERED" | "FAILED"> = { queued: "QUEUED", sent: "SENT", delivered: "DELIVERED", failed: "FAILED", read: "DELIVERED" };
const EVENT: Record<ReportStatus, "QUEUED" | "SENT" | "DELIVERED" | "FAILED" | "OPENED"> = { queued: "QUEUED", sent: "SENT", delivered: "DELIVERED", failed: "FAILED", read: "OPENED" };

export async function applyStatusReport(db: Db, r: StatusReport): Promise<AppliedReport> {
  return db.$transaction(async (tx) => {
    const [m] = await tx.$queryRaw<Array<{ id: string; organization_id: string; status: string }>>`
      select id, organization_id, status::text as status from messages
       where provider = ${r.provider} and provider_message_id = ${r.providerMessageId} and direction = 'OUTBOUND'
         and (${r.recipient ?? null}::text is null or recipient = ${r.recipient ?? null})
       order by created_at desc limit 1 for update`;
    if (!m) return { found: false, duplicate: false, status: null, advanced: false, messageId: null };
    const [seen] = await tx.$queryRaw<Array<{ n: number }>>`
      select count(*)::int as n from message_events where message_id = ${m.id}::uuid and detail->>'report_key' = ${r.reportKey}`;
    if (seen!.n > 0) return { found: true, duplicate: true, status: m.status, advanced: false, messageId: m.id };
    const target = TARGET[r.status];
    const from = RANK[m.status] ?? 0;
    const advanced = RANK[target]! > from;
    const detail = { report_key: r.reportKey, provider_status: r.providerStatus, code: r.code ?? null, reason: r.reason ?? null, ...(advanced || r.status === "read" ? {} : { late: true }) };
    const insert = (type: string, d: Record<string, unknown>) => tx.$executeRaw`
      insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
      select organization_id, id, campaign_id, variant_id, contact_id, channel, ${type}::"MessageEventType", ${r.at}, ${JSON.stringify(d)}::jsonb
        from messages where id = ${m.id}::uuid`;
    // "read" before any "delivered": the delivery is implied and recorded first.
    if (r.status === "read" && advanced) await insert("DELIVERED", { ...detail, report_key: `${r.reportKey}:implied`, implied_by: "read" });
    await insert(EVENT[r.status], detail);
    if (!advanced) return { found: true, duplicate: false, status: m.status, advanced: false, messageId: m.id };
    await tx.$executeRaw`
      update messages set status = ${target}::"MessageStatus", status_at = ${r.at},
             error_code = case when ${target} = 'FAILED' then ${r.code ?? "failed"} else error_code end,
             error_reason = case when ${target} = 'FAILED' then ${r.reason ?? null} else error_reason end
       where id = ${m.id}::uuid`;
    return { found: true, duplicate: false, status: target, advanced: true, messageId: m.id };
  });
}
