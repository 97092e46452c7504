// The official africastalking SDK against the local emulator (no SDK mocks): every sandbox outcome,
// cost and balance, refusals, timeouts, dropped connections, delivery reports and the STOP reply.
import { createRequire } from "node:module";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { africasTalkingProvider, parseAtMoney } from "../src/providers/africastalking.ts";
import { startAfricasTalkingEmulator, type AfricasTalkingEmulator } from "../src/sandbox/africastalking-emulator.ts";
import type { Provider, SignedRequest } from "../src/providers/types.ts";

const USERNAME = "marketsage-test";
const API_KEY = "atsk_test_0123456789abcdef";
const DLR_URL = "https://hooks.example.test/webhooks/africastalking/delivery?token=s3cret";
const INBOUND_URL = "https://hooks.example.test/webhooks/africastalking/inbound?token=s3cret";

const KE = (suffix: string) => `+25471100${suffix}`; // +254 711 00xxxx
const NG = (suffix: string) => `+234803000${suffix}`; // +234 803 000 xxxx

let emu: AfricasTalkingEmulator;
let received: SignedRequest[];
let provider: Provider;

const msg = (to: string, text = "Hello from MarketSage") => ({ to, text, idempotencyKey: `k-${to}-${Math.random()}` });
const fields = (r: SignedRequest) => Object.fromEntries(new URLSearchParams(r.body));

beforeEach(async () => {
  received = [];
  emu = await startAfricasTalkingEmulator({
    username: USERNAME,
    apiKey: API_KEY,
    deliver: async (r) => {
      received.push(r);
    },
    deliveryReportUrl: DLR_URL,
    inboundUrl: INBOUND_URL,
    reportDelayMs: 10,
  });
  provider = africasTalkingProvider({ username: USERNAME, apiKey: API_KEY, from: "MARKETSAGE", baseUrl: emu.url, sandbox: true });
});

afterEach(async () => {
  await emu.close();
});

