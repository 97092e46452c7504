// validateMessage on the seeded organizations: each error and warning from a concrete case,
// checked against the contact's row in SQL.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { validateMessage } from "../src/validate/message.ts";

const tdb = useTestDatabase();
const ORG = { id: DEMO_ORGS[0]!.id, defaultCountry: "NG" };
let db: Db;
// 12:00 UTC: 13:00 in Lagos, 15:00 in Nairobi (no quiet hours); 22:00 UTC: 23:00 in Lagos.
const NOON = new Date("2026-12-01T12:00:00Z");
const NIGHT = new Date("2026-12-01T22:00:00Z");
type Row = { id: string; phone: string; email: string | null; first_name: string | null; city: string | null };
let subscribed: Row;
let unsubscribed: Row;

beforeAll(async () => {
  db = openDb(tdb.url);
  [subscribed] = await db.$queryRawUnsafe<Row[]>(
    `select id, phone, email, first_name, city from contacts where organization_id = $1 and status = 'ACTIVE' and consent_sms = 'SUBSCRIBED' and phone like '+234%' and first_name is not null and time_zone = 'Africa/Lagos' order by id limit 1`, ORG.id,
  ) as [Row];
  [unsubscribed] = await db.$queryRawUnsafe<Row[]>(`select id, phone, email, first_name, city from contacts where organization_id = $1 and consent_sms = 'UNSUBSCRIBED' and phone is not null order by id limit 1`, ORG.id) as [Row];
});
afterAll(async () => {
  await db?.$disconnect();
});

const codes = (v: { errors: Array<{ code: string }> }) => v.errors.map((e) => e.code);
const wcodes = (v: { warnings: Array<{ code: string }> }) => v.warnings.map((e) => e.code);

