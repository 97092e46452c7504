// kill -9 of bulk-send worker processes mid-job: real `pnpm worker` processes (scripts/worker.ts)
// sending through the official Twilio SDK to ONE Twilio emulator run by this test (live-mode
// settings with TWILIO_API_BASE), so the provider-side requests of every process are counted in
// one place. After each kill a new worker resumes; recipients the dead one had claimed are
// reconciled through Twilio's List Messages, never blindly resent. Checked: the emulator created
// exactly one message per recipient, and every recipient has exactly one Message row, settled.
// BULK_CRASH_N sets the size (CI: 1,500; the figure, 10,000, runs with BULK_CRASH_N=10000).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { externalServicesServer } from "../src/server.ts";
import { startTwilioEmulator, type TwilioEmulator } from "../src/sandbox/twilio-emulator.ts";
import { handleWebhook } from "../src/webhooks/handle.ts";
import { closeMessagingFor } from "../src/service.ts";
import { bulkSegment, waitUntil } from "./bulk-support.ts";

const N = Number(process.env.BULK_CRASH_N ?? 1500);
const ROOT = path.resolve(import.meta.dirname, "../../..");
const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const SID = `AC${randomBytes(16).toString("hex")}`;
const TOKEN = randomBytes(16).toString("hex");
let runtime: Runtime;
let sql: pg.Client;
let emu: TwilioEmulator;
let client: TestClient;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  runtime = testRuntime(tdb.url);
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  const secrets = { twilioAuthToken: TOKEN, whatsappAppSecret: undefined, whatsappVerifyToken: undefined, africasTalkingToken: undefined };
  emu = await startTwilioEmulator({
    accountSid: SID, authToken: TOKEN, reportDelayMs: 100, latencyMs: 20, balance: { amount: "100000.0000", currency: "USD" },
    deliver: async (req) => {
      const u = new URL(req.url);
      await handleWebhook(runtime.db, secrets, { method: req.method, path: u.pathname, query: u.searchParams, headers: req.headers, body: req.body, url: req.url }, { now: new Date() });
    },
  });
  client = await connectTestClient({ server: externalServicesServer.name, tools: externalServicesServer.tools, runtime, apiKey: demoApiKey(A, "ADMIN") });
}, 60_000);
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await client?.close();
  await emu?.close();
  await closeMessagingFor(runtime.db);
  await sql?.end();
  await runtime?.close();
});

function worker(): ChildProcess {
  const c = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/worker.ts")], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env, DATABASE_URL: tdb.url, MCP_LOG_LEVEL: "warn",
      TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: "+15005550006", TWILIO_API_BASE: emu.url, MESSAGING_PUBLIC_URL: "http://127.0.0.1:9",
      MESSAGING_SEND_TIMEOUT_MS: "2000", BULK_RATE_TWILIO: "1000", BULK_JOB_EXPIRE_SECONDS: "6", BULK_MAINTENANCE_SECONDS: "1", BULK_RECONCILE_AFTER_SECONDS: "3",
      BULK_CHUNK_SIZE: "100", BULK_WAVE_SIZE: "25", BULK_WORKER_CONCURRENCY: "4", BULK_DEFER_RECHECK_SECONDS: "1",
    },
  });
  let err = "";
  c.stderr!.on("data", (b: Buffer) => {
    err = (err + b.toString()).slice(-4000);
  });
  c.on("exit", (code, signal) => {
    children.delete(c);
    if (code && signal !== "SIGKILL") process.stderr.write(`worker exited ${code}: ${err}\n`);
  });
  children.add(c);
  return c;
}

const q = async <T = Record<string, unknown>>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];
const sentCount = async (id: string) => (await q<{ n: number }>(`select count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 and state = 'sent'`, [id]))[0]!.n;
const until = (what: string, check: () => Promise<boolean>, ms = 180_000) => waitUntil(what, check, ms, 50);

async function enqueue(): Promise<{ bulkSendId: string; campaignId: string; phones: Set<string> }> {
  // The workers run on the real clock: the contacts live where it is midday now (quiet hours are checked, not hit).
  const offset = ((12 - new Date().getUTCHours() + 36) % 24) - 12;
  const zone = offset === 0 ? "Etc/UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
  const s = await bulkSegment(sql, A.id, { n: N, now: new Date(), zone });
  const args = { segment_id: s.id, campaign: { name: `crash ${randomUUID().slice(0, 6)}`, channel: "SMS", text: "Hi {{first_name}}, flash sale" }, provider: "twilio", idempotency_key: `crash-${randomUUID()}` };
  const dry = (await client.client.callTool({ name: "send_bulk", arguments: { ...args, dry_run: true } })) as unknown as { structuredContent: { confirmation_token: string } };
  const r = (await client.client.callTool({ name: "send_bulk", arguments: { ...args, confirmation_token: dry.structuredContent.confirmation_token } })) as unknown as { isError?: boolean; content: unknown; structuredContent: { bulk_send_id: string; campaign_id: string } };
  if (r.isError) throw new Error(JSON.stringify(r.content));
  const phones = new Set((await q<{ phone: string }>(`select phone from contacts where id = any($1::uuid[])`, [s.contacts])).map((x) => x.phone));
  return { bulkSendId: r.structuredContent.bulk_send_id, campaignId: r.structuredContent.campaign_id, phones };
}

async function expectExactlyOnce(job: { bulkSendId: string; campaignId: string; phones: Set<string> }): Promise<void> {
  await until("completion", async () => (await q<{ status: string }>(`select status from bulk_sends where id = $1`, [job.bulkSendId]))[0]!.status === "completed");
  const created = emu.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json") && job.phones.has(r.params.To ?? "") && r.status === 201);
  const byTo = new Map<string, number>();
  for (const c of created) byTo.set(c.params.To!, (byTo.get(c.params.To!) ?? 0) + 1);
  const twice = [...byTo.entries()].filter(([, n]) => n > 1);
  process.stderr.write(`[bulk-crash] ${N} recipients: provider-side creations ${created.length}, distinct numbers ${byTo.size}, duplicates ${twice.length}\n`);
  expect(twice).toEqual([]);
  expect(byTo.size).toBe(N);
  const [m] = await q<{ rows: number; contacts: number; settled: number }>(
    `select count(*)::int as rows, count(distinct contact_id)::int as contacts, count(*) filter (where provider_message_id is not null)::int as settled from messages where campaign_id = $1`, [job.campaignId]);
  expect(m).toEqual({ rows: N, contacts: N, settled: N });
  const states = await q<{ state: string; n: number }>(`select state, count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 group by 1`, [job.bulkSendId]);
  expect(states).toEqual([{ state: "sent", n: N }]);
}

describe(`bulk send survives kill -9 of its workers (${N} recipients)`, () => {
  it("one worker killed at ~30% and ~70%, restarted each time: every recipient exactly once, none lost", async () => {
    const job = await enqueue();
    let w = worker();
    for (const share of [0.3, 0.7]) {
      await until(`${share * 100}% sent`, async () => (await sentCount(job.bulkSendId)) >= N * share);
      w.kill("SIGKILL");
      w = worker();
    }
    await expectExactlyOnce(job);
    w.kill("SIGTERM");
  }, 300_000);

  it("two workers at once, one killed mid-job: every recipient exactly once, none lost", async () => {
    const job = await enqueue();
    const a = worker();
    const b = worker();
    await until("40% sent", async () => (await sentCount(job.bulkSendId)) >= N * 0.4);
    a.kill("SIGKILL");
    await expectExactlyOnce(job);
    b.kill("SIGTERM");
  }, 300_000);
});
