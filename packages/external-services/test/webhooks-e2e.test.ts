// A message end to end in sandbox mode, for each provider: claimed in the ledger, sent through the
// provider's real SDK to its emulator, settled; the emulator's signed delivery reports and STOP
// replies go through the production receivers (verify, parse) and are applied to the database.
// Forged or tampered requests are refused and write nothing.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { africasTalkingProvider } from "../src/providers/africastalking.ts";
import { twilioProvider } from "../src/providers/twilio.ts";
import { whatsAppProvider } from "../src/providers/whatsapp.ts";
import type { Provider, SignedRequest } from "../src/providers/types.ts";
import { startAfricasTalkingEmulator } from "../src/sandbox/africastalking-emulator.ts";
import { startTwilioEmulator } from "../src/sandbox/twilio-emulator.ts";
import { startWhatsAppEmulator } from "../src/sandbox/whatsapp-emulator.ts";
import { claimSend, requestHash, settleSend } from "../src/send/ledger.ts";
import { applyInbound } from "../src/webhooks/inbound.ts";
import { receiveAfricasTalking, receiveTwilio, receiveWhatsApp, whatsAppVerify, type Received } from "../src/webhooks/receive.ts";
import { applyStatusReport } from "../src/webhooks/status.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!.id;
const PUBLIC = "https://mcp.example.test";
const AT_TOKEN = "at-callback-token-0123456789abcdef";
const TW = { accountSid: `AC${"a".repeat(32)}`, authToken: "twilio-test-token" };
const WA = { accessToken: "wa-test-token", appSecret: "wa-app-secret", phoneNumberId: "109876543210" };
const FROM = "+15005550006";
let db: Db;
const refused: Array<Received & { ok: false }> = [];

async function apply(r: Received) {
  if (!r.ok) {
    refused.push(r);
    return;
  }
  for (const rep of r.reports) await applyStatusReport(db, rep);
  for (const m of r.inbound) await applyInbound(db, m);
}
// Webhooks are applied as they arrive (the emulator waits for each before its next one of that
// message), also before our settle has written the provider's message id (the emulators report
// 5 ms after accepting): such an early report is held and applied when the send settles.
const sink = (handle: (req: SignedRequest) => Received) => async (req: SignedRequest) => {
  await apply(handle(req));
};

const at = startAfricasTalkingEmulator({
  username: "sandbox", apiKey: "at-test-key", reportDelayMs: 5, shortCode: "20880",
  deliveryReportUrl: `${PUBLIC}/webhooks/africastalking/${AT_TOKEN}/delivery`, inboundUrl: `${PUBLIC}/webhooks/africastalking/${AT_TOKEN}/inbound`,
  deliver: sink((req) => {
    const [, , , token, kind] = new URL(req.url).pathname.split("/");
    return receiveAfricasTalking(req, { token: AT_TOKEN, pathToken: token!, kind: kind as "delivery" | "inbound", now: new Date() });
  }),
});
const tw = startTwilioEmulator({
  ...TW, reportDelayMs: 5, inboundUrl: `${PUBLIC}/webhooks/twilio/inbound`,
  deliver: sink((req) => receiveTwilio(req, { authToken: TW.authToken, kind: req.url.endsWith("/inbound") ? "inbound" : "status", now: new Date() })),
});
const wa = startWhatsAppEmulator({ ...WA, reportDelayMs: 5, webhookUrl: `${PUBLIC}/webhooks/whatsapp`, deliver: sink((req) => receiveWhatsApp(req, { appSecret: WA.appSecret, now: new Date() })) });

type Emus = { at: Awaited<typeof at>; tw: Awaited<typeof tw>; wa: Awaited<typeof wa> };
let emu: Emus;
let providers: { at: Provider; tw: Provider; wa: Provider };