describe("validateMessage", () => {
  it("a subscribed contact by id: ok, merge fields from the contact, GSM-7 in one segment, costs per SMS provider", async () => {
    const v = await validateMessage(db, ORG, { channel: "SMS", contactId: subscribed.id, text: "Hi {{first_name}}, 10% off today" }, { now: NOON });
    expect(v.errors).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.content.text).toBe(`Hi ${subscribed.first_name}, 10% off today`);
    expect(v.recipient).toEqual({ address: subscribed.phone, country: "NG", numberType: expect.any(String), contactId: subscribed.id });
    expect([v.sms?.encoding, v.sms?.segments]).toEqual(["GSM-7", 1]);
    expect(v.costs.map((c) => [c.provider, c.total.amount, c.total.currency]).sort()).toEqual([["africastalking", "4.0000", "NGN"], ["twilio", "0.2700", "USD"]]);
    expect(v.reachable).toBe(true);
  });

  it("the same contact by its phone typed locally finds the contact", async () => {
    const local = "0" + subscribed.phone.slice(4);
    const v = await validateMessage(db, ORG, { channel: "SMS", to: local, text: "Hi" }, { now: NOON });
    expect(v.recipient.contactId).toBe(subscribed.id);
  });

  it("an unsubscribed contact: not_reachable, saying why and what to do", async () => {
    const v = await validateMessage(db, ORG, { channel: "SMS", contactId: unsubscribed.id, text: "Hi" }, { now: NOON });
    expect(codes(v)).toContain("not_reachable");
    expect(v.errors.find((e) => e.code === "not_reachable")!.message).toContain("unsubscribed");
  });

  it("quiet hours at 23:00 in Lagos, with the next allowed instant (08:00 Lagos = 07:00 UTC)", async () => {
    const v = await validateMessage(db, ORG, { channel: "SMS", contactId: subscribed.id, text: "Hi" }, { now: NIGHT });
    expect(codes(v)).toEqual(["quiet_hours"]);
    expect(v.quiet).toMatchObject({ zone: "Africa/Lagos", localTime: "23:00", quiet: true });
    expect(v.quiet.allowedAt?.toISOString()).toBe("2026-12-02T07:00:00.000Z");
  });

  it("a missing merge field is an error unless it has a default; a declared default fills it", async () => {
    const bad = await validateMessage(db, ORG, { channel: "SMS", contactId: subscribed.id, text: "Hi {{nickname}}" }, { now: NOON });
    expect(codes(bad)).toEqual(["missing_field"]);
    const good = await validateMessage(db, ORG, { channel: "SMS", contactId: subscribed.id, text: 'Hi {{ nickname | "friend" }}, code {{code}}', variables: { code: "SAVE10" } }, { now: NOON });
    expect(good.ok).toBe(true);
    expect(good.content.text).toBe("Hi friend, code SAVE10");
  });

  it("UCS-2 and multipart are warnings with the characters to replace; over 10 segments is an error", async () => {
    const v = await validateMessage(db, ORG, { channel: "SMS", contactId: subscribed.id, text: "Ẹ ku abọ! " + "x".repeat(70) }, { now: NOON });
    expect(v.ok).toBe(true);
    expect(wcodes(v)).toEqual(["ucs2", "multipart"]);
    expect(v.sms).toMatchObject({ encoding: "UCS-2", segments: 2 });
    const long = await validateMessage(db, ORG, { channel: "SMS", contactId: subscribed.id, text: "x".repeat(153 * 10 + 1) }, { now: NOON });
    expect(codes(long)).toEqual(["too_long"]);
  });

  it("bad addresses: an invalid number, a fixed line, an email without a domain; no recipient at all", async () => {
    expect(codes(await validateMessage(db, ORG, { channel: "SMS", to: "+23480312", text: "Hi" }, { now: NOON }))).toEqual(["invalid_number"]);
    expect(codes(await validateMessage(db, ORG, { channel: "SMS", to: "+2342012345678", text: "Hi" }, { now: NOON }))).toEqual(["not_mobile"]);
    expect(codes(await validateMessage(db, ORG, { channel: "EMAIL", to: "ada@", subject: "S", text: "Hi" }, { now: NOON }))).toEqual(["invalid_address"]);
    expect(codes(await validateMessage(db, ORG, { channel: "SMS", text: "Hi" }, { now: NOON }))).toEqual(["no_recipient"]);
    expect(codes(await validateMessage(db, ORG, { channel: "SMS", contactId: randomUUID(), text: "Hi" }, { now: NOON }))).toEqual(["unknown_contact"]);
  });

  it("an address that is no contact: a warning that no consent is on record", async () => {
    const v = await validateMessage(db, ORG, { channel: "SMS", to: "+2348069990001", text: "Hi" }, { now: NOON });
    expect(v.ok).toBe(true);
    expect(wcodes(v)).toContain("no_consent_record");
  });

  it("WhatsApp free text with the window closed is an error naming the template; a template passes", async () => {
    const [c] = await db.$queryRawUnsafe<Row[]>(`select id from contacts where organization_id = $1 and status = 'ACTIVE' and consent_whatsapp = 'SUBSCRIBED' and phone like '+234%' and time_zone = 'Africa/Lagos' order by id limit 1`, ORG.id);
    const far = new Date("2028-06-01T12:00:00Z");
    const text = await validateMessage(db, ORG, { channel: "WHATSAPP", contactId: c!.id, text: "Hi" }, { now: far });
    expect(codes(text)).toEqual(["window_closed"]);
    expect(text.whatsapp).toEqual({ windowOpen: false, lastInboundAt: null, templateRequired: true });
    const tpl = await validateMessage(db, ORG, { channel: "WHATSAPP", contactId: c!.id, whatsappTemplate: { name: "promo", language: "en", params: [] } }, { now: far });
    expect(tpl.ok).toBe(true);
  });

  it("email: subject and a part are required; HTML-only is a warning; HTML values are escaped", async () => {
    expect(codes(await validateMessage(db, ORG, { channel: "EMAIL", to: "x@example.com", text: "Hi" }, { now: NOON }))).toEqual(["no_subject"]);
    const v = await validateMessage(db, ORG, { channel: "EMAIL", to: "x@example.com", subject: "Hello", html: "<p>{{code}}</p>", variables: { code: "<b>" } }, { now: NIGHT });
    expect(v.ok).toBe(true); // at 22:00 UTC: quiet hours are not enforced for email
    expect(wcodes(v)).toContain("no_text_part");
    expect(v.content.html).toBe("<p>&lt;b&gt;</p>");
  });
});
