// Twilio through the official SDK (twilio 6.3.1, no mocks) against the local emulator: each
// sandbox outcome of the test-recipient table, signed status callbacks in order and checked with
// the SDK's own validateRequest, the inbound STOP, the timeout, wrong credentials and the balance.
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import twilio from "twilio";
import { twilioProvider } from "../src/providers/twilio.ts";
import type { OutgoingMessage, Provider, SignedRequest } from "../src/providers/types.ts";
import { startTwilioEmulator, type TwilioEmulator } from "../src/sandbox/twilio-emulator.ts";

const ACCOUNT_SID = "AC" + "0123456789abcdef".repeat(2);
const AUTH_TOKEN = "tok_" + "f".repeat(28);
const FROM = "+15005550006";
const CALLBACK = "https://hooks.example.test/webhooks/twilio/status?tenant=t1";
const INBOUND = "https://hooks.example.test/webhooks/twilio/inbound";

let emu: TwilioEmulator;
let provider: Provider;
const received: SignedRequest[] = [];

function msg(to: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return { to, text: "Hello from MarketSage", idempotencyKey: `k-${to}-${Math.random()}`, statusCallbackUrl: CALLBACK, ...extra };
}

function form(r: SignedRequest): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(r.body));
}

function forSid(sid: string): Record<string, string>[] {
  return received.filter((r) => r.url === CALLBACK).map(form).filter((f) => f.MessageSid === sid);
}

beforeAll(async () => {
  emu = await startTwilioEmulator({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    deliver: async (r) => {
      received.push(r);
    },
    inboundUrl: INBOUND,
    reportDelayMs: 5,
    balance: { amount: "20.0000", currency: "USD" },
  });
  provider = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: emu.url, sandbox: true });
});

afterAll(async () => {
  await emu?.close();
});

