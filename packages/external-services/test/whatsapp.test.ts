// The WhatsApp Cloud API provider (plain fetch) against the local emulator on 127.0.0.1 (no mocks):
// each sandbox outcome, the 24-hour window (free text refused → window opened by an inbound
// message → accepted; templates accepted outside it), signed webhooks in the Cloud API shape.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SignedRequest } from "../src/providers/types.ts";
import { signWhatsApp, verifyWhatsAppSignature, whatsAppProvider, whatsAppRequestBody } from "../src/providers/whatsapp.ts";
import { startWhatsAppEmulator, type WhatsAppEmulator } from "../src/sandbox/whatsapp-emulator.ts";

const TOKEN = "EAAG-test-access-token";
const SECRET = "app-secret-123";
const PHONE_ID = "106540352242922";
const HOOK = "https://hooks.marketsage.test/whatsapp";

let emu: WhatsAppEmulator;
const received: SignedRequest[] = [];
let clock = Date.UTC(2026, 11, 2, 12, 0, 0);

beforeAll(async () => {
  emu = await startWhatsAppEmulator({
    accessToken: TOKEN,
    appSecret: SECRET,
    phoneNumberId: PHONE_ID,
    displayPhoneNumber: "15550001234",
    deliver: async (r) => {
      received.push(r);
    },
    webhookUrl: HOOK,
    reportDelayMs: 2,
    now: () => clock,
  });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  received.length = 0;
});

const provider = (over: Partial<Parameters<typeof whatsAppProvider>[0]> = {}) =>
  whatsAppProvider({ accessToken: TOKEN, phoneNumberId: PHONE_ID, baseUrl: emu.url, sandbox: true, ...over });

const text = (to: string, body = "Hello from MarketSage", key = `k-${to}`) => ({ to, text: body, idempotencyKey: key });
const tpl = (to: string, key = `t-${to}`) => ({ to, template: { name: "order_update", language: "en_US", params: ["Ada", "#1042"] }, idempotencyKey: key });

interface Hook {
  object: string;
  entry: Array<{
    id: string;
    changes: Array<{
      field: string;
      value: {
        messaging_product: string;
        metadata: { display_phone_number: string; phone_number_id: string };
        statuses?: Array<{ id: string; status: string; timestamp: string; recipient_id: string; biz_opaque_callback_data?: string; errors?: Array<{ code: number; title: string }> }>;
        messages?: Array<{ from: string; id: string; timestamp: string; type: string; text: { body: string } }>;
        contacts?: Array<{ wa_id: string; profile: { name: string } }>;
      };
    }>;
  }>;
}
const parse = (r: SignedRequest) => JSON.parse(r.body) as Hook;
const value = (r: SignedRequest) => parse(r).entry[0]!.changes[0]!.value;

