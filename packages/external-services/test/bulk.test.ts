// send_bulk end to end in one process: the real MCP SDK client through the production seam, the
// bulk-send worker (pg-boss on the test database) on the same runtime, sandbox providers through
// their SDKs to the emulators (whose reports come back through the webhook handler). Checked by SQL
// over the base tables and by the emulators' own request logs (provider-side counts).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import { createLogger, type Runtime } from "@marketsage/core";
import { externalServicesServer } from "../src/server.ts";
import { closeMessagingFor, messagingFor } from "../src/service.ts";
import { startWorker, type RunningWorker } from "../src/bulk/run.ts";
import { assignArm } from "../src/bulk/spec.ts";
import { smsShape } from "../src/validate/sms.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { bulkSegment, waitUntil } from "./bulk-support.ts";

process.env.MESSAGING_SANDBOX_REPORT_DELAY_MS = "5";
process.env.MESSAGING_SEND_TIMEOUT_MS = "2000";
const WORKER_ENV = { ...process.env, BULK_RATE_TWILIO: "400", BULK_RATE_AFRICASTALKING: "400", BULK_RATE_SMTP: "400", BULK_JOB_EXPIRE_SECONDS: "30", BULK_MAINTENANCE_SECONDS: "2", BULK_CHUNK_SIZE: "50", BULK_WAVE_SIZE: "25", BULK_DEFER_RECHECK_SECONDS: "1" };

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
let runtime: Runtime;
let sql: pg.Client;
let worker: RunningWorker | null = null;
/** The clock of the tools and the worker (the emulators and webhooks run on the real one). */
/** 10:00 UTC today: daytime in Nairobi (the contacts' zone), whatever time the tests run. */
const DAY = new Date(new Date().setUTCHours(10, 0, 0, 0));
let clock = DAY;
const clients = new Map<string, TestClient>();
const log = createLogger({ level: "warn" });

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => clock });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await worker?.stop();
  for (const c of clients.values()) await c.close();
  await closeMessagingFor(runtime.db);
  await sql?.end();
  await runtime?.close();
});

async function as(role: Role): Promise<TestClient> {
  let c = clients.get(role);
  if (!c) {
    c = await connectTestClient({ server: externalServicesServer.name, tools: externalServicesServer.tools, runtime, apiKey: demoApiKey(A, role) });
    clients.set(role, c);
  }
  return c;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const raw = async (name: string, args: Record<string, unknown>, role: Role = "ADMIN"): Promise<any> => (await as(role)).client.callTool({ name, arguments: args });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(name: string, args: Record<string, unknown>, role: Role = "ADMIN"): Promise<any> {
  const r = await raw(name, args, role);
  if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
  expect(valuesMissingFromText(r.structuredContent, externalServicesServer.tools.find((t) => t.name === name)!.output, r.content.map((c: { text?: string }) => c.text ?? "").join("\n"))).toEqual([]);
  return r.structuredContent;
}
const q = async <T = Record<string, unknown>>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];
const svc = () => messagingFor(runtime.db);
const segment = (n: number, o: { zone?: string; optedOut?: number; email?: boolean } = {}) => bulkSegment(sql, A.id, { ...o, now: clock, n });

async function runWorker(): Promise<RunningWorker> {
  worker ??= await startWorker({ databaseUrl: tdb.url, db: runtime.db, env: WORKER_ENV, log, now: () => clock });
  return worker;
}

const waitFor = (what: string, check: () => Promise<boolean>, ms = 30_000) => waitUntil(what, check, ms);
const finished = (id: string) => waitFor(`bulk send ${id}`, async () => (await q<{ status: string }>(`select status from bulk_sends where id = $1`, [id]))[0]?.status === "completed");

/** Twilio message creations the emulator received for these numbers (provider-side). */
const twilioCreations = (numbers: Set<string>) => svc().emulators.twilio!.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json") && numbers.has(r.params.To ?? "") && r.status === 201);
const phonesOf = async (ids: string[]) => new Set((await q<{ phone: string }>(`select phone from contacts where id = any($1::uuid[])`, [ids])).map((r) => r.phone));