describe("twilio emulator + provider (real SDK)", () => {
  it("listens on 127.0.0.1", () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("delivered (…0001): accepted as queued, then signed callbacks queued → sent → delivered", async () => {
    const out = await provider.send(msg("+15551230001"), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    if (out.kind !== "accepted") return;
    expect(out.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(out.status).toBe("queued");
    expect(out.cost).toBeNull();

    // The wire request the SDK made.
    const req = emu.requests.find((r) => r.path.endsWith("/Messages.json") && r.params.To === "+15551230001");
    expect(req).toMatchObject({ method: "POST", path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, authorized: true, status: 201 });
    expect(req?.params).toEqual({ To: "+15551230001", From: FROM, Body: "Hello from MarketSage", StatusCallback: CALLBACK });

    await emu.idle();
    const reports = forSid(out.providerMessageId);
    expect(reports.map((f) => f.MessageStatus)).toEqual(["queued", "sent", "delivered"]);
    expect(reports.map((f) => f.SmsStatus)).toEqual(["queued", "sent", "delivered"]);
    expect(reports[2]).toEqual({
      SmsSid: out.providerMessageId,
      SmsStatus: "delivered",
      MessageStatus: "delivered",
      To: "+15551230001",
      MessageSid: out.providerMessageId,
      AccountSid: ACCOUNT_SID,
      From: FROM,
      ApiVersion: "2010-04-01",
    });

    // Every callback is signed as Twilio signs: the SDK's validateRequest accepts it.
    const signed = received.filter((r) => r.url === CALLBACK && form(r).MessageSid === out.providerMessageId);
    expect(signed).toHaveLength(3);
    for (const r of signed) {
      expect(r.method).toBe("POST");
      expect(r.headers["content-type"]).toBe("application/x-www-form-urlencoded; charset=utf-8");
      const sig = r.headers["x-twilio-signature"]!;
      expect(sig).toMatch(/^[A-Za-z0-9+/]{27}=$/); // base64 of a 20-byte HMAC-SHA1
      expect(twilio.validateRequest(AUTH_TOKEN, sig, r.url, form(r))).toBe(true);
      // The same, computed by hand: HMAC-SHA1(token, url + sorted key+value pairs), base64.
      const f = form(r);
      const data = Object.keys(f).sort().reduce((acc, k) => acc + k + f[k], r.url);
      expect(sig).toBe(createHmac("sha1", AUTH_TOKEN).update(data, "utf8").digest("base64"));
      // A wrong token, a tampered body, or another URL are rejected.
      expect(twilio.validateRequest("wrong-token", sig, r.url, form(r))).toBe(false);
      expect(twilio.validateRequest(AUTH_TOKEN, sig, r.url, { ...form(r), MessageStatus: "failed" })).toBe(false);
      expect(twilio.validateRequest(AUTH_TOKEN, sig, r.url.replace("t1", "t2"), form(r))).toBe(false);
    }

    // The message resource now: delivered, priced, the balance decremented by the price.
    const sdk = twilio(ACCOUNT_SID, AUTH_TOKEN, {
      httpClient: new (await import("../src/providers/twilio.ts")).OriginRewritingRequestClient(emu.url, { timeout: 2000 }),
    });
    const m = await sdk.messages(out.providerMessageId).fetch();
    expect(m.status).toBe("delivered");
    expect(m.price).toBe("-0.0075");
    expect(m.priceUnit).toBe("USD");
    expect(m.numSegments).toBe("1");
    expect(m.to).toBe("+15551230001");
    expect(m.from).toBe(FROM);
    expect(m.direction).toBe("outbound-api");
    expect(m.dateSent).toBeInstanceOf(Date);
    expect(m.errorCode).toBeNull();
  });

  it("undelivered (…0002): accepted, then queued → sent → undelivered with ErrorCode 30003", async () => {
    const out = await provider.send(msg("+2348030000002"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "accepted", status: "queued", cost: null });
    if (out.kind !== "accepted") return;
    await emu.idle();
    const reports = forSid(out.providerMessageId);
    expect(reports.map((f) => f.MessageStatus)).toEqual(["queued", "sent", "undelivered"]);
    expect(reports[2]?.ErrorCode).toBe("30003");
    expect(reports[0]?.ErrorCode).toBeUndefined();
    const m = emu.message(out.providerMessageId);
    expect(m).toMatchObject({ status: "undelivered", errorCode: 30003, errorMessage: "Unreachable destination handset", price: null });
  });

  it("rejected (…0003): definite unsubscribed (Twilio 21610), nothing sent", async () => {
    const before = emu.messages().length;
    const out = await provider.send(msg("+254700000003"), { timeoutMs: 2000 });
    expect(out).toEqual({ kind: "definite", code: "opted_out", reason: "the recipient has unsubscribed (replied STOP) or is blocked at Twilio (Twilio 21610)" });
    expect(emu.messages().length).toBe(before);
    expect(emu.requests.at(-1)?.status).toBe(400);
  });

  it("invalid_number (…0004): definite invalid_number (Twilio 21211)", async () => {
    const out = await provider.send(msg("+27820000004"), { timeoutMs: 2000 });
    expect(out).toEqual({ kind: "definite", code: "invalid_number", reason: "Twilio says the 'To' number is invalid (Twilio 21211)" });
  });

  it("the SDK raises Twilio's own RestException shape for the emulator's errors", async () => {
    const sdk = twilio(ACCOUNT_SID, AUTH_TOKEN, {
      httpClient: new (await import("../src/providers/twilio.ts")).OriginRewritingRequestClient(emu.url, { timeout: 2000 }),
    });
    const err = await sdk.messages.create({ to: "+27820000004", from: FROM, body: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(err).toMatchObject({ status: 400, code: 21211, message: "Invalid 'To' Phone Number", moreInfo: "https://www.twilio.com/docs/errors/21211" });
  });

  it("provider_error (…0005): transient http_500, nothing sent", async () => {
    const before = emu.messages().length;
    const out = await provider.send(msg("+15551230005"), { timeoutMs: 2000 });
    expect(out).toEqual({
      kind: "transient",
      code: "http_500",
      reason: "Twilio failed on its side (Twilio 20500, HTTP 500): An internal server error has occurred",
    });
    expect(emu.messages().length).toBe(before);
  });

  it("no_answer (…0006): unknown within about timeoutMs", async () => {
    const t0 = Date.now();
    const out = await provider.send(msg("+15551230006"), { timeoutMs: 300 });
    const took = Date.now() - t0;
    expect(out.kind).toBe("unknown");
    expect(out).toEqual({ kind: "unknown", reason: "no answer from Twilio in time (ECONNABORTED)" });
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(5000);
    // The emulator did receive it (it may have been sent: never resend blindly).
    expect(emu.requests.filter((r) => r.params.To === "+15551230006").map((r) => r.status)).toEqual([null]);
  });

  it("stop_reply (…0007): delivered, then a signed inbound STOP; the number is then refused with 21610", async () => {
    const out = await provider.send(msg("+15551230007"), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    if (out.kind !== "accepted") return;
    await emu.idle();
    expect(forSid(out.providerMessageId).map((f) => f.MessageStatus)).toEqual(["queued", "sent", "delivered"]);
    const inbound = received.filter((r) => r.url === INBOUND);
    expect(inbound).toHaveLength(1);
    const f = form(inbound[0]!);
    expect(f).toMatchObject({ From: "+15551230007", To: FROM, Body: "STOP", AccountSid: ACCOUNT_SID, NumMedia: "0", NumSegments: "1", SmsStatus: "received", ApiVersion: "2010-04-01", OptOutType: "STOP" });
    expect(f.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(f.SmsSid).toBe(f.MessageSid);
    expect(twilio.validateRequest(AUTH_TOKEN, inbound[0]!.headers["x-twilio-signature"]!, INBOUND, f)).toBe(true);
    expect(twilio.validateRequest(AUTH_TOKEN, inbound[0]!.headers["x-twilio-signature"]!, INBOUND, { ...f, Body: "START" })).toBe(false);

    const again = await provider.send(msg("+15551230007"), { timeoutMs: 2000 });
    expect(again).toMatchObject({ kind: "definite", code: "opted_out" });
  });

  it("a message with no StatusCallback gets no callbacks; a long UCS-2 body counts its segments", async () => {
    const text = "Привет! ".repeat(20); // 160 UTF-16 units → 3 segments of 67
    const out = await provider.send(msg("+15551239999", { statusCallbackUrl: undefined, text }), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    if (out.kind !== "accepted") return;
    await emu.idle();
    expect(received.filter((r) => form(r).MessageSid === out.providerMessageId)).toEqual([]);
    expect(emu.message(out.providerMessageId)).toMatchObject({ status: "delivered", numSegments: 3, price: "-0.0225" });
  });

  it("a Messaging Service send: Twilio answers accepted, the provider reports queued", async () => {
    const svc = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, messagingServiceSid: "MG" + "a".repeat(32), baseUrl: emu.url, sandbox: true });
    const out = await svc.send(msg("+15551238888"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "accepted", status: "queued", cost: null });
    const req = emu.requests.at(-1);
    expect(req?.params).toEqual({ To: "+15551238888", MessagingServiceSid: "MG" + "a".repeat(32), Body: "Hello from MarketSage", StatusCallback: CALLBACK });
    await emu.idle();
    if (out.kind !== "accepted") return;
    expect(forSid(out.providerMessageId).map((f) => [f.MessageStatus, f.MessagingServiceSid, f.From])).toEqual([
      ["queued", "MG" + "a".repeat(32), "+15017122661"],
      ["sent", "MG" + "a".repeat(32), "+15017122661"],
      ["delivered", "MG" + "a".repeat(32), "+15017122661"],
    ]);
  });

  it("wrong auth token: definite auth_failed (Twilio 20003), the token never in the reason; the emulator answers 401", async () => {
    const bad = twilioProvider({ accountSid: ACCOUNT_SID, authToken: "not-the-token", from: FROM, baseUrl: emu.url, sandbox: true });
    const out = await bad.send(msg("+15551230001"), { timeoutMs: 2000 });
    expect(out).toEqual({ kind: "definite", code: "auth_failed", reason: "Twilio refused the account credentials (Twilio 20003)" });
    expect(JSON.stringify(out)).not.toContain("not-the-token");
    expect(emu.requests.at(-1)).toMatchObject({ authorized: false, status: 401 });
    await expect(bad.balance({ timeoutMs: 2000 })).rejects.toThrow("twilio balance: definite: Twilio refused the account credentials (Twilio 20003)");
  });

  it("nothing listening: transient unreachable (nothing was sent)", async () => {
    const gone = await startTwilioEmulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, deliver: async () => {} });
    const url = gone.url;
    await gone.close();
    const p = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: url, sandbox: true });
    const out = await p.send(msg("+15551230001"), { timeoutMs: 1000 });
    expect(out).toEqual({ kind: "transient", code: "unreachable", reason: "could not connect to Twilio (ECONNREFUSED): nothing was sent" });
  });

  it("balance: the Balance API through the SDK, decremented by each delivered message's price", async () => {
    await emu.idle();
    // Delivered so far: …0001 (1 segment), …0007 (1), …9999 (3), …8888 (1) = 6 × 0.0075 = 0.0450.
    const b = await provider.balance({ timeoutMs: 2000 });
    expect(b).toEqual({ amount: "19.9550", currency: "USD" });
    expect(emu.balance()).toEqual({ amount: "19.9550", currency: "USD" });
    const req = emu.requests.at(-1);
    expect(req).toMatchObject({ method: "GET", path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Balance.json`, status: 200 });
  });

  it("close() ends a hanging request and pending callbacks", async () => {
    const e2 = await startTwilioEmulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, deliver: async () => {}, reportDelayMs: 10_000 });
    const p = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: e2.url, sandbox: true });
    const accepted = await p.send(msg("+15551230001"), { timeoutMs: 2000 });
    expect(accepted.kind).toBe("accepted");
    const hanging = p.send(msg("+15551230006"), { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await e2.close();
    const out = await hanging;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(out).toEqual({ kind: "unknown", reason: "the connection to Twilio dropped (ECONNRESET)" });
    expect(e2.webhooks).toEqual([]);
  });

  it.each([
    [429, "application/json", JSON.stringify({ code: 20429, message: "Too Many Requests", more_info: "https://www.twilio.com/docs/errors/20429", status: 429 }), { kind: "transient", code: "rate_limited", reason: "Twilio failed on its side (Twilio 20429, HTTP 429): Too Many Requests" }],
    [503, "text/html", "<html>Service Unavailable</html>", { kind: "transient", code: "http_503", reason: "Twilio failed on its side (HTTP 503): [HTTP 503] Failed to execute request" }],
    [400, "application/json", JSON.stringify({ code: 21606, message: "The From phone number +15005550006 is not a valid, SMS-capable inbound phone number or short code for your account.", more_info: "https://www.twilio.com/docs/errors/21606", status: 400 }), { kind: "definite", code: "invalid_sender", reason: "the 'From' number is not a valid, SMS-capable Twilio number for this account (Twilio 21606)" }],
    [400, "application/json", JSON.stringify({ code: 21617, message: "The concatenated message body exceeds the 1600 character limit.", more_info: "https://www.twilio.com/docs/errors/21617", status: 400 }), { kind: "definite", code: "twilio_21617", reason: "Twilio refused the message (Twilio 21617, HTTP 400): The concatenated message body exceeds the 1600 character limit." }],
  ] as const)("HTTP %i from Twilio maps once (raw server with Twilio's answer)", async (status, type, body, expected) => {
    const srv = createServer((_req, res) => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      const p = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: url, sandbox: true });
      expect(await p.send(msg("+15551230001"), { timeoutMs: 2000 })).toEqual(expected);
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });
});
