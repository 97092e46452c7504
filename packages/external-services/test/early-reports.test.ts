// Delivery reports that arrive before the send is settled: held, then applied at settle (in report
// time order, by the live rules), once per report key, not after the TTL, never lost when settle
// and report race (settle on one pool, reports on another: two processes), and an unsigned
// provider's report still needs the number we sent to.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { claimSend, requestHash, settleSend } from "../src/send/ledger.ts";
import { applyStatusReport, type StatusReport } from "../src/webhooks/status.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!.id;
const TO = "+254700000101";
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

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const at = (sec: number) => new Date(T0 + sec * 1000);

async function claimed(provider = "twilio"): Promise<string> {
  const text = `Hello ${randomUUID()}`;
  const c = await claimSend(db, {
    orgId: A, key: randomUUID(), hash: requestHash({ channel: "SMS", to: TO, text }), channel: "SMS", recipient: TO, sender: null, contactId: null, body: text,
    provider, segments: 1, sandbox: true, templateId: null, now: at(0),
  });
  if (!c.claimed) throw new Error("not claimed");
  return c.messageId;
}
const accepted = (pid: string, status: "sent" | "queued" = "sent") => ({ kind: "accepted" as const, providerMessageId: pid, status, cost: null });
const pidOf = (p = "SM") => `${p}${randomUUID().replace(/-/g, "")}`;
const report = (pid: string, status: StatusReport["status"], sec: number, over: Partial<StatusReport> = {}): StatusReport => ({
  provider: "twilio", providerMessageId: pid, status, at: at(sec), providerStatus: status, reportKey: `${pid}:${status}`, ...over,
});
const history = async (id: string) =>
  db.$queryRawUnsafe<Array<{ type: string; late: string | null; key: string | null }>>(
    `select type::text, detail->>'late' as late, detail->>'report_key' as key from message_events where message_id = $1::uuid order by id`, id,
  );
const types = async (id: string) => (await history(id)).map((h) => h.type);
const row = async (id: string) =>
  (await db.$queryRawUnsafe<Array<{ status: string; error_code: string | null; pid: string | null }>>(`select status::text, error_code, provider_message_id as pid from messages where id = $1::uuid`, id))[0]!;