describe("send_bulk", () => {
  it("dry run → confirmation → every reachable recipient exactly once, opted-out never; metrics move as reports arrive", async () => {
    clock = DAY;
    const s = await segment(150, { optedOut: 15 });
    const base = { segment_id: s.id, campaign: { name: "Flash sale", channel: "SMS", text: "Hi {{first_name}}, 20% off today" }, provider: "twilio", idempotency_key: `bulk-${randomUUID()}` };
    const dry = await call("send_bulk", { ...base, dry_run: true });
    expect(dry.estimate).toMatchObject({ recipients: 150, will_send: 135, deferred: 0, holdout: 0, refused: ["not_reachable: 15"] });
    expect(dry.needs_confirmation).toMatch(/150 recipients/);
    expect(dry.confirmation_token).toBeTruthy();
    expect(dry.estimate.cost.join(" ")).toMatch(/twilio: .* for 135 messages/);
    // Nothing written by the dry run.
    expect(await q(`select 1 from campaigns where id = $1`, [dry.campaign_id])).toHaveLength(0);

    const unconfirmed = await raw("send_bulk", base);
    expect(unconfirmed.isError).toBe(true);
    expect(unconfirmed.content[0].text).toMatch(/needs confirmation/);
    expect(await q(`select 1 from bulk_sends where campaign_id = $1`, [dry.campaign_id])).toHaveLength(0);

    const sent = await call("send_bulk", { ...base, confirmation_token: dry.confirmation_token });
    expect(sent).toMatchObject({ dry_run: false, replayed: false, campaign_id: dry.campaign_id });
    const again = await call("send_bulk", { ...base, confirmation_token: dry.confirmation_token });
    expect(again).toMatchObject({ replayed: true, bulk_send_id: sent.bulk_send_id });

    await runWorker();
    await finished(sent.bulk_send_id);
    await svc().idle();
    const msgs = await q<{ contact_id: string; n: number }>(`select contact_id::text, count(*)::int as n from messages where campaign_id = $1 group by 1`, [dry.campaign_id]);
    expect(msgs).toHaveLength(135);
    expect(msgs.every((m) => m.n === 1)).toBe(true);
    const optedOut = new Set(s.contacts.slice(0, 15));
    expect(msgs.filter((m) => optedOut.has(m.contact_id))).toEqual([]);
    // Provider-side: one creation per reachable number, none for the opted-out.
    const creations = twilioCreations(await phonesOf(s.contacts));
    expect(creations).toHaveLength(135);
    expect(new Set(creations.map((c) => c.params.To)).size).toBe(135);
    const outPhones = await phonesOf([...optedOut]);
    expect(creations.filter((c) => outPhones.has(c.params.To!))).toEqual([]);
    // Delivery reports: the messages end DELIVERED; the campaign's trigger-kept stats say so.
    await waitFor("deliveries", async () => (await q<{ n: number }>(`select count(*)::int as n from messages where campaign_id = $1 and status = 'DELIVERED'`, [dry.campaign_id]))[0]!.n === 135);
    const [stats] = await q<{ sent: number; delivered: number }>(`select sum(sent)::int as sent, sum(delivered)::int as delivered from campaign_stats where campaign_id = $1`, [dry.campaign_id]);
    expect(stats).toEqual({ sent: 135, delivered: 135 });
    const status = await call("get_bulk_send_status", { bulk_send_id: sent.bulk_send_id });
    expect(status).toMatchObject({ status: "completed", total: 150, done: 150, states: { sent: 135, refused: 15 }, delivery: { DELIVERED: 135 } });
    expect(status.errors).toEqual(["not_reachable: 15"]);
    const [c] = await q<{ status: string }>(`select status::text from campaigns where id = $1`, [dry.campaign_id]);
    expect(c!.status).toBe("SENT");
  });

  it("SMS with track_links: segments and cost are those of the text as sent (its links tracked), in the dry run and on each message", async () => {
    clock = DAY;
    const s = await segment(30);
    // 130 characters as written: one segment; its link becomes a longer click link: two.
    const text = "Flash sale today only: 20% off shoes, bags and the new season's dresses. See them all at https://shop.example.com/flash before 8pm!";
    expect(smsShape(text).segments).toBe(1);
    const base = { segment_id: s.id, campaign: { name: "Tracked SMS", channel: "SMS", text }, provider: "twilio" };
    const untracked = await call("send_bulk", { ...base, track_links: false, dry_run: true, idempotency_key: `bulk-${randomUUID()}` });
    const key = `bulk-${randomUUID()}`;
    const tracked = await call("send_bulk", { ...base, track_links: true, dry_run: true, idempotency_key: key });
    const amount = (e: { cost: string[] }) => Number(/twilio: ([\d.]+) /.exec(e.cost[0]!)![1]);
    expect(amount(untracked.estimate)).toBeGreaterThan(0);
    expect(amount(tracked.estimate)).toBeCloseTo(2 * amount(untracked.estimate), 4);
    const sent = await call("send_bulk", { ...base, track_links: true, idempotency_key: key, confirmation_token: tracked.confirmation_token });
    await runWorker();
    await finished(sent.bulk_send_id);
    const msgs = await q<{ body: string; segments: number }>(`select body, segments from messages where campaign_id = $1`, [sent.campaign_id]);
    expect(msgs).toHaveLength(30);
    for (const m of msgs) {
      expect(m.body).not.toContain("https://shop.example.com/flash");
      expect(m.body).toMatch(/\/c\/[A-Za-z0-9_-]+ before 8pm!$/);
      expect(m.segments).toBe(smsShape(m.body).segments);
      expect(m.segments).toBe(2);
    }
    const creations = twilioCreations(await phonesOf(s.contacts));
    expect(creations).toHaveLength(30);
    expect(new Set(creations.map((c) => c.params.Body))).toEqual(new Set(msgs.map((m) => m.body)));
  });

  it("the confirmation token is bound to the recipients and the content", async () => {
    clock = DAY;
    const s = await segment(120);
    const base = { segment_id: s.id, campaign: { name: "Bound", channel: "SMS", text: "Hello {{first_name}}" }, provider: "twilio", idempotency_key: `bulk-${randomUUID()}` };
    const dry = await call("send_bulk", { ...base, dry_run: true });
    const other = await raw("send_bulk", { ...base, campaign: { ...base.campaign, text: "Hello again" }, confirmation_token: dry.confirmation_token });
    expect(other.isError).toBe(true);
    expect(other.content[0].text).toMatch(/does not match this send/);
    const extra = (await segment(1)).contacts[0]!;
    await sql.query(`insert into segment_members (segment_id, contact_id, organization_id, added_at) values ($1, $2, $3, now())`, [s.id, extra, A.id]);
    const changed = await raw("send_bulk", { ...base, confirmation_token: dry.confirmation_token });
    expect(changed.isError).toBe(true);
    expect(changed.content[0].text).toMatch(/recipients .* or the content changed/);
    const tampered = await raw("send_bulk", { ...base, confirmation_token: `${dry.confirmation_token.split(".")[0]}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA` });
    expect(tampered.isError).toBe(true);
    expect(await q(`select 1 from bulk_sends where idempotency_key = $1`, [base.idempotency_key])).toHaveLength(0);
  });

  it("a STOP (opt-out) after enqueue is honoured at send time; cancel stops the rest", async () => {
    clock = DAY;
    // No worker may run between enqueue and the STOP, or it could send before the opt-out exists.
    await worker?.stop();
    worker = null;
    const s = await segment(60);
    const base = { segment_id: s.id, campaign: { name: "Stop mid-job", channel: "SMS", text: "Deals" }, provider: "twilio", idempotency_key: `bulk-${randomUUID()}` };
    const sent = await call("send_bulk", base); // under the confirmation threshold
    const late = s.contacts.slice(10, 20);
    await sql.query(
      `insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at) select $1, c, 'SMS', 'UNSUBSCRIBED', 'inbound_sms', now() from unnest($2::uuid[]) c`,
      [A.id, late],
    );
    await runWorker();
    await finished(sent.bulk_send_id);
    const to = await q<{ contact_id: string }>(`select contact_id::text from messages where campaign_id = $1`, [sent.campaign_id]);
    expect(to).toHaveLength(50);
    expect(to.filter((m) => late.includes(m.contact_id))).toEqual([]);

    // Cancel: a send cancelled before a worker takes it sends nobody.
    await worker!.stop();
    worker = null;
    const s2 = await segment(40);
    const second = await call("send_bulk", { ...base, segment_id: s2.id, idempotency_key: `bulk-${randomUUID()}` });
    const cancelled = await call("cancel_bulk_send", { bulk_send_id: second.bulk_send_id, reason: "wrong segment" });
    expect(cancelled).toMatchObject({ cancelled: 40, already_finished: false });
    await runWorker();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await q(`select 1 from messages where campaign_id = $1`, [second.campaign_id])).toHaveLength(0);
    const st = await call("get_bulk_send_status", { bulk_send_id: second.bulk_send_id });
    expect(st).toMatchObject({ status: "cancelled", states: { cancelled: 40 } });
  });

  it("quiet hours defer recipients to the end of their night, then they are sent", async () => {
    // 23:00 in Nairobi (UTC+3) on the worker's clock.
    const night = new Date();
    night.setUTCHours(20, 0, 0, 0);
    clock = night;
    const s = await segment(30);
    const base = { segment_id: s.id, campaign: { name: "Night", channel: "SMS", text: "Good morning" }, provider: "twilio", idempotency_key: `bulk-${randomUUID()}` };
    const dry = await call("send_bulk", { ...base, dry_run: true });
    expect(dry.estimate).toMatchObject({ will_send: 0, deferred: 30 });
    const sent = await call("send_bulk", base);
    await runWorker();
    await waitFor("deferral", async () => (await q<{ n: number }>(`select count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 and state = 'deferred'`, [sent.bulk_send_id]))[0]!.n === 30);
    const [d] = await q<{ nb: Date }>(`select min(not_before) as nb from bulk_send_recipients where bulk_send_id = $1`, [sent.bulk_send_id]);
    // 08:00 Nairobi = 05:00 UTC the next day.
    expect(d!.nb.toISOString()).toBe(new Date(night.getTime() + 9 * 3600_000).toISOString());
    expect(await q(`select 1 from messages where campaign_id = $1`, [sent.campaign_id])).toHaveLength(0);
    clock = new Date(night.getTime() + 9 * 3600_000 + 60_000);
    await finished(sent.bulk_send_id);
    expect(await q(`select 1 from messages where campaign_id = $1`, [sent.campaign_id])).toHaveLength(30);
    clock = DAY;
  });

  it("A/B variants and a holdout by hash of campaign and contact; the throttle holds provider-side", async () => {
    clock = DAY;
    await worker?.stop();
    worker = null;
    const s = await segment(80);
    const campaign = { name: "AB", channel: "SMS", text: "Base", variants: [{ name: "A", percent: 50, text: "Offer A" }, { name: "B", percent: 50, text: "Offer B" }], holdout_percent: 10 };
    const sent = await call("send_bulk", { segment_id: s.id, campaign, provider: "twilio", idempotency_key: `bulk-${randomUUID()}` });
    const slow = { ...WORKER_ENV, BULK_RATE_TWILIO: "20" };
    worker = await startWorker({ databaseUrl: tdb.url, db: runtime.db, env: slow, log, now: () => clock });
    await finished(sent.bulk_send_id);
    const rows = await q<{ contact_id: string; name: string; body: string }>(
      `select m.contact_id::text, v.name, m.body from messages m join campaign_variants v on v.id = m.variant_id where m.campaign_id = $1`, [sent.campaign_id]);
    const [held] = await q<{ n: number }>(`select count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 and state = 'holdout'`, [sent.bulk_send_id]);
    expect(rows.length + held!.n).toBe(80);
    const spec = { campaignId: sent.campaign_id, holdout: 0.1, variants: [{ weight: 0.5 }, { weight: 0.5 }] } as never;
    for (const r of rows) {
      const arm = assignArm(spec, r.contact_id);
      expect(arm).toEqual({ holdout: false, variant: r.name === "A" ? 0 : 1 });
      expect(r.body).toBe(r.name === "A" ? "Offer A" : "Offer B");
    }
    // At 20 messages/s: no 1-second window of the emulator's receipts holds more than 20 (+1 at the edge).
    const times = twilioCreations(await phonesOf(s.contacts)).map((c) => c.at.getTime()).sort((a, b) => a - b);
    expect(times.length).toBe(rows.length);
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(21);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(((rows.length - 21) / 20) * 1000);
    await worker.stop();
    worker = null;
  });
});