beforeAll(async () => {
  db = openDb(tdb.url);
  emu = { at: await at, tw: await tw, wa: await wa };
  providers = {
    at: africasTalkingProvider({ username: "sandbox", apiKey: "at-test-key", baseUrl: emu.at.url, sandbox: true }),
    tw: twilioProvider({ ...TW, from: FROM, baseUrl: emu.tw.url, sandbox: true }),
    wa: whatsAppProvider({ accessToken: WA.accessToken, phoneNumberId: WA.phoneNumberId, baseUrl: emu.wa.url, sandbox: true }),
  };
  await db.$executeRawUnsafe(
    `insert into sender_identities (organization_id, channel, provider, sender, is_default) values ($1, 'SMS', 'africastalking', '20880', true), ($1, 'SMS', 'twilio', $2, true), ($1, 'WHATSAPP', 'whatsapp', $3, true)`,
    A, FROM, WA.phoneNumberId,
  );
});
afterAll(async () => {
  await Promise.all([emu?.at.close(), emu?.tw.close(), emu?.wa.close()]);
  await db?.$disconnect();
});

async function contactWith(phone: string): Promise<string> {
  const id = randomUUID();
  await db.$executeRawUnsafe(`insert into contacts (id, organization_id, phone, first_name, country, time_zone) values ($1, $2, $3, 'Test', 'KE', 'Africa/Nairobi')`, id, A, phone);
  for (const ch of ["SMS", "WHATSAPP"]) {
    await db.$executeRawUnsafe(`insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at) values ($1, $2, $3::"Channel", 'SUBSCRIBED', 'test', now() - interval '1 day')`, A, id, ch);
  }
  return id;
}

