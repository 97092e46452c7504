// Unknown outcomes resolved by delivery reports: a report that names no message by id but names its
// recipient adopts the one OUTCOME_UNKNOWN message of that provider to that number (created in the
// last 15 minutes, no provider id) — never when two could be its owner (another unknown, or a send
// still in flight), never for another number or an older message; reports held before the unknown
// settle are adopted by the settle; concurrent reports adopt once. Twilio (To) and WhatsApp
// (recipient_id) name the recipient too, but Twilio's MessageSid stays authoritative.
import { createHmac, randomInt, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { claimSend, requestHash, settleSend } from "../src/send/ledger.ts";
import { receiveTwilio, receiveWhatsApp } from "../src/webhooks/receive.ts";
import { applyStatusReport, type StatusReport } from "../src/webhooks/status.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!.id;
const B = DEMO_ORGS[1]!.id;
let db: Db;
let db2: Db;
beforeAll(() => {
  db = openDb(tdb.url);
  db2 = openDb(tdb.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await db2?.$disconnect();
});

/** A number no other test uses (candidates are matched across the whole table). */
const number = () => `+2547${String(randomInt(0, 1e8)).padStart(8, "0")}`;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

async function claimed(provider: string, to: string, now = new Date(), org = A): Promise<string> {
  const text = `Hello ${randomUUID()}`;
  const c = await claimSend(db, {
    orgId: org, key: randomUUID(), hash: requestHash({ channel: "SMS", to, text }), channel: "SMS", recipient: to, sender: null, contactId: null, body: text,
    provider, segments: 1, sandbox: true, templateId: null, now,
  });
  if (!c.claimed) throw new Error("not claimed");
  return c.messageId;
}
const UNKNOWN = { kind: "unknown" as const, reason: "no answer within 8000 ms" };
async function unknownSent(provider: string, to: string, now = new Date(), org = A): Promise<string> {
  const id = await claimed(provider, to, now, org);
  const m = await settleSend(db, org, id, UNKNOWN, now);
  expect(m).toMatchObject({ status: "OUTCOME_UNKNOWN", providerMessageId: null });
  return id;
}

const AT_WORD = { sent: "Sent", delivered: "Success", failed: "Failed" } as const;
const atReport = (pid: string, status: keyof typeof AT_WORD, recipient: string, at = new Date()): StatusReport => ({
  provider: "africastalking", providerMessageId: pid, status, providerStatus: AT_WORD[status], at, reportKey: `${pid}:${AT_WORD[status]}:0`, recipient,
  code: status === "failed" ? "UserInBlacklist" : null, reason: status === "failed" ? "UserInBlacklist" : null,
});
const atPid = () => `ATXid_${randomUUID().replace(/-/g, "")}`;

const row = async (id: string) =>
  (await db.$queryRawUnsafe<Array<{ status: string; pid: string | null }>>(`select status::text, provider_message_id as pid from messages where id = $1::uuid`, id))[0]!;
const events = async (id: string) =>
  db.$queryRawUnsafe<Array<{ type: string; key: string | null; reconciled: string | null; late: string | null }>>(
    `select type::text, detail->>'report_key' as key, detail->>'reconciled' as reconciled, detail->>'late' as late from message_events where message_id = $1::uuid order by id`, id,
  );
const pending = async (pid: string) =>
  (await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from pending_status_reports where provider_message_id = $1`, pid))[0]!.n;

describe("an unknown outcome resolved by a report that names its recipient", () => {
  it("(1) an Africa's Talking report adopts the unknown message: the id is taken, the event marked reconciled; the next report applies by id", async () => {
    const to = number();
    const id = await unknownSent("africastalking", to);
    const pid = atPid();
    expect(await applyStatusReport(db, atReport(pid, "sent", to))).toEqual({
      found: true, duplicate: false, status: "SENT", advanced: true, messageId: id, held: false, reconciled: true,
    });
    expect(await row(id)).toEqual({ status: "SENT", pid });
    expect(await pending(pid)).toBe(0);
    const delivered = await applyStatusReport(db, atReport(pid, "delivered", to));
    expect(delivered).toEqual({ found: true, duplicate: false, status: "DELIVERED", advanced: true, messageId: id, held: false });
    expect(await row(id)).toEqual({ status: "DELIVERED", pid });
    expect(await events(id)).toEqual([
      { type: "QUEUED", key: null, reconciled: null, late: null },
      { type: "SENT", key: `${pid}:Sent:0`, reconciled: "true", late: null },
      { type: "DELIVERED", key: `${pid}:Success:0`, reconciled: null, late: null },
    ]);
    // The provider's retry is a duplicate of the applied report, matched by id.
    expect(await applyStatusReport(db, atReport(pid, "delivered", to))).toMatchObject({ found: true, duplicate: true, messageId: id });
  });

  it("(1b) the recipient is compared by its digits; a report straight to delivered resolves it too", async () => {
    const to = number();
    const id = await unknownSent("africastalking", to);
    const pid = atPid();
    expect(await applyStatusReport(db, atReport(pid, "delivered", to.slice(1)))).toMatchObject({ found: true, status: "DELIVERED", reconciled: true });
    expect(await row(id)).toEqual({ status: "DELIVERED", pid });
  });

  it("(2) two unknown messages to the same number in the window: ambiguous, nothing adopted, the report is held", async () => {
    const to = number();
    const a = await unknownSent("africastalking", to, minutesAgo(3));
    const b = await unknownSent("africastalking", to, minutesAgo(1), B);
    const pid = atPid();
    expect(await applyStatusReport(db, atReport(pid, "delivered", to))).toEqual({ found: false, duplicate: false, status: null, advanced: false, messageId: null, held: true });
    expect(await row(a)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });
    expect(await row(b)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });
    expect(await pending(pid)).toBe(1);
    expect((await events(a)).map((e) => e.type)).toEqual(["QUEUED"]);
  });

  it("(2b) an unknown message and a send still in flight to the same number: the in-flight send's early report is not adopted by the unknown", async () => {
    const to = number();
    const lost = await unknownSent("africastalking", to, minutesAgo(2));
    const inFlight = await claimed("africastalking", to);
    const pid = atPid();
    expect(await applyStatusReport(db, atReport(pid, "delivered", to))).toMatchObject({ found: false, held: true });
    expect(await row(lost)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });
    const m = await settleSend(db, A, inFlight, { kind: "accepted", providerMessageId: pid, status: "sent", cost: null }, new Date());
    expect(m).toMatchObject({ status: "DELIVERED", providerMessageId: pid });
    expect(await row(lost)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });
  });

  it("(3) a report for another recipient is not adopted", async () => {
    const to = number();
    const id = await unknownSent("africastalking", to);
    const pid = atPid();
    expect(await applyStatusReport(db, atReport(pid, "delivered", number()))).toMatchObject({ found: false, held: true });
    expect(await row(id)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });
    // Nor is a report of another provider to the right number.
    const twilio: StatusReport = { provider: "twilio", providerMessageId: `SM${randomUUID().replace(/-/g, "")}`, status: "delivered", providerStatus: "delivered", at: new Date(), reportKey: "x:delivered", recipient: to };
    expect(await applyStatusReport(db, twilio)).toMatchObject({ found: false, held: true });
    expect(await row(id)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });
  });

  it("(4) a message created more than 15 minutes before the report is not adopted; one created 14 minutes before is", async () => {
    const to = number();
    const old = await unknownSent("africastalking", to, minutesAgo(16));
    const pid = atPid();
    expect(await applyStatusReport(db, atReport(pid, "delivered", to))).toMatchObject({ found: false, held: true });
    expect(await row(old)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });

    const to2 = number();
    const recent = await unknownSent("africastalking", to2, minutesAgo(14));
    const pid2 = atPid();
    expect(await applyStatusReport(db, atReport(pid2, "delivered", to2))).toMatchObject({ found: true, reconciled: true, messageId: recent });
  });

  it("(5) a report held BEFORE settle records the unknown outcome is adopted at settle", async () => {
    const to = number();
    const id = await claimed("africastalking", to);
    const pid = atPid();
    // In flight: the report may be this send's early one — held, not adopted.
    expect(await applyStatusReport(db, atReport(pid, "sent", to))).toMatchObject({ found: false, held: true });
    expect(await applyStatusReport(db, atReport(pid, "delivered", to, new Date(Date.now() + 1000)))).toMatchObject({ found: false, held: true });
    expect(await row(id)).toEqual({ status: "QUEUED", pid: null });
    const m = await settleSend(db, A, id, UNKNOWN, new Date());
    expect(m).toMatchObject({ id, status: "DELIVERED", providerMessageId: pid });
    expect(await pending(pid)).toBe(0);
    expect(await events(id)).toEqual([
      { type: "QUEUED", key: null, reconciled: null, late: null },
      { type: "SENT", key: `${pid}:Sent:0`, reconciled: "true", late: null },
      { type: "DELIVERED", key: `${pid}:Success:0`, reconciled: "true", late: null },
    ]);
  });

  it("(5b) at settle: held reports naming two ids, or another candidate for them, adopt nothing", async () => {
    const to = number();
    const id = await claimed("africastalking", to);
    await applyStatusReport(db, atReport(atPid(), "delivered", to));
    await applyStatusReport(db, atReport(atPid(), "delivered", to));
    expect(await settleSend(db, A, id, UNKNOWN, new Date())).toMatchObject({ status: "OUTCOME_UNKNOWN", providerMessageId: null });

    const to2 = number();
    const earlier = await unknownSent("africastalking", to2, minutesAgo(5));
    const id2 = await claimed("africastalking", to2);
    const pid = atPid();
    await applyStatusReport(db, atReport(pid, "delivered", to2));
    expect(await settleSend(db, A, id2, UNKNOWN, new Date())).toMatchObject({ status: "OUTCOME_UNKNOWN", providerMessageId: null });
    expect(await row(earlier)).toEqual({ status: "OUTCOME_UNKNOWN", pid: null });
    expect(await pending(pid)).toBe(1);
  });

  it("(6) two different reports for one unknown message at once, 20 times: adopted once, DELIVERED, no duplicate events", async () => {
    for (let i = 0; i < 20; i++) {
      const to = number();
      const id = await unknownSent("africastalking", to);
      const pid = atPid();
      const sent = () => applyStatusReport(i % 2 ? db : db2, atReport(pid, "sent", to));
      const success = () => applyStatusReport(i % 2 ? db2 : db, atReport(pid, "delivered", to));
      const results = i % 4 < 2 ? await Promise.all([sent(), success()]) : await Promise.all([success(), sent()]);
      expect(results.every((r) => r.found && !r.held && r.messageId === id), `iteration ${i}`).toBe(true);
      expect(results.filter((r) => r.reconciled).length, `iteration ${i}`).toBe(1);
      expect(await row(id), `iteration ${i}`).toEqual({ status: "DELIVERED", pid });
      const e = await events(id);
      expect(e.map((x) => x.type).sort(), `iteration ${i}`).toEqual(["DELIVERED", "QUEUED", "SENT"]);
      expect(e.filter((x) => x.reconciled === "true").length).toBe(1);
      expect(await pending(pid)).toBe(0);
    }
  });

  it("(6b) the unknown settle (one process) racing its report (another), 20 times: the report is never lost", async () => {
    for (let i = 0; i < 20; i++) {
      const to = number();
      const id = await claimed("africastalking", to);
      const pid = atPid();
      const settle = () => settleSend(db, A, id, UNKNOWN, new Date());
      const report = async () => {
        if (i % 3 === 1) await new Promise((r) => setImmediate(r));
        return applyStatusReport(db2, atReport(pid, "delivered", to));
      };
      await (i % 2 ? Promise.all([settle(), report()]) : Promise.all([report(), settle()]));
      expect(await row(id), `iteration ${i}`).toEqual({ status: "DELIVERED", pid });
      expect((await events(id)).map((e) => e.type)).toEqual(["QUEUED", "DELIVERED"]);
      expect(await pending(pid)).toBe(0);
    }
  });
});

describe("Twilio and WhatsApp reports name the recipient", () => {
  const TOKEN = "twilio-auth-token";
  const URL_ = "https://example.test/webhooks/twilio/status";
  const twilioRequest = (fields: Record<string, string>) => {
    const data = Object.keys(fields).sort().reduce((acc, k) => acc + k + fields[k], URL_);
    return {
      method: "POST" as const, url: URL_, body: new URLSearchParams(fields).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": createHmac("sha1", TOKEN).update(data, "utf8").digest("base64") },
    };
  };
  const twilioReports = (fields: Record<string, string>) => {
    const r = receiveTwilio(twilioRequest(fields), { authToken: TOKEN, kind: "status", now: new Date() });
    if (!r.ok) throw new Error(r.reason);
    return r.reports;
  };

  it("(7) a Twilio status callback carries To and adopts the unknown message", async () => {
    const to = number();
    const id = await unknownSent("twilio", to);
    const sid = `SM${randomUUID().replace(/-/g, "")}`;
    const [r] = twilioReports({ MessageSid: sid, MessageStatus: "delivered", To: to, From: "+15005550006", AccountSid: "ACtest" });
    expect(r).toMatchObject({ provider: "twilio", providerMessageId: sid, status: "delivered", recipient: to });
    expect(await applyStatusReport(db, r!)).toMatchObject({ found: true, status: "DELIVERED", messageId: id, reconciled: true });
    expect(await row(id)).toEqual({ status: "DELIVERED", pid: sid });
  });

  it("(7b) Twilio's MessageSid stays authoritative: a settled message is matched by it whatever To says", async () => {
    const to = number();
    const id = await claimed("twilio", to);
    const sid = `SM${randomUUID().replace(/-/g, "")}`;
    await settleSend(db, A, id, { kind: "accepted", providerMessageId: sid, status: "sent", cost: null }, new Date());
    const [r] = twilioReports({ MessageSid: sid, MessageStatus: "delivered", To: number() });
    expect(await applyStatusReport(db, r!)).toMatchObject({ found: true, status: "DELIVERED", messageId: id });
    expect(await applyStatusReport(db, twilioReports({ MessageSid: sid, MessageStatus: "sent" })[0]!)).toMatchObject({ found: true, duplicate: false, advanced: false });
  });

  it("(8) a WhatsApp status carries recipient_id (digits without +) and adopts the unknown message", async () => {
    const to = number();
    const id = await unknownSent("whatsapp", to);
    const wamid = `wamid.${randomUUID().replace(/-/g, "")}`;
    const body = JSON.stringify({
      object: "whatsapp_business_account",
      entry: [{ id: "1", changes: [{ field: "messages", value: {
        messaging_product: "whatsapp", metadata: { phone_number_id: "109876543210" },
        statuses: [{ id: wamid, status: "delivered", timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: to.slice(1) }],
      } }] }],
    });
    const secret = "wa-app-secret";
    const got = receiveWhatsApp(
      { method: "POST", url: "https://example.test/webhooks/whatsapp", body, headers: { "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}` } },
      { appSecret: secret, now: new Date() },
    );
    if (!got.ok) throw new Error(got.reason);
    expect(got.reports[0]).toMatchObject({ provider: "whatsapp", providerMessageId: wamid, recipient: to });
    expect(await applyStatusReport(db, got.reports[0]!)).toMatchObject({ found: true, status: "DELIVERED", messageId: id, reconciled: true });
    expect(await row(id)).toEqual({ status: "DELIVERED", pid: wamid });
  });
});