const pending = async (pid: string) =>
  (await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from pending_status_reports where provider_message_id = $1`, pid))[0]!.n;

describe("delivery reports before the send is settled", () => {
  it("a report before settle is held, then applied at settle: DELIVERED, events in order, the returned row is after it", async () => {
    const id = await claimed();
    const pid = pidOf();
    expect(await applyStatusReport(db, report(pid, "delivered", 2))).toEqual({ found: false, duplicate: false, status: null, advanced: false, messageId: null, held: true });
    expect(await pending(pid)).toBe(1);
    expect(await types(id)).toEqual(["QUEUED"]);
    const m = await settleSend(db, A, id, accepted(pid), at(1));
    expect(m).toMatchObject({ id, status: "DELIVERED", providerMessageId: pid, statusAt: at(2) });
    expect(await types(id)).toEqual(["QUEUED", "SENT", "DELIVERED"]);
    expect(await pending(pid)).toBe(0);
    // The provider's retry after the settle is a duplicate of the applied report.
    expect(await applyStatusReport(db, report(pid, "delivered", 2))).toMatchObject({ found: true, duplicate: true, held: false, status: "DELIVERED" });
  });

  it("several early reports are applied in report time order, by the live rules (forward only, late kept)", async () => {
    const id = await claimed();
    const pid = pidOf();
    // Arrival order: delivered (t=3), then failed (t=5), then sent (t=2).
    await applyStatusReport(db, report(pid, "delivered", 3));
    await applyStatusReport(db, report(pid, "failed", 5, { code: "30003" }));
    await applyStatusReport(db, report(pid, "sent", 2));
    const m = await settleSend(db, A, id, accepted(pid, "queued"), at(1));
    expect(m.status).toBe("DELIVERED");
    // Settle QUEUED (no event); then sent (t=2) advances, delivered (t=3) advances, failed (t=5) is late.
    expect(await history(id)).toEqual([
      { type: "QUEUED", late: null, key: null },
      { type: "SENT", late: null, key: `${pid}:sent` },
      { type: "DELIVERED", late: null, key: `${pid}:delivered` },
      { type: "FAILED", late: "true", key: `${pid}:failed` },
    ]);
    expect((await row(id)).error_code).toBeNull();
  });

  it("a retried early report is held once and applied once", async () => {
    const id = await claimed();
    const pid = pidOf();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => applyStatusReport(i % 2 ? db : db2, report(pid, "delivered", 2))));
    expect(results.every((r) => r.held && !r.found)).toBe(true);
    expect(results.filter((r) => !r.duplicate).length).toBe(1);
    expect(await pending(pid)).toBe(1);
    await settleSend(db, A, id, accepted(pid), at(1));
    expect(await types(id)).toEqual(["QUEUED", "SENT", "DELIVERED"]);
  });

  it("a held report older than the TTL is not applied (and is deleted)", async () => {
    const id = await claimed();
    const pid = pidOf();
    await applyStatusReport(db, report(pid, "failed", 2, { code: "30005" }));
    await db.$executeRawUnsafe(`update pending_status_reports set received_at = now() - interval '11 minutes' where provider_message_id = $1`, pid);
    const m = await settleSend(db, A, id, accepted(pid), at(1));
    expect(m.status).toBe("SENT");
    expect(await types(id)).toEqual(["QUEUED", "SENT"]);
    expect(await pending(pid)).toBe(0);
  });

  it("expired held reports are deleted when another report is held; fresh ones stay", async () => {
    const old = pidOf();
    const fresh = pidOf();
    await applyStatusReport(db, report(old, "delivered", 1));
    await applyStatusReport(db, report(fresh, "delivered", 1));
    await db.$executeRawUnsafe(`update pending_status_reports set received_at = now() - interval '11 minutes' where provider_message_id = $1`, old);
    expect(await applyStatusReport(db, report(pidOf(), "delivered", 1))).toMatchObject({ held: true });
    expect(await pending(old)).toBe(0);
    expect(await pending(fresh)).toBe(1);
  });

  it("an Africa's Talking report held with a wrong recipient is not applied at settle; the right one is", async () => {
    const id = await claimed("africastalking");
    const pid = `ATXid_${randomUUID()}`;
    const at_ = (status: StatusReport["status"], word: string, recipient: string, sec: number): StatusReport => ({
      provider: "africastalking", providerMessageId: pid, status, providerStatus: word, at: at(sec), reportKey: `${pid}:${word}:0:${recipient}`, recipient,
      code: status === "failed" ? "Forged" : null, reason: status === "failed" ? "Forged" : null,
    });
    expect(await applyStatusReport(db, at_("failed", "Failed", "+254799999999", 2))).toMatchObject({ held: true });
    expect(await applyStatusReport(db, at_("delivered", "Success", TO, 3))).toMatchObject({ held: true });
    const m = await settleSend(db, A, id, accepted(pid), at(1));
    expect(m.status).toBe("DELIVERED");
    expect(await types(id)).toEqual(["QUEUED", "SENT", "DELIVERED"]);
    expect(await pending(pid)).toBe(0);
  });

  it("a wrong-recipient report for a settled message is not held (nothing will ever match it)", async () => {
    const id = await claimed("africastalking");
    const pid = `ATXid_${randomUUID()}`;
    await settleSend(db, A, id, accepted(pid), at(1));
    const forged: StatusReport = { provider: "africastalking", providerMessageId: pid, status: "failed", providerStatus: "Failed", at: at(2), reportKey: `${pid}:Failed:0`, recipient: "+254799999999" };
    expect(await applyStatusReport(db, forged)).toEqual({ found: false, duplicate: false, status: null, advanced: false, messageId: null, held: false });
    expect(await pending(pid)).toBe(0);
    expect((await row(id)).status).toBe("SENT");
  });

  it("settle inside the caller's transaction applies held reports in it (and a rollback keeps them held)", async () => {
    const id = await claimed();
    const pid = pidOf();
    await applyStatusReport(db, report(pid, "delivered", 2));
    await expect(
      db.$transaction(async (tx) => {
        const m = await settleSend(tx, A, id, accepted(pid), at(1));
        expect(m.status).toBe("DELIVERED");
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await pending(pid)).toBe(1);
    expect((await row(id)).status).toBe("QUEUED");
    const m = await db.$transaction((tx) => settleSend(tx, A, id, accepted(pid), at(1)));
    expect(m.status).toBe("DELIVERED");
    expect(await types(id)).toEqual(["QUEUED", "SENT", "DELIVERED"]);
  });

  it("transient, failed and unknown outcomes claim nothing", async () => {
    const id = await claimed();
    const pid = pidOf();
    await applyStatusReport(db, report(pid, "delivered", 2));
    expect((await settleSend(db, A, id, { kind: "unknown", reason: "timeout" }, at(1))).status).toBe("OUTCOME_UNKNOWN");
    expect(await pending(pid)).toBe(1);
  });

  it("50 races of settle (one process) and its report (another): the report is never lost, and applied once", async () => {
    for (let i = 0; i < 50; i++) {
      const id = await claimed();
      const pid = pidOf();
      // Alternate which starts first; a few microtask/timer jitters so both interleavings occur.
      const settle = () => settleSend(db, A, id, accepted(pid), at(1));
      const deliver = async () => {
        if (i % 3 === 1) await new Promise((r) => setImmediate(r));
        return applyStatusReport(db2, report(pid, "delivered", 2));
      };
      const [m, r] = i % 2 ? await Promise.all([settle(), deliver()]) : await Promise.all([deliver(), settle()]).then(([a, b]) => [b, a] as const);
      expect(r.found || r.held).toBe(true);
      expect((await row(id)).status, `iteration ${i} (report ${r.held ? "held" : "applied"}, settle returned ${m.status})`).toBe("DELIVERED");
      expect(await types(id)).toEqual(["QUEUED", "SENT", "DELIVERED"]);
      expect(await pending(pid)).toBe(0);
    }
  });

  it("50 races where settle runs in a longer caller transaction (uncommitted while the report arrives)", async () => {
    for (let i = 0; i < 50; i++) {
      const id = await claimed();
      const pid = pidOf();
      let reported: Promise<unknown> | undefined;
      await db.$transaction(async (tx) => {
        if (i % 2) reported = applyStatusReport(db2, report(pid, "delivered", 2));
        await settleSend(tx, A, id, accepted(pid), at(1));
        if (!(i % 2)) reported = applyStatusReport(db2, report(pid, "delivered", 2));
        // Still uncommitted for a moment: the report waits for our lock or was held before it.
        await new Promise((r) => setTimeout(r, 2));
      });
      await reported;
      expect((await row(id)).status, `iteration ${i}`).toBe("DELIVERED");
      expect(await types(id)).toEqual(["QUEUED", "SENT", "DELIVERED"]);
      expect(await pending(pid)).toBe(0);
    }
  });
});
