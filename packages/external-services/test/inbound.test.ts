// Inbound messages: the receiving number chooses the organization; STOP opts the contact out (the
// consent trigger applies it); duplicates and numbers not ours write nothing.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { isReachable } from "@marketsage/domain";
import { applyInbound, isStop, type InboundMessage } from "../src/webhooks/inbound.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!.id;
const B = DEMO_ORGS[1]!.id;
let db: Db;
let contact: { id: string; phone: string };
beforeAll(async () => {
  db = openDb(tdb.url);
  await db.$executeRawUnsafe(`insert into sender_identities (organization_id, channel, provider, sender, is_default) values ($1, 'SMS', 'africastalking', '12345', true), ($2, 'SMS', 'africastalking', '67890', true), ($1, 'WHATSAPP', 'whatsapp', 'pn-a', true), ($1, 'SMS', 'twilio', '+15550001111', true), ($2, 'SMS', 'twilio', '+15550001111', true)`, A, B);
  [contact] = await db.$queryRawUnsafe<Array<{ id: string; phone: string }>>(
    `select id, phone from contacts where organization_id = $1 and status = 'ACTIVE' and phone is not null and consent_sms = 'SUBSCRIBED' and consent_whatsapp = 'SUBSCRIBED' and email is not null order by id limit 1`, A,
  ) as [{ id: string; phone: string }];
});
afterAll(async () => {
  await db?.$disconnect();
});

const inbound = (over: Partial<InboundMessage>): InboundMessage => ({ channel: "SMS", provider: "africastalking", providerMessageId: randomUUID(), from: contact.phone, to: "12345", text: "hello", at: new Date("2026-12-01T10:00:00Z"), ...over });
const state = async () =>
  (await db.$queryRawUnsafe<Array<{ status: "ACTIVE"; email: string; phone: string; consent_email: "SUBSCRIBED"; consent_sms: "SUBSCRIBED" | "UNSUBSCRIBED"; consent_whatsapp: "SUBSCRIBED" | "UNSUBSCRIBED" }>>(
    `select status::text as status, email, phone, consent_email::text as consent_email, consent_sms::text as consent_sms, consent_whatsapp::text as consent_whatsapp from contacts where id = $1::uuid`, contact.id,
  ))[0]!;

describe("inbound messages", () => {
  it.each([["STOP", true], ["stop", true], [" Stop! ", true], ["unsubscribe", true], ["STOP ALL", false], ["STOPALL", true], ["opt out", true], ["please stop", false], ["Sitisha", true], ["hello", false]])("isStop(%j) = %s", (t, stop) => {
    expect(isStop(t as string)).toBe(stop);
  });

  it("a message is recorded once for the receiving number's organization, linked to the contact", async () => {
    const m = inbound({ text: "What time do you open?" });
    const first = await applyInbound(db, m);
    expect(first).toMatchObject({ organizationId: A, duplicate: false, contactId: contact.id, optedOut: false });
    expect(await applyInbound(db, m)).toMatchObject({ duplicate: true, messageId: first.messageId });
    const [row] = await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from messages where provider_message_id = $1`, m.providerMessageId);
    expect(row!.n).toBe(1);
  });

  it("STOP on SMS: a consent event opts the contact out of SMS only; the shared rule then says unreachable", async () => {
    const before = await state();
    expect(isReachable({ ...before, consent: { EMAIL: before.consent_email, SMS: before.consent_sms, WHATSAPP: before.consent_whatsapp } }, "SMS")).toBe(true);
    expect(await applyInbound(db, inbound({ text: "STOP" }))).toMatchObject({ optedOut: true, organizationId: A });
    const after = await state();
    expect([after.consent_sms, after.consent_whatsapp]).toEqual(["UNSUBSCRIBED", "SUBSCRIBED"]);
    const [ev] = await db.$queryRawUnsafe<Array<{ source: string; action: string }>>(`select source, action::text from consent_events where contact_id = $1::uuid order by id desc limit 1`, contact.id);
    expect(ev).toEqual({ source: "inbound_sms", action: "UNSUBSCRIBED" });
  });

  it("STOP on WhatsApp opts out of WhatsApp", async () => {
    expect(await applyInbound(db, inbound({ channel: "WHATSAPP", provider: "whatsapp", to: "pn-a", text: "stop" }))).toMatchObject({ optedOut: true });
    expect((await state()).consent_whatsapp).toBe("UNSUBSCRIBED");
  });

  it("to a number that is not ours, or shared by two organizations: nothing written", async () => {
    const [before] = await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from messages where direction = 'INBOUND'`);
    expect((await applyInbound(db, inbound({ to: "99999", text: "STOP" }))).organizationId).toBeNull();
    expect((await applyInbound(db, inbound({ provider: "twilio", to: "+15550001111", text: "STOP" }))).organizationId).toBeNull();
    const [after] = await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from messages where direction = 'INBOUND'`);
    expect(after!.n).toBe(before!.n);
  });

  it("a shared number: the organization that last sent this person a message from it in 30 days (a reply answers it)", async () => {
    const phone = "+254799990101";
    const c = randomUUID();
    await db.$executeRawUnsafe(`insert into contacts (id, organization_id, phone, country, time_zone) values ($1, $2, $3, 'KE', 'Africa/Nairobi')`, c, B, phone);
    const out = (org: string, at: string) =>
      db.$executeRawUnsafe(`insert into messages (id, organization_id, channel, direction, recipient, sender, provider, status, created_at) values ($1, $2, 'SMS', 'OUTBOUND', $3, '+15550001111', 'twilio', 'SENT', $4)`, randomUUID(), org, phone, new Date(at));
    const reply = inbound({ provider: "twilio", to: "+15550001111", from: phone, text: "STOP", at: new Date("2026-12-01T10:00:00Z") });
    await out(A, "2026-10-01T10:00:00Z"); // 61 days before: too old
    expect((await applyInbound(db, { ...reply, providerMessageId: randomUUID() })).organizationId).toBeNull();
    await out(B, "2026-11-30T09:00:00Z");
    await out(A, "2026-11-29T09:00:00Z");
    expect(await applyInbound(db, reply)).toMatchObject({ organizationId: B, contactId: c, optedOut: true });
  });

  it("B's number with A's contact's phone: recorded for B with no contact, and opts nobody out", async () => {
    const r = await applyInbound(db, inbound({ to: "67890", text: "STOP" }));
    expect(r).toMatchObject({ organizationId: B, contactId: null, optedOut: false });
  });
});