describe("whatsapp provider + emulator", () => {
  it("identifies itself and has no balance API", async () => {
    const p = provider();
    expect([p.name, p.channel, p.sandbox]).toEqual(["whatsapp", "WHATSAPP", true]);
    expect(await p.balance({ timeoutMs: 100 })).toBeNull();
  });

  it("builds the Cloud API bodies for text and template", () => {
    expect(whatsAppRequestBody({ to: "+234 803 000 0001", text: "hi", idempotencyKey: "k" })).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "+2348030000001",
      biz_opaque_callback_data: "k",
      type: "text",
      text: { preview_url: false, body: "hi" },
    });
    expect(whatsAppRequestBody(tpl("+2348030000001", "t"))).toMatchObject({
      type: "template",
      template: { name: "order_update", language: { code: "en_US" }, components: [{ type: "body", parameters: [{ type: "text", text: "Ada" }, { type: "text", text: "#1042" }] }] },
    });
  });

  it("free text outside the window → definite window_closed; an inbound message opens it → accepted, sent → delivered", async () => {
    const to = "+2348031110001";
    const closed = await provider().send(text(to), { timeoutMs: 2000 });
    expect(closed).toMatchObject({ kind: "definite", code: "window_closed" });
    if (closed.kind === "definite") expect(closed.reason).toContain("template");
    expect(emu.requests[emu.requests.length - 1]).toMatchObject({ status: 400, errorCode: 131047 });

    await emu.receive(to, "Hi, is my order ready?");
    expect(received).toHaveLength(1);
    const inbound = value(received[0]!);
    expect(inbound.messages).toEqual([{ from: "2348031110001", id: expect.stringMatching(/^wamid\./), timestamp: String(Math.floor(clock / 1000)), type: "text", text: { body: "Hi, is my order ready?" } }]);
    expect(inbound.contacts?.[0]?.wa_id).toBe("2348031110001");
    received.length = 0;

    const out = await provider().send(text(to, "Yes, ready for pickup", "k-open"), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    if (out.kind !== "accepted") return;
    expect(out.status).toBe("queued");
    expect(out.cost).toBeNull();
    expect(out.providerMessageId).toMatch(/^wamid\./);
    expect(emu.message(out.providerMessageId)).toMatchObject({ to, type: "text", text: "Yes, ready for pickup", bizOpaqueCallbackData: "k-open" });

    await emu.idle();
    expect(received.map((r) => value(r).statuses?.[0]?.status)).toEqual(["sent", "delivered"]);
    for (const r of received) {
      const h = parse(r);
      expect(h.object).toBe("whatsapp_business_account");
      expect(h.entry[0]!.changes[0]!.field).toBe("messages");
      expect(value(r).metadata).toEqual({ display_phone_number: "15550001234", phone_number_id: PHONE_ID });
      expect(value(r).statuses![0]).toMatchObject({ id: out.providerMessageId, recipient_id: "2348031110001", biz_opaque_callback_data: "k-open" });
      expect(r.method).toBe("POST");
      expect(r.url).toBe(HOOK);
      expect(r.headers["x-hub-signature-256"]).toBe(signWhatsApp(r.body, SECRET));
      expect(verifyWhatsAppSignature(r.body, r.headers["x-hub-signature-256"], SECRET)).toBe(true);
    }
    expect(emu.message(out.providerMessageId)!.status).toBe("delivered");
  });

  it("the window closes 24 hours after the customer's last message", async () => {
    const to = "+254712340001";
    emu.openWindow(to);
    expect((await provider().send(text(to), { timeoutMs: 2000 })).kind).toBe("accepted");
    clock += 24 * 60 * 60 * 1000 - 1000;
    expect(emu.windowOpen(to)).toBe(true);
    clock += 2000;
    expect(emu.windowOpen(to)).toBe(false);
    expect(await provider().send(text(to), { timeoutMs: 2000 })).toMatchObject({ kind: "definite", code: "window_closed" });
    await emu.idle();
  });

  it("a template is accepted outside the window, with the parameters recorded", async () => {
    const to = "+27821230001";
    expect(emu.windowOpen(to)).toBe(false);
    const out = await provider().send(tpl(to), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    if (out.kind !== "accepted") return;
    expect(emu.message(out.providerMessageId)).toMatchObject({ type: "template", text: null, template: { name: "order_update", language: "en_US", params: ["Ada", "#1042"] } });
    await emu.idle();
  });

  it("undelivered → accepted, then sent and failed with 131026", async () => {
    const out = await provider().send(tpl("+2348030000002"), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    await emu.idle();
    const statuses = received.map((r) => value(r).statuses![0]!);
    expect(statuses.map((s) => s.status)).toEqual(["sent", "failed"]);
    expect(statuses[1]!.errors).toEqual([expect.objectContaining({ code: 131026, title: "Message undeliverable" })]);
  });

  it("stop_reply → delivered, then an inbound STOP (which opens the window)", async () => {
    const to = "+2348030000007";
    const out = await provider().send(tpl(to), { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    await emu.idle();
    expect(received.map((r) => value(r).statuses?.[0]?.status ?? `inbound:${value(r).messages?.[0]?.text.body}`)).toEqual(["sent", "delivered", "inbound:STOP"]);
    expect(value(received[2]!).messages![0]!.from).toBe("2348030000007");
    expect(emu.windowOpen(to)).toBe(true);
  });

  it("rejected → definite opted_out (131050)", async () => {
    const out = await provider().send(tpl("+2348030000003"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "opted_out" });
    expect(emu.requests[emu.requests.length - 1]).toMatchObject({ status: 400, errorCode: 131050 });
  });

  it("invalid_number → definite invalid_number (100 on 'to')", async () => {
    const out = await provider().send(tpl("+2348030000004"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "invalid_number" });
    expect(emu.requests[emu.requests.length - 1]).toMatchObject({ status: 400, errorCode: 100 });
  });

  it("provider_error → transient graph_131000 (HTTP 500), even for free text", async () => {
    const out = await provider().send(text("+2348030000005"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "transient", code: "graph_131000" });
    expect(emu.requests[emu.requests.length - 1]).toMatchObject({ status: 500, errorCode: 131000 });
  });

  it("no_answer → unknown within about timeoutMs", async () => {
    const t0 = Date.now();
    const out = await provider().send(tpl("+2348030000006"), { timeoutMs: 300 });
    const took = Date.now() - t0;
    expect(out.kind).toBe("unknown");
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(5000);
    expect(emu.requests[emu.requests.length - 1]!.status).toBeNull();
  });

  it("a wrong access token → definite auth_failed (401, code 190), the token not in the reason", async () => {
    const out = await provider({ accessToken: "EAAG-wrong-token" }).send(tpl("+2348030000001"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "auth_failed" });
    if (out.kind === "definite") expect(out.reason).not.toContain("EAAG-wrong-token");
    expect(emu.requests[emu.requests.length - 1]).toMatchObject({ status: 401, errorCode: 190, authorized: false });
  });

  it("an unknown phone-number id → definite graph_100", async () => {
    const out = await provider({ phoneNumberId: "999" }).send(tpl("+2348030000001"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "graph_100" });
  });

  it("connection refused → transient unreachable", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const out = await provider({ baseUrl: `http://127.0.0.1:${port}` }).send(tpl("+2348030000001"), { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "transient", code: "unreachable" });
  });

  it("a generic 5xx without Graph's body → transient http_502; a 200 without an id → unknown", async () => {
    let mode: "502" | "noid" = "502";
    const srv: Server = createServer((_req, res) => {
      if (mode === "502") {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html>Bad Gateway</html>");
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      }
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    try {
      const p = provider({ baseUrl: `http://127.0.0.1:${(srv.address() as AddressInfo).port}` });
      expect(await p.send(tpl("+2348030000001"), { timeoutMs: 2000 })).toMatchObject({ kind: "transient", code: "http_502" });
      mode = "noid";
      expect((await p.send(tpl("+2348030000001"), { timeoutMs: 2000 })).kind).toBe("unknown");
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});

describe("webhook signatures", () => {
  const body = JSON.stringify({ object: "whatsapp_business_account", entry: [] });

  it("sha256=<hex HMAC-SHA256 of the raw body>", () => {
    expect(signWhatsApp("hello", "secret")).toBe("sha256=88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b");
    expect(verifyWhatsAppSignature("hello", "sha256=88aab3ede8d3adf94d26ab90d3bafd4a2083070c3bcce9c014ee04a443847c0b", "secret")).toBe(true);
  });

  it("a tampered body, a wrong secret, a malformed or missing header are rejected", () => {
    const sig = signWhatsApp(body, SECRET);
    expect(verifyWhatsAppSignature(body, sig, SECRET)).toBe(true);
    expect(verifyWhatsAppSignature(body.replace("[]", "[{}]"), sig, SECRET)).toBe(false);
    expect(verifyWhatsAppSignature(body + " ", sig, SECRET)).toBe(false);
    expect(verifyWhatsAppSignature(body, sig, "other-secret")).toBe(false);
    expect(verifyWhatsAppSignature(body, sig.replace("sha256=", "sha1="), SECRET)).toBe(false);
    expect(verifyWhatsAppSignature(body, sig.slice(0, -2), SECRET)).toBe(false);
    expect(verifyWhatsAppSignature(body, undefined, SECRET)).toBe(false);
    expect(verifyWhatsAppSignature(body, sig.toUpperCase().replace("SHA256=", "sha256="), SECRET)).toBe(true);
  });

  it("an emulator webhook whose body was re-serialized no longer verifies", async () => {
    await emu.receive("+2348039990001", "hello");
    const r = received[received.length - 1]!;
    expect(verifyWhatsAppSignature(r.body, r.headers["x-hub-signature-256"], SECRET)).toBe(true);
    const reserialized = JSON.stringify(JSON.parse(r.body), null, 1);
    expect(verifyWhatsAppSignature(reserialized, r.headers["x-hub-signature-256"], SECRET)).toBe(false);
  });
});
