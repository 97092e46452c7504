// recipientState against the seeded contacts and hand-written SQL.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { recipientState } from "../src/queries/recipient.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!.id;
const B = DEMO_ORGS[1]!.id;
let db: Db;
beforeAll(() => {
  db = openDb(tdb.url);
});
afterAll(async () => {
  await db?.$disconnect();
});

type C = { id: string; phone: string; email: string | null; status: string; consent_sms: string | null; consent_whatsapp: string | null; time_zone: string };

describe("a send's recipient", () => {
  it("by contact id, by phone and by email: the same contact; reachable exactly when ACTIVE, addressed and SUBSCRIBED (SQL)", async () => {
    const rows = await db.$queryRawUnsafe<C[]>(
      `(select id, phone, email, status::text, consent_sms::text, consent_whatsapp::text, time_zone from contacts where organization_id = $1 and phone is not null and consent_sms = 'SUBSCRIBED' and status = 'ACTIVE' limit 3)
       union all (select id, phone, email, status::text, consent_sms::text, consent_whatsapp::text, time_zone from contacts where organization_id = $1 and phone is not null and (consent_sms is distinct from 'SUBSCRIBED' or status <> 'ACTIVE') limit 3)`,
      A,
    );
    expect(rows.length).toBe(6);
    for (const r of rows) {
      const sql = r.status === "ACTIVE" && r.consent_sms === "SUBSCRIBED";
      const byId = await recipientState(db, A, { channel: "SMS", contactId: r.id, now: tdb.now });
      const byPhone = await recipientState(db, A, { channel: "SMS", address: r.phone, now: tdb.now });
      expect(byId.contact?.id).toBe(r.id);
      expect(byPhone.contact?.id).toBe(r.id);
      expect([byId.reachable, byPhone.reachable]).toEqual([sql, sql]);
      expect(byId.contact?.timeZone).toBe(r.time_zone);
      expect(byId.contact?.consent ?? null).toBe(r.consent_sms);
    }
  });

  it("an address that is no contact: no contact, reachability unknown", async () => {
    const s = await recipientState(db, A, { channel: "SMS", address: "+2348000000001", now: tdb.now });
    expect(s).toEqual({ contact: null, reachable: null, lastInboundAt: null, windowOpen: false });
  });

  it("another organization's contact is not found, by id or by address", async () => {
    const [r] = await db.$queryRawUnsafe<C[]>(`select id, phone from contacts where organization_id = $1 and phone is not null limit 1`, A);
    expect((await recipientState(db, B, { channel: "SMS", contactId: r!.id, now: tdb.now })).contact).toBeNull();
    expect((await recipientState(db, B, { channel: "SMS", address: r!.phone, now: tdb.now })).contact).toBeNull();
  });

  it("WhatsApp: the window is open for 24 h after the contact's last inbound message, and only then", async () => {
    const [r] = await db.$queryRawUnsafe<C[]>(`select id, phone from contacts where organization_id = $1 and phone is not null order by id limit 1`, A);
    const at = new Date(tdb.now.getTime() + 3_600_000 * 24 * 400); // far after any seeded message
    const before = await recipientState(db, A, { channel: "WHATSAPP", contactId: r!.id, now: at });
    expect(before.windowOpen).toBe(false);
    const inboundAt = new Date(at.getTime() - 23 * 3_600_000);
    await db.$executeRawUnsafe(
      `insert into messages (id, organization_id, contact_id, channel, direction, recipient, sender, body, status, created_at) values ($1, $2, $3, 'WHATSAPP', 'INBOUND', '+2349000000000', $4, 'hi', 'RECEIVED', $5)`,
      randomUUID(), A, r!.id, r!.phone, inboundAt,
    );
    const open = await recipientState(db, A, { channel: "WHATSAPP", contactId: r!.id, now: at });
    expect([open.windowOpen, open.lastInboundAt?.toISOString()]).toEqual([true, inboundAt.toISOString()]);
    expect((await recipientState(db, A, { channel: "WHATSAPP", address: r!.phone, now: at })).windowOpen).toBe(true);
    const closed = await recipientState(db, A, { channel: "WHATSAPP", contactId: r!.id, now: new Date(inboundAt.getTime() + 24 * 3_600_000 + 1) });
    expect(closed.windowOpen).toBe(false);
  });
});
