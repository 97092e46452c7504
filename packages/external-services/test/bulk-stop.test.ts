// Opt-outs and a bulk send: 10% of the segment opted out before the send, and real STOP replies
// (signed Twilio inbound webhooks, through the production webhook code) arriving while the job is
// running, for recipients it has not reached yet: zero sends to any of them, provider-side.
import { randomUUID } from "node:crypto";
import pg from "pg";
import twilioSdk from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import { createLogger, type Runtime } from "@marketsage/core";
import { externalServicesServer } from "../src/server.ts";
import { closeMessagingFor, messagingFor } from "../src/service.ts";
import { startWorker, type RunningWorker } from "../src/bulk/run.ts";
import { handleWebhook } from "../src/webhooks/handle.ts";
import { bulkSegment, waitUntil } from "./bulk-support.ts";

const twilio = twilioSdk as unknown as { getExpectedTwilioSignature(token: string, url: string, params: Record<string, string>): string };
process.env.MESSAGING_SANDBOX_REPORT_DELAY_MS = "5";
process.env.MESSAGING_SEND_TIMEOUT_MS = "2000";
// One chunk at a time, slowly: the last chunk is still untouched when the STOPs arrive.
const WORKER_ENV = { ...process.env, BULK_RATE_TWILIO: "40", BULK_CHUNK_SIZE: "50", BULK_WAVE_SIZE: "25", BULK_WORKER_CONCURRENCY: "1", BULK_JOB_EXPIRE_SECONDS: "30", BULK_MAINTENANCE_SECONDS: "2" };
const FROM = "+15005550006"; // the Twilio sandbox sender

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const DAY = new Date(new Date().setUTCHours(10, 0, 0, 0));
let runtime: Runtime;
let sql: pg.Client;
let client: TestClient;
let worker: RunningWorker | null = null;
const q = async <T = Record<string, unknown>>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => DAY });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  client = await connectTestClient({ server: externalServicesServer.name, tools: externalServicesServer.tools, runtime, apiKey: demoApiKey(A, "ADMIN") });
  // The organization's Twilio number: replies to it belong to this organization.
  await sql.query(`insert into sender_identities (organization_id, channel, provider, sender, is_default) values ($1, 'SMS', 'twilio', $2, true) on conflict do nothing`, [A.id, FROM]);
});
afterAll(async () => {
  await worker?.stop();
  await client?.close();
  await closeMessagingFor(runtime.db);
  await sql?.end();
  await runtime?.close();
});

/** A STOP reply from `phone`, signed as Twilio signs it, through the production webhook handler. */
async function stopFrom(phone: string): Promise<number> {
  const svc = messagingFor(runtime.db);
  const url = "http://in-process.sandbox.invalid/webhooks/twilio/inbound";
  const sid = `SM${randomUUID().replace(/-/g, "")}`;
  const params = { MessageSid: sid, SmsSid: sid, AccountSid: `AC${"0".repeat(32)}`, From: phone, To: FROM, Body: "STOP", NumSegments: "1", SmsStatus: "received", ApiVersion: "2010-04-01" };
  const body = new URLSearchParams(params).toString();
  const out = await handleWebhook(runtime.db, svc.secrets, {
    method: "POST", path: "/webhooks/twilio/inbound", query: new URLSearchParams(), url, body,
    headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(svc.secrets.twilioAuthToken!, url, params) },
  }, { now: new Date() });
  return out.status;
}

describe("opt-outs during a bulk send", () => {
  it("10% opted out before, STOP replies mid-job: none of them is sent, everyone else exactly once", async () => {
    const s = await bulkSegment(sql, A.id, { n: 200, now: DAY, optedOut: 20 });
    const args = { segment_id: s.id, campaign: { name: "Mid-job STOP", channel: "SMS", text: "Hi {{first_name}}, deals today" }, provider: "twilio", idempotency_key: `stop-${randomUUID()}` };
    const dry = await client.client.callTool({ name: "send_bulk", arguments: { ...args, dry_run: true } });
    const d = dry.structuredContent as { confirmation_token: string; estimate: { will_send: number; refused: string[] } };
    expect(d.estimate).toMatchObject({ will_send: 180, refused: ["not_reachable: 20"] });
    const r = await client.client.callTool({ name: "send_bulk", arguments: { ...args, confirmation_token: d.confirmation_token } });
    expect(r.isError).toBeFalsy();
    const { bulk_send_id: id, campaign_id: campaign } = r.structuredContent as { bulk_send_id: string; campaign_id: string };
    messagingFor(runtime.db); // the same service (and Twilio emulator) as the worker's
    worker = await startWorker({ databaseUrl: tdb.url, db: runtime.db, env: WORKER_ENV, log: createLogger({ level: "warn" }), now: () => DAY });

    const sent = async () => (await q<{ n: number }>(`select count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 and state = 'sent'`, [id]))[0]!.n;
    await waitUntil("the first sends", async () => (await sent()) >= 30, 30_000, 50);
    // The STOPs: ten subscribed recipients of the last chunk, still pending now.
    const late = await q<{ contact_id: string; phone: string; state: string }>(
      `select r.contact_id::text, c.phone, r.state from bulk_send_recipients r join contacts c on c.id = r.contact_id
        where r.bulk_send_id = $1 and c.consent_sms = 'SUBSCRIBED' order by r.seq desc limit 10`, [id]);
    expect(late.map((l) => l.state)).toEqual(Array(10).fill("pending"));
    for (const l of late) expect(await stopFrom(l.phone)).toBeLessThan(300);
    expect((await q<{ n: number }>(`select count(*)::int as n from contacts where id = any($1::uuid[]) and consent_sms = 'UNSUBSCRIBED'`, [late.map((l) => l.contact_id)]))[0]!.n).toBe(10);
    expect(await sent()).toBeLessThan(170); // the STOPs really arrived mid-job

    await waitUntil("the send to finish", async () => (await q<{ status: string }>(`select status from bulk_sends where id = $1`, [id]))[0]!.status === "completed", 60_000);
    const optedOut = new Set([...s.contacts.slice(0, 20), ...late.map((l) => l.contact_id)]);
    const msgs = await q<{ contact_id: string; n: number }>(`select contact_id::text, count(*)::int as n from messages where campaign_id = $1 group by 1`, [campaign]);
    expect(msgs).toHaveLength(170);
    expect(msgs.every((m) => m.n === 1)).toBe(true);
    expect(msgs.filter((m) => optedOut.has(m.contact_id))).toEqual([]);
    // Provider-side: the emulator received nothing for any opted-out number.
    const phones = new Set((await q<{ phone: string }>(`select phone from contacts where id = any($1::uuid[])`, [[...optedOut]])).map((p) => p.phone));
    const created = messagingFor(runtime.db).emulators.twilio!.requests.filter((x) => x.method === "POST" && x.path.endsWith("/Messages.json") && x.status === 201);
    expect(created.filter((c) => phones.has(c.params.To!))).toEqual([]);
    expect(created.filter((c) => c.params.Body === "Hi Amina, deals today")).toHaveLength(170);
    const states = await q<{ state: string; n: number }>(`select state, count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 group by 1 order by 1`, [id]);
    expect(states).toEqual([{ state: "refused", n: 30 }, { state: "sent", n: 170 }]);
  });
});