async function send(p: Provider, name: string, channel: "SMS" | "WHATSAPP", to: string, contactId: string | null) {
  const text = `Hello from ${name}`;
  const c = await claimSend(db, {
    orgId: A, key: randomUUID(), hash: requestHash({ channel, to, text }), channel, recipient: to, sender: null, contactId, body: text, provider: name, segments: 1, sandbox: true, templateId: null, now: new Date(),
  });
  if (!c.claimed) throw new Error("not claimed");
  const out = await p.send({ to, text, idempotencyKey: randomUUID(), statusCallbackUrl: `${PUBLIC}/webhooks/twilio/status` }, { timeoutMs: 5000 });
  const m = await settleSend(db, A, c.messageId, out, new Date());
  return { id: c.messageId, out, m };
}
/** Every webhook the emulators have sent so far has been applied. */
const settle = async () => {
  await Promise.all([emu.at.idle(), emu.tw.idle(), emu.wa.idle()]);
};
const held = async () => (await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from pending_status_reports`))[0]!.n;
const row = async (id: string) => (await db.$queryRawUnsafe<Array<{ status: string; error_code: string | null }>>(`select status::text, error_code from messages where id = $1::uuid`, id))[0]!;
const types = async (id: string) => (await db.$queryRawUnsafe<Array<{ type: string }>>(`select type::text from message_events where message_id = $1::uuid order by id`, id)).map((e) => e.type);
const consent = async (id: string) => (await db.$queryRawUnsafe<Array<{ sms: string; wa: string }>>(`select consent_sms::text as sms, consent_whatsapp::text as wa from contacts where id = $1::uuid`, id))[0]!;

describe("sandbox end to end: send → signed report → database", () => {
  it.each([["at", "africastalking"], ["tw", "twilio"]] as const)("%s: delivered, and undelivered with the provider's reason", async (k, name) => {
    const ok = await send(providers[k], name, "SMS", "+254700000001", null);
    const bad = await send(providers[k], name, "SMS", "+254700000002", null);
    await settle();
    expect((await row(ok.id)).status).toBe("DELIVERED");
    expect(await types(ok.id)).toContain("DELIVERED");
    expect((await row(bad.id)).status).toBe("FAILED");
    expect((await row(bad.id)).error_code).toBeTruthy();
    // Reports that beat the settle were held and applied by it: none is left waiting.
    expect(await held()).toBe(0);
  });

  it("whatsapp: inside the window (the contact wrote first), delivered", async () => {
    await emu.wa.receive("+254711110001", "Hi, is the sale on?");
    await settle();
    const c = await contactWith("+254711110001");
    const r = await send(providers.wa, "whatsapp", "WHATSAPP", "+254711110001", c);
    expect(r.out.kind).toBe("accepted");
    await settle();
    expect((await row(r.id)).status).toBe("DELIVERED");
  });

  it.each([["at", "africastalking", "SMS", "+254722220007", "sms"], ["tw", "twilio", "SMS", "+254733330007", "sms"]] as const)(
    "%s: a STOP reply (%s) opts the contact out of SMS",
    async (k, name, channel, phone, field) => {
      const c = await contactWith(phone);
      expect((await consent(c))[field]).toBe("SUBSCRIBED");
      await send(providers[k], name, channel, phone, c);
      await settle();
      expect((await consent(c))[field]).toBe("UNSUBSCRIBED");
    },
  );

  it("whatsapp: a STOP reply opts the contact out of WhatsApp", async () => {
    const phone = "+254744440007";
    await emu.wa.receive(phone, "hello");
    await settle();
    const c = await contactWith(phone);
    await send(providers.wa, "whatsapp", "WHATSAPP", phone, c);
    await settle();
    expect((await consent(c)).wa).toBe("UNSUBSCRIBED");
    expect(refused).toEqual([]);
  });
});

describe("forged and tampered webhooks are refused", () => {
  const twReq = (body: string, sig?: string): SignedRequest => ({ method: "POST", url: `${PUBLIC}/webhooks/twilio/status`, headers: sig ? { "x-twilio-signature": sig } : {}, body });
  it("twilio: no signature 401, a wrong one 403, a tampered body 403", async () => {
    const real = emu.tw.webhooks.find((w: { request: SignedRequest }) => w.request.url.endsWith("/status"))?.request as SignedRequest;
    expect(real).toBeTruthy();
    expect(receiveTwilio(twReq(real.body), { authToken: TW.authToken, kind: "status", now: new Date() })).toMatchObject({ ok: false, status: 401 });
    expect(receiveTwilio(twReq(real.body, "bm90IGl0"), { authToken: TW.authToken, kind: "status", now: new Date() })).toMatchObject({ ok: false, status: 403 });
    const sig = Object.entries(real.headers).find(([h]) => h.toLowerCase() === "x-twilio-signature")![1];
    expect(receiveTwilio(twReq(real.body.replace(/MessageStatus=\w+/, "MessageStatus=failed"), sig), { authToken: TW.authToken, kind: "status", now: new Date() })).toMatchObject({ ok: false, status: 403 });
    expect(receiveTwilio(real, { authToken: TW.authToken, kind: "status", now: new Date() }).ok).toBe(true);
  });

  it("whatsapp: a body changed after signing 403; the verify handshake echoes only for our token", () => {
    const real = emu.wa.webhooks.map((w: { request: SignedRequest }) => w.request).find((r: SignedRequest) => r.body.includes('"delivered"')) as SignedRequest;
    expect(receiveWhatsApp(real, { appSecret: WA.appSecret, now: new Date() }).ok).toBe(true);
    expect(receiveWhatsApp({ ...real, body: real.body.replace("delivered", "failed") }, { appSecret: WA.appSecret, now: new Date() })).toMatchObject({ ok: false, status: 403 });
    expect(receiveWhatsApp({ ...real, headers: {} }, { appSecret: WA.appSecret, now: new Date() })).toMatchObject({ ok: false, status: 401 });
    expect(whatsAppVerify(new URLSearchParams("hub.mode=subscribe&hub.verify_token=ours&hub.challenge=42"), "ours")).toEqual({ status: 200, body: "42" });
    expect(whatsAppVerify(new URLSearchParams("hub.mode=subscribe&hub.verify_token=theirs&hub.challenge=42"), "ours").status).toBe(403);
  });

  it("africa's talking: a wrong path token 403; a report naming another number matches no message and writes nothing", async () => {
    const r = await send(providers.at, "africastalking", "SMS", "+254755550001", null);
    await settle();
    const body = new URLSearchParams({ id: r.m.providerMessageId!, status: "Failed", phoneNumber: "+254755550001", failureReason: "Forged" }).toString();
    const req: SignedRequest = { method: "POST", url: `${PUBLIC}/webhooks/africastalking/wrong/delivery`, headers: {}, body };
    expect(receiveAfricasTalking(req, { token: AT_TOKEN, pathToken: "wrong", kind: "delivery", now: new Date() })).toMatchObject({ ok: false, status: 403 });
    const other = receiveAfricasTalking({ ...req, body: body.replace("%2B254755550001", "%2B254799999999") }, { token: AT_TOKEN, pathToken: AT_TOKEN, kind: "delivery", now: new Date() });
    expect(other.ok).toBe(true);
    if (other.ok) expect(await applyStatusReport(db, other.reports[0]!)).toMatchObject({ found: false, held: false });
    expect((await row(r.id)).status).toBe("DELIVERED");
  });
});