describe("africastalking provider against the emulator", () => {
  it("delivered: accepted with AT's message id and cost, the balance decremented, reports Submitted then Success", async () => {
    const out = await provider.send(msg(KE("0001")), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    if (out.kind !== "accepted") throw new Error("unreachable");
    expect(out.providerMessageId).toMatch(/^ATXid_[0-9a-f]{32}$/);
    expect(out.status).toBe("sent");
    expect(out.cost).toEqual({ amount: "0.8000", currency: "KES" });
    expect(emu.balance()).toEqual({ amount: "1233.7000", currency: "KES" });

    // What the SDK put on the wire.
    const sent = emu.requests.find((r) => r.path === "/version1/messaging")!;
    expect(sent.method).toBe("POST");
    expect(sent.authorized).toBe(true);
    expect(sent.status).toBe(201);
    expect(sent.params).toMatchObject({ username: USERNAME, to: KE("0001"), message: "Hello from MarketSage", from: "MARKETSAGE", bulkSMSMode: "1" });

    await emu.idle();
    expect(received.map((r) => r.url)).toEqual([DLR_URL, DLR_URL]);
    expect(received.every((r) => r.method === "POST" && r.headers["content-type"] === "application/x-www-form-urlencoded")).toBe(true);
    expect(fields(received[0]!)).toEqual({ id: out.providerMessageId, status: "Submitted", phoneNumber: KE("0001"), networkCode: "63902", retryCount: "0" });
    expect(fields(received[1]!)).toEqual({ id: out.providerMessageId, status: "Success", phoneNumber: KE("0001"), networkCode: "63902", retryCount: "0" });
    // AT does not sign its callbacks.
    expect(Object.keys(received[0]!.headers)).toEqual(["content-type"]);
  });

  it("a Nigerian number costs NGN 2.2000 and the KES balance drops by its KES equivalent", async () => {
    const out = await provider.send(msg(NG("0001")), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "accepted", cost: { amount: "2.2000", currency: "NGN" } });
    expect(emu.balance()).toEqual({ amount: "1234.3130", currency: "KES" }); // 2.2 × 0.085 = 0.1870
  });

  it("undelivered: accepted, then a Failed report with failureReason", async () => {
    const out = await provider.send(msg(KE("0002")), { timeoutMs: 2000 });
    if (out.kind !== "accepted") throw new Error(`expected accepted, got ${JSON.stringify(out)}`);
    await emu.idle();
    expect(received.map((r) => fields(r).status)).toEqual(["Submitted", "Failed"]);
    expect(fields(received[1]!)).toEqual({
      id: out.providerMessageId,
      status: "Failed",
      phoneNumber: KE("0002"),
      networkCode: "63902",
      failureReason: "DeliveryFailure",
      retryCount: "0",
    });
  });

  it("rejected: definite UserInBlacklist (406), nothing charged, no reports", async () => {
    const out = await provider.send(msg(KE("0003")), { timeoutMs: 2000 });
    expect(out).toEqual({ kind: "definite", code: "opted_out", reason: expect.stringContaining("blacklisted") });
    expect(emu.balance().amount).toBe("1234.5000");
    await emu.idle();
    expect(received).toEqual([]);
  });

  it("invalid_number: definite InvalidPhoneNumber (403)", async () => {
    const out = await provider.send(msg(KE("0004")), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "invalid_number" });
    expect(emu.requests.at(-1)!.status).toBe(201);
  });

  it("a number the SDK itself refuses is definite InvalidPhoneNumber, and no request goes out", async () => {
    const out = await provider.send(msg("not-a-number"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "invalid_number" });
    expect(emu.requests).toHaveLength(0);
  });

  it("provider_error: HTTP 500 is transient", async () => {
    const out = await provider.send(msg(KE("0005")), { timeoutMs: 2000 });
    expect(out).toEqual({ kind: "transient", code: "http_500", reason: expect.stringContaining("500") });
    expect(emu.requests.at(-1)!.status).toBe(500);
    expect(emu.balance().amount).toBe("1234.5000");
  });

  it("no_answer: unknown within about timeoutMs, and the late close is ignored", async () => {
    const t0 = Date.now();
    const out = await provider.send(msg(KE("0006")), { timeoutMs: 300 });
    const took = Date.now() - t0;
    expect(out.kind).toBe("unknown");
    expect(out).toMatchObject({ reason: expect.stringContaining("300 ms") });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(5000);
    expect(emu.requests.at(-1)!.status).toBeNull();
  });

  it("a late answer is ignored: unknown at the timeout, though the message went out (reports reconcile it)", async () => {
    await emu.close();
    received = [];
    emu = await startAfricasTalkingEmulator({
      username: USERNAME,
      apiKey: API_KEY,
      deliver: async (r) => {
        received.push(r);
      },
      deliveryReportUrl: DLR_URL,
      reportDelayMs: 10,
      responseDelayMs: 2000,
    });
    const p = africasTalkingProvider({ username: USERNAME, apiKey: API_KEY, baseUrl: emu.url, sandbox: true });
    const t0 = Date.now();
    const out = await p.send(msg(KE("0001")), { timeoutMs: 150 });
    expect(out.kind).toBe("unknown");
    expect(Date.now() - t0).toBeLessThan(1900); // ended by the timeout, not by the answer
    // The emulator took and charged it; the answer that comes later changes nothing.
    await new Promise((r) => setTimeout(r, 2100));
    expect(out.kind).toBe("unknown");
    const [m] = emu.messages();
    expect(emu.messages()).toHaveLength(1);
    expect(emu.balance().amount).toBe("1233.7000");
    await emu.idle();
    expect(received.map((r) => fields(r))).toEqual([
      { id: m!.messageId, status: "Submitted", phoneNumber: KE("0001"), networkCode: "63902", retryCount: "0" },
      { id: m!.messageId, status: "Success", phoneNumber: KE("0001"), networkCode: "63902", retryCount: "0" },
    ]);
  });

  it("a connection dropped while waiting is unknown (not transient)", async () => {
    const p = provider.send(msg(KE("0006")), { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await emu.close();
    const out = await p;
    expect(out.kind).toBe("unknown");
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("a refused connection (nothing listening) is transient", async () => {
    const url = emu.url;
    await emu.close();
    const p2 = africasTalkingProvider({ username: USERNAME, apiKey: API_KEY, baseUrl: url, sandbox: true });
    const out = await p2.send(msg(KE("0001")), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "transient", code: "unreachable" });
  });

  it("stop_reply: delivered, then an inbound STOP from that number", async () => {
    const out = await provider.send(msg(KE("0007")), { timeoutMs: 2000 });
    if (out.kind !== "accepted") throw new Error(`expected accepted, got ${JSON.stringify(out)}`);
    await emu.idle();
    expect(received.map((r) => r.url)).toEqual([DLR_URL, DLR_URL, INBOUND_URL]);
    expect(fields(received[1]!)).toMatchObject({ id: out.providerMessageId, status: "Success" });
    const inbound = fields(received[2]!);
    expect(Object.keys(inbound).sort()).toEqual(["date", "from", "id", "linkId", "networkCode", "text", "to"]);
    expect(inbound).toMatchObject({ from: KE("0007"), to: "MARKETSAGE", text: "STOP" });
    expect(inbound.date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it("insufficient balance: definite InsufficientBalance (405), balance unchanged", async () => {
    await emu.close();
    emu = await startAfricasTalkingEmulator({
      username: USERNAME,
      apiKey: API_KEY,
      deliver: async () => undefined,
      balance: { amount: "1.0000", currency: "KES" },
    });
    const p = africasTalkingProvider({ username: USERNAME, apiKey: API_KEY, baseUrl: emu.url, sandbox: true });
    expect(await p.send(msg(KE("0001")), { timeoutMs: 2000 })).toMatchObject({ kind: "accepted" });
    expect(emu.balance()).toEqual({ amount: "0.2000", currency: "KES" });
    expect(await p.send(msg(KE("0001")), { timeoutMs: 2000 })).toEqual({
      kind: "definite",
      code: "insufficient_balance",
      reason: expect.stringContaining("balance"),
    });
    expect(emu.balance()).toEqual({ amount: "0.2000", currency: "KES" });
    expect(await p.balance({ timeoutMs: 2000 })).toEqual({ amount: "0.2000", currency: "KES" });
  });

  it("a wrong api key: HTTP 401, definite, and the reason does not leak the key", async () => {
    const wrong = "atsk_WRONG_key_987";
    const p = africasTalkingProvider({ username: USERNAME, apiKey: wrong, baseUrl: emu.url, sandbox: true });
    const out = await p.send(msg(KE("0001")), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "auth_failed" });
    expect(JSON.stringify(out)).not.toContain(wrong);
    expect(emu.requests.at(-1)).toMatchObject({ authorized: false, status: 401 });
    expect(emu.balance().amount).toBe("1234.5000");
    await expect(p.balance({ timeoutMs: 2000 })).rejects.toThrow(/credentials/);
  });

  it("a wrong username is refused the same way", async () => {
    const p = africasTalkingProvider({ username: "someone-else", apiKey: API_KEY, baseUrl: emu.url, sandbox: true });
    expect(await p.send(msg(KE("0001")), { timeoutMs: 2000 })).toMatchObject({ kind: "definite", code: "auth_failed" });
  });

  it("balance: the SDK's user-data call, reflecting each accepted message", async () => {
    expect(await provider.balance({ timeoutMs: 2000 })).toEqual({ amount: "1234.5000", currency: "KES" });
    const bal = emu.requests.find((r) => r.path === "/version1/user")!;
    expect(bal).toMatchObject({ method: "GET", authorized: true, status: 200, params: { username: USERNAME } });
    await provider.send(msg(KE("0001")), { timeoutMs: 2000 });
    await provider.send(msg(KE("0007")), { timeoutMs: 2000 });
    await provider.send(msg(KE("0003")), { timeoutMs: 2000 });
    expect(await provider.balance({ timeoutMs: 2000 })).toEqual({ amount: "1232.9000", currency: "KES" });
  });

  it("sandbox redirection does not leak into the SDK's process-global state", async () => {
    const req = createRequire(import.meta.url);
    const sdkRequire = createRequire(req.resolve("africastalking"));
    const common = sdkRequire("./lib/common") as Record<string, unknown>;
    const axios = sdkRequire("axios") as { defaults: { adapter?: unknown; signal?: unknown } };
    const adapterBefore = axios.defaults.adapter;
    // Even a client whose username is "sandbox" (the SDK then calls enableSandbox() globally).
    africasTalkingProvider({ username: "sandbox", apiKey: API_KEY, baseUrl: emu.url, sandbox: true });
    await provider.send(msg(KE("0001")), { timeoutMs: 2000 });
    await provider.balance({ timeoutMs: 2000 });
    expect(common.SMS_URL).toBe("https://api.africastalking.com/version1/messaging");
    expect(common.USER_URL).toBe("https://api.africastalking.com/version1/user");
    expect(axios.defaults.adapter).toBe(adapterBefore);
    expect(axios.defaults.signal).toBeUndefined();
  });

  it("parses AT's money strings", () => {
    expect(parseAtMoney("KES 0.8000")).toEqual({ amount: "0.8000", currency: "KES" });
    expect(parseAtMoney("NGN 2.2000")).toEqual({ amount: "2.2000", currency: "NGN" });
    expect(parseAtMoney("0")).toBeNull();
    expect(parseAtMoney("None")).toBeNull();
    expect(parseAtMoney(undefined)).toBeNull();
  });
});
