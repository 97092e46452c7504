// Delivery reports: once each, forward only, late ones kept in the history, concurrent ones serialized.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { applyStatusReport, type StatusReport } from "../src/webhooks/status.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!.id;
let db: Db;
beforeAll(() => {
  db = openDb(tdb.url);
});
afterAll(async () => {
  await db?.$disconnect();
});

async function message(status = "SENT"): Promise<{ id: string; pid: string }> {
  const id = randomUUID();
  const pid = `SM${randomUUID().replace(/-/g, "")}`;
  await db.$executeRawUnsafe(
    `insert into messages (id, organization_id, channel, direction, recipient, provider, provider_message_id, status, created_at) values ($1, $2, 'SMS', 'OUTBOUND', '+2348030000001', 'twilio', $3, $4::"MessageStatus", now())`,
    id, A, pid, status,
  );
  return { id, pid };
}
const report = (pid: string, status: StatusReport["status"], sec: number, over: Partial<StatusReport> = {}): StatusReport => ({
  provider: "twilio", providerMessageId: pid, status, at: new Date(Date.UTC(2026, 11, 1, 10, 0, sec)), providerStatus: status, reportKey: `${pid}:${status}`, ...over,
});
const history = (id: string) =>
  db.$queryRawUnsafe<Array<{ type: string; late: string | null }>>(`select type::text, detail->>'late' as late from message_events where message_id = $1::uuid order by id`, id);
const statusOf = async (id: string) => (await db.$queryRawUnsafe<Array<{ s: string; code: string | null }>>(`select status::text as s, error_code as code from messages where id = $1::uuid`, id))[0]!;

describe("delivery reports", () => {
  it("sent → delivered; a retried report is a duplicate; a late sent is history only", async () => {
    const m = await message();
    expect(await applyStatusReport(db, report(m.pid, "delivered", 2))).toMatchObject({ found: true, advanced: true, status: "DELIVERED", messageId: m.id });
    expect(await applyStatusReport(db, report(m.pid, "delivered", 2))).toMatchObject({ duplicate: true, advanced: false });
    expect(await applyStatusReport(db, report(m.pid, "sent", 1))).toMatchObject({ duplicate: false, advanced: false, status: "DELIVERED" });
    expect(await history(m.id)).toEqual([{ type: "DELIVERED", late: null }, { type: "SENT", late: "true" }]);
    expect((await statusOf(m.id)).s).toBe("DELIVERED");
  });

  it("failed is final and keeps its code; a delivered after it does not move it", async () => {
    const m = await message();
    await applyStatusReport(db, report(m.pid, "failed", 1, { code: "30003", reason: "Unreachable destination handset" }));
    await applyStatusReport(db, report(m.pid, "delivered", 2));
    expect(await statusOf(m.id)).toEqual({ s: "FAILED", code: "30003" });
  });

  it("a report resolves an unknown outcome; read implies delivered", async () => {
    const m = await message("OUTCOME_UNKNOWN");
    expect(await applyStatusReport(db, report(m.pid, "read", 5))).toMatchObject({ advanced: true, status: "DELIVERED" });
    expect((await history(m.id)).map((h) => h.type)).toEqual(["DELIVERED", "OPENED"]);
  });

  it("a report for no message of ours writes no event: it is held for a send that may not have settled yet", async () => {
    const [before] = await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from message_events`);
    expect(await applyStatusReport(db, report("SMnotours", "delivered", 1))).toEqual({ found: false, duplicate: false, status: null, advanced: false, messageId: null, held: true });
    const [after] = await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from message_events`);
    expect(after!.n).toBe(before!.n);
    const [held] = await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from pending_status_reports where provider = 'twilio' and provider_message_id = 'SMnotours'`);
    expect(held!.n).toBe(1);
  });

  it("20 concurrent copies of one report and a concurrent failed: one event each, one final status", async () => {
    const m = await message();
    const results = await Promise.all([...Array.from({ length: 20 }, () => applyStatusReport(db, report(m.pid, "delivered", 3))), applyStatusReport(db, report(m.pid, "failed", 4))]);
    expect(results.filter((r) => !r.duplicate).length).toBe(2);
    const h = await history(m.id);
    expect(h.filter((e) => e.type === "DELIVERED").length).toBe(1);
    expect(h.filter((e) => e.type === "FAILED").length).toBe(1);
    expect(["DELIVERED", "FAILED"]).toContain((await statusOf(m.id)).s);
    // Whichever came first wins: the other is recorded as late.
    expect(h.filter((e) => e.late === "true").length).toBe(1);
  });
});
