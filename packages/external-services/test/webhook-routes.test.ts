// The webhooks on the real HTTP host: in sandbox mode the host's own emulators post their signed
// reports to its /webhooks routes over HTTP (a send over MCP ends delivered); forged, unsigned and
// wrong-token requests are refused with nothing written; WhatsApp's verify handshake.
import { randomUUID } from "node:crypto";
import pg from "pg";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { useTestDatabase } from "@marketsage/core/testing";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { startHttpHost, type StartedHost } from "@marketsage/http";
import { signWhatsApp } from "../src/providers/whatsapp.ts";

const tdb = useTestDatabase();
const ORG = DEMO_ORGS[0]!;
const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: tdb.url, MCP_HTTP_PORT: "0", LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent", MESSAGING_SANDBOX_REPORT_DELAY_MS: "5", ...extra,
});
// A second host with Twilio and WhatsApp "live" (known secrets) to check signatures over HTTP.
const LIVE = {
  TWILIO_ACCOUNT_SID: `AC${"b".repeat(32)}`, TWILIO_AUTH_TOKEN: "route-test-token", TWILIO_FROM: "+15005550006",
  WHATSAPP_ACCESS_TOKEN: "wa-token", WHATSAPP_PHONE_NUMBER_ID: "1234567890", WHATSAPP_APP_SECRET: "wa-secret", WHATSAPP_VERIFY_TOKEN: "verify-me",
  AFRICASTALKING_WEBHOOK_TOKEN: "at-token-0123456789abcdefghij",
};
let sandbox: StartedHost;
let live: StartedHost;
let sql: pg.Client;

beforeAll(async () => {
  sandbox = await startHttpHost(env());
  live = await startHttpHost(env(LIVE));
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await sandbox?.close();
  await live?.close();
});

const q = async <T>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];

describe("sandbox mode on the host", () => {
  it("a send over MCP: the host's emulator posts its signed report to the host's own route, and the message ends delivered", async () => {
    expect(sandbox.banner.join("\n")).toContain(`${sandbox.url}/webhooks/twilio/status`);
    const c = new Client({ name: "route-test", version: "0.0.0" });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${sandbox.url}/mcp/external-services`), { requestInit: { headers: { authorization: `Bearer ${demoApiKey(ORG, "AI_AGENT")}` } } }));
    try {
      const r = await c.callTool({ name: "send_sms", arguments: { to: "+14155550001", text: "Hello from the host", idempotency_key: `route-${randomUUID()}`, provider: "twilio" } });
      expect(r.isError).toBeFalsy();
      const id = (r.structuredContent as { message_id: string }).message_id;
      let status = "";
      for (let i = 0; i < 100 && status !== "DELIVERED"; i++) {
        await new Promise((res) => setTimeout(res, 50));
        status = (await q<{ status: string }>(`select status::text from messages where id = $1`, [id]))[0]?.status ?? "";
      }
      expect(status).toBe("DELIVERED");
      const events = await q<{ detail: { provider_status?: string } }>(`select detail from message_events where message_id = $1 and type = 'DELIVERED'`, [id]);
      expect(events[0]!.detail.provider_status).toBe("delivered");
    } finally {
      await c.close();
    }
  });
});

describe("forged requests are refused and write nothing", () => {
  const countEvents = async () => (await q<{ n: number }>(`select count(*)::int n from message_events`))[0]!.n;
  const form = (p: Record<string, string>) => new URLSearchParams(p).toString();

  it("Twilio: no signature 401, a wrong one 403, a right one 200", async () => {
    const url = `${live.url}/webhooks/twilio/status`;
    const params = { MessageSid: `SM${"c".repeat(32)}`, MessageStatus: "delivered", AccountSid: LIVE.TWILIO_ACCOUNT_SID, To: "+14155550001" };
    const before = await countEvents();
    const post = (headers: Record<string, string>) => fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: form(params) });
    expect((await post({})).status).toBe(401);
    expect((await post({ "x-twilio-signature": twilio.getExpectedTwilioSignature("not-the-token", url, params) })).status).toBe(403);
    expect(await countEvents()).toBe(before);
    expect((await post({ "x-twilio-signature": twilio.getExpectedTwilioSignature(LIVE.TWILIO_AUTH_TOKEN, url, params) })).status).toBe(200);
  });

  it("WhatsApp: a body signed with another secret 403; the verify handshake echoes the challenge for our token only", async () => {
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ field: "messages", value: { metadata: { phone_number_id: LIVE.WHATSAPP_PHONE_NUMBER_ID }, statuses: [{ id: "wamid.x", status: "delivered", timestamp: "1764000000" }] } }] }] });
    const before = await countEvents();
    const r = await fetch(`${live.url}/webhooks/whatsapp`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signWhatsApp(body, "other") }, body });
    expect(r.status).toBe(403);
    expect(await countEvents()).toBe(before);
    const ok = await fetch(`${live.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345`);
    expect([ok.status, await ok.text()]).toEqual([200, "12345"]);
    expect((await fetch(`${live.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=12345`)).status).toBe(403);
  });

  it("Africa's Talking: a wrong path token 403", async () => {
    const r = await fetch(`${live.url}/webhooks/africastalking/not-the-token/delivery`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form({ id: "ATXid_1", status: "Success", phoneNumber: "+254711000001" }) });
    expect(r.status).toBe(403);
    expect((await fetch(`${live.url}/webhooks/africastalking/${LIVE.AFRICASTALKING_WEBHOOK_TOKEN}/nothing`, { method: "POST", body: "" })).status).toBe(404);
  });
});
