// send_bulk at scale: BULK_BENCH_N recipients (default 100,000) of a dedicated organization of the
// bench database ("Bulk Bench", created once with its contacts and kept), sent by real `pnpm
// worker` processes through the official Twilio SDK to one Twilio emulator in this process that
// answers every request after 50 ms (live-mode settings with TWILIO_API_BASE, so every worker's
// requests are counted in one place). Delivery reports are held until after the run (webhook
// ingestion has its own part, `webhooks`). Two runs: undisturbed, then with the worker killed
// (kill -9) at ~30% and ~70% and restarted. Reported: sustained sends/s (10% → 90% of the
// recipients), provider-side creations, duplicates and losses, and where the worker's time went
// (its own counters: decide, claim, throttle wait, provider, settle), plus the database time of the
// trigger-kept tables (campaign_stats, campaign_costs) from pg_stat_user_functions when
// track_functions is on. What a run wrote (messages, events, bulk rows, campaign stats) is deleted.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import pg from "pg";
import type { BenchContext } from "@marketsage/core";
import { openDb, SESSION_OPTIONS } from "@marketsage/db";
import { bulkConfig } from "../src/bulk/config.ts";
import { enqueueSend, prepareSend } from "../src/bulk/enqueue.ts";
import { stableUuid } from "../src/bulk/spec.ts";
import { loadOrg } from "../src/bulk/worker.ts";
import { startTwilioEmulator, type TwilioEmulator } from "../src/sandbox/twilio-emulator.ts";
import { stopBosses } from "../src/bulk/queue.ts";

export const TARGET_SENDS_PER_SECOND = 500;
const ROOT = path.resolve(import.meta.dirname, "../../..");
const ORG_ID = stableUuid("bench", "bulk-bench-org");

async function ensureAudience(sql: pg.Pool, n: number): Promise<string> {
  await sql.query(
    `insert into organizations (id, name, slug, reporting_currency, default_country, time_zone) values ($1, 'Bulk Bench', 'bulk-bench', 'USD', 'US', 'UTC') on conflict (id) do nothing`,
    [ORG_ID],
  );
  const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from contacts where organization_id = $1`, [ORG_ID]);
  const have = rows[0]!.n;
  if (have < n) {
    // US numbers in a zone whose quiet hours are checked on every recipient; the bench moves the
    // contacts' zone to one where it is daytime before each run (Etc/GMT±N). Valid numbers (the
    // exchange starts 2–3: +1415 1xx… is no such range) ending in 8, so none is a sandbox test
    // number (…0002–…0007 fail, hang or are refused at the emulator).
    for (let i = have; i < n; i += 20_000) {
      const m = Math.min(20_000, n - i);
      await sql.query(
        `with c as (
           insert into contacts (id, organization_id, phone, first_name, country, time_zone)
           select gen_random_uuid(), $1, '+1415' || (2000008 + s * 10)::text, 'Bench', 'US', 'Etc/UTC' from generate_series($2::int, $3::int) s
           returning id)
         insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at)
         select $1, id, 'SMS', 'SUBSCRIBED', 'bench', now() - interval '1 day' from c`,
        [ORG_ID, i, i + m - 1],
      );
    }
  }
  const seg = stableUuid("bench", "bulk-bench-segment", String(n));
  await sql.query(`insert into segments (id, organization_id, name, created_at, updated_at) values ($1, $2, $3, now(), now()) on conflict (id) do nothing`, [seg, ORG_ID, `bulk bench ${n}`]);
  await sql.query(
    `insert into segment_members (segment_id, contact_id, organization_id, added_at)
     select $1, id, $2, now() from (select id from contacts where organization_id = $2 order by phone limit $3) c on conflict do nothing`,
    [seg, ORG_ID, n],
  );
  // Daytime for every recipient now (quiet hours are still checked on each).
  const offset = ((12 - new Date().getUTCHours() + 36) % 24) - 12;
  const zone = offset === 0 ? "Etc/UTC" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
  await sql.query(`update contacts set time_zone = $2 where organization_id = $1 and time_zone <> $2`, [ORG_ID, zone]);
  return seg;
}

interface RunResult {
  lines: string[];
  perSecond: number;
  duplicates: number;
  lost: number;
}

export async function benchBulk(b: BenchContext): Promise<{ lines: string[] }> {
  const n = Number(process.env.BULK_BENCH_N ?? 100_000);
  const sql = new pg.Pool({ connectionString: b.databaseUrl, max: 3 });
  const lines: string[] = [`send_bulk: ${n.toLocaleString("en")} recipients, Twilio emulator answering after 50 ms, reports held until after the run`];
  const seg = await ensureAudience(sql, n);
  const sid = `AC${randomBytes(16).toString("hex")}`;
  const token = randomBytes(16).toString("hex");
  const db = openDb(b.databaseUrl, { max: 4 });
  const results: RunResult[] = [];
  try {
    // BULK_BENCH_RUNS=undisturbed or =kill runs one of the two (while looking for where the time goes).
    const which = (process.env.BULK_BENCH_RUNS ?? "undisturbed,kill").split(",").map((x) => x.trim());
    const runs = ([[], [0.3, 0.7]] as number[][]).filter((k) => which.includes(k.length ? "kill" : "undisturbed"));
    for (const kills of runs) {
      const emu = await startTwilioEmulator({ accountSid: sid, authToken: token, latencyMs: 50, reportDelayMs: 3600_000, balance: { amount: "1000000.0000", currency: "USD" }, deliver: async () => undefined });
      try {
        results.push(await oneRun(b, db, sql, emu, seg, n, kills, { sid, token }));
      } finally {
        await emu.close();
      }
    }
  } finally {
    await stopBosses(db);
    await db.$disconnect();
    await sql.end();
  }
  for (const r of results) lines.push(...r.lines);
  const ok = results.every((r) => r.perSecond >= TARGET_SENDS_PER_SECOND && r.duplicates === 0 && r.lost === 0);
  lines.push(`target: ≥ ${TARGET_SENDS_PER_SECOND} sends/s sustained, 0 duplicates, 0 losses — ${ok ? "met" : "NOT met"}`);
  return { lines };
}

async function oneRun(
  b: BenchContext, db: ReturnType<typeof openDb>, sql: pg.Pool, emu: TwilioEmulator, seg: string, n: number, kills: number[], cred: { sid: string; token: string },
): Promise<RunResult> {
  // The workers' sessions: the pool's own settings, plus track_functions=all when we may set it
  // (superuser: the trigger functions' time in pg_stat_user_functions), plus, with
  // BULK_BENCH_TRIGGERS=off, marketsage.bulk_load=on — the trigger-kept tables (campaign_stats,
  // campaign_costs, contact_facts) are then NOT maintained: a comparison run only.
  const triggersOff = process.env.BULK_BENCH_TRIGGERS === "off";
  const track = (await sql.query<{ su: boolean }>(`select rolsuper as su from pg_roles where rolname = current_user`)).rows[0]?.su === true;
  // BULK_BENCH_PG_OPTIONS: more settings for the workers' sessions (e.g. auto_explain's, to see the plans).
  const sessionOptions = `${SESSION_OPTIONS}${track ? " -c track_functions=all" : ""}${triggersOff ? " -c marketsage.bulk_load=on" : ""} ${process.env.BULK_BENCH_PG_OPTIONS ?? ""}`.trim();
  const workerUrl = new URL(b.databaseUrl);
  workerUrl.searchParams.set("options", sessionOptions);
  const env = {
    ...process.env, DATABASE_URL: workerUrl.href, MCP_LOG_LEVEL: "info",
    TWILIO_ACCOUNT_SID: cred.sid, TWILIO_AUTH_TOKEN: cred.token, TWILIO_FROM: "+15005550006", TWILIO_API_BASE: emu.url, MESSAGING_PUBLIC_URL: "http://127.0.0.1:9",
    MESSAGING_SEND_TIMEOUT_MS: "5000", BULK_RATE_TWILIO: process.env.BULK_RATE_TWILIO ?? "2000", BULK_CHUNK_SIZE: process.env.BULK_CHUNK_SIZE ?? "500", BULK_WAVE_SIZE: process.env.BULK_WAVE_SIZE ?? "50",
    BULK_WORKER_CONCURRENCY: process.env.BULK_WORKER_CONCURRENCY ?? "8", BULK_JOB_EXPIRE_SECONDS: "15", BULK_MAINTENANCE_SECONDS: "2", BULK_RECONCILE_AFTER_SECONDS: "8",
    MCP_EXTERNAL_SERVICES_ENABLED: "true",
  };
  const cfg = bulkConfig({ ...env, BULK_CONFIRM_RECIPIENTS: String(n + 1) });
  const org = await loadOrg(db, ORG_ID);
  const key = `bench-bulk-${randomUUID()}`;
  const req = { segmentId: seg, campaign: { name: `bench bulk ${key.slice(-8)}`, channel: "SMS" as const, text: "Hi {{first_name}}, 20% off today" }, provider: "twilio" as const, trackLinks: false, idempotencyKey: key };
  const t0 = performance.now();
  const p = await prepareSend(db, org, cfg, ["twilio"], req, new Date(), env.MESSAGING_PUBLIC_URL);
  const tPrep = performance.now() - t0;
  const q = await enqueueSend(db, org, cfg, p, req, { apiKeyId: "bench" }, new Date());
  const tEnq = performance.now() - t0 - tPrep;
  const stats: string[] = [];
  const spawnWorker = (): ChildProcess => {
    // BULK_BENCH_WORKER_NODE_ARGS: extra node flags for the workers (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
    const extra = (process.env.BULK_BENCH_WORKER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
    const c = spawn(process.execPath, [...extra, "--import", "tsx", path.join(ROOT, "scripts/worker.ts")], { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    let buf = "";
    c.stderr!.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.includes('"bulk worker stats"')) stats.push(line);
      }
    });
    return c;
  };
  const sent = async () => (await sql.query<{ n: number }>(`select count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 and state = 'sent'`, [q.bulkSendId])).rows[0]!.n;
  const marks: Array<{ t: number; sent: number }> = [];
  const fnBefore = await functionTimes(sql);
  let w = spawnWorker();
  try {
    const start = performance.now();
    const pending = [...kills];
    const killedAt: number[] = [];
    for (;;) {
      const s = await sent();
      marks.push({ t: performance.now(), sent: s });
      if (pending.length && s >= n * pending[0]!) {
        w.kill("SIGKILL");
        killedAt.push(s);
        pending.shift();
        w = spawnWorker();
      }
      const [st] = (await sql.query<{ status: string }>(`select status from bulk_sends where id = $1`, [q.bulkSendId])).rows;
      if (st!.status === "completed") break;
      if (performance.now() - start > 30 * 60_000) throw new Error("bulk bench: not done after 30 minutes");
      await new Promise((r) => setTimeout(r, 250));
    }
    const total = performance.now() - start;
    w.kill("SIGTERM");
    await new Promise((r) => w.once("exit", r));
    // The first poll at or past the share (the last one when fewer were sent: failures, refusals).
    const at = (share: number) => marks.find((m) => m.sent >= n * share) ?? marks.at(-1)!;
    const a = at(0.1);
    const z = at(0.9);
    const perSecond = z.t > a.t ? ((z.sent - a.sent) / (z.t - a.t)) * 1000 : 0;
    const { rows: states } = await sql.query<{ state: string; reason: string | null; n: number }>(
      `select state, split_part(reason, ':', 1) as reason, count(*)::int as n from bulk_send_recipients where bulk_send_id = $1 group by 1, 2 order by 3 desc`, [q.bulkSendId]);
    const created = emu.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Messages.json") && r.status === 201);
    const byTo = new Map<string, number>();
    for (const c of created) byTo.set(c.params.To!, (byTo.get(c.params.To!) ?? 0) + 1);
    const duplicates = [...byTo.values()].filter((x) => x > 1).length;
    const { rows: [m] } = await sql.query<{ rows: number; contacts: number }>(`select count(*)::int as rows, count(distinct contact_id)::int as contacts from messages where campaign_id = $1`, [p.spec.campaignId]);
    const lost = n - byTo.size;
    const last = stats.at(-1);
    let where = "";
    if (last) {
      const s = JSON.parse(last).stats as Record<string, number>;
      const per = (k: string) => (s[k]! / s.sends!).toFixed(2);
      where = `worker per send (last worker's counters): decide ${per("decideMs")} ms, claim ${per("claimMs")} ms, throttle wait ${per("throttleWaitMs")} ms, provider ${per("providerMs")} ms (concurrent), settle ${per("settleMs")} ms; ${s.waves} waves`;
    }
    // What the workers' sessions spent in the trigger functions (their backends flush their
    // statistics when they end: the workers are gone by now).
    await new Promise((r) => setTimeout(r, 1500));
    const fnAfter = await functionTimes(sql);
    const trig = [...fnAfter].map(([name, a]) => {
      const z = fnBefore.get(name) ?? { calls: 0, total: 0, self: 0 };
      return { name, calls: a.calls - z.calls, total: a.total - z.total };
    }).filter((x) => x.calls > 0 && TRIGGER_FUNCTIONS.includes(x.name)).sort((x, y) => y.total - x.total);
    // The triggers themselves (the functions they call are inside their total).
    const trigTotal = trig.filter((x) => TRIGGERS.includes(x.name)).reduce((acc, x) => acc + x.total, 0);
    const sentN = byTo.size || 1;
    const trigLine = triggersOff
      ? "triggers: OFF (marketsage.bulk_load=on in the workers' sessions: campaign_stats, campaign_costs and contact_facts not maintained — comparison only)"
      : track
        ? `trigger functions (pg_stat_user_functions, total incl. nested): ${(trigTotal / 1000).toFixed(1)} s = ${(trigTotal / sentN).toFixed(3)} ms per send; ${trig.map((x) => `${x.name.replace(/^marketsage_/, "")} ${(x.total / 1000).toFixed(1)} s / ${x.calls} calls`).join(", ")}`
        : "trigger functions: not measured (track_functions needs a superuser session)";
    const label = kills.length ? `with kill -9 at ${kills.map((k) => `${k * 100}%`).join(" and ")} (killed at ${killedAt.join(", ")} sent)` : "undisturbed";
    const lines = [
      `  ${label}: ${perSecond.toFixed(0)} sends/s sustained (10% → 90%), ${(total / 1000).toFixed(1)} s in all; dry-run estimate ${(tPrep / 1000).toFixed(1)} s, enqueue ${(tEnq / 1000).toFixed(1)} s`,
      `    provider-side: ${created.length} creations, ${byTo.size} distinct numbers; duplicates ${duplicates}, lost ${lost}; Message rows ${m!.rows} for ${m!.contacts} contacts`,
      `    recipients: ${states.map((x) => `${x.state}${x.reason ? ` (${x.reason})` : ""} ${x.n}`).join(", ")}`,
      ...(where ? [`    ${where}`] : []),
      `    ${trigLine}`,
    ];
    return { lines, perSecond, duplicates, lost };
  } finally {
    if (w.exitCode === null && w.signalCode === null) {
      w.kill("SIGKILL");
      await new Promise((r) => w.once("exit", r));
    }
    await cleanup(sql, q.bulkSendId, p.spec.campaignId);
  }
}

/** The trigger functions on messages and message_events (the first four), then the functions they call. */
// The trigger functions first (their total holds what they call), then what they call.
const TRIGGERS = [
  "marketsage_campaign_events_changed", "marketsage_campaign_messages_changed", "marketsage_events_inserted", "marketsage_apply_message_event",
  "marketsage_kpi_events_changed", "marketsage_kpi_messages_changed", "marketsage_active_days_changed",
];
const TRIGGER_FUNCTIONS = [
  ...TRIGGERS,
  "marketsage_apply_campaign_stats", "marketsage_apply_campaign_costs", "marketsage_contact_updated", "marketsage_apply_contact_to_members",
  "marketsage_apply_message_kpis", "marketsage_add_active_days",
];

async function functionTimes(sql: pg.Pool): Promise<Map<string, { calls: number; total: number; self: number }>> {
  const { rows } = await sql.query<{ funcname: string; calls: string; total_time: number; self_time: number }>(
    `select funcname, sum(calls)::text as calls, sum(total_time)::float8 as total_time, sum(self_time)::float8 as self_time from pg_stat_user_functions where funcname like 'marketsage_%' group by 1`);
  return new Map(rows.map((r) => [r.funcname, { calls: Number(r.calls), total: r.total_time, self: r.self_time }]));
}

async function cleanup(sql: pg.Pool, bulkSendId: string, campaignId: string): Promise<void> {
  // With the trigger-kept tables' upkeep off: per deleted event the triggers recount the message's
  // flags and re-read the contact's latest events — 100,000 messages took over 40 minutes that way.
  // marketsage.bulk_load turns most of them off (not the contact-facts refresh on delete, which
  // took 5 minutes for 52,000 events alone); a superuser session skips them all (replica role).
  // The run's campaign_stats and campaign_costs rows are deleted below, and the bench
  // organization's contact facts, engagement state, message KPI slots and active days are rebuilt after.
  const c = await sql.connect();
  try {
    await c.query(`select set_config('marketsage.bulk_load', 'on', false)`);
    const su = (await c.query<{ su: boolean }>(`select rolsuper as su from pg_roles where rolname = current_user`)).rows[0]?.su === true;
    if (su) await c.query(`set session_replication_role = replica`);
    for (;;) {
      const { rows } = await c.query<{ id: string }>(`select id::text from messages where campaign_id = $1 limit 5000`, [campaignId]);
      if (rows.length === 0) break;
      const ids = rows.map((r) => r.id);
      await c.query(`delete from message_events where message_id = any($1::uuid[])`, [ids]);
      await c.query(`delete from messages where id = any($1::uuid[])`, [ids]);
    }
    await c.query(`delete from message_events where campaign_id = $1`, [campaignId]);
    await c.query(`delete from campaign_stats where campaign_id = $1`, [campaignId]);
    await c.query(`delete from campaign_costs where campaign_id = $1`, [campaignId]);
    await c.query(`delete from bulk_send_recipients where bulk_send_id = $1`, [bulkSendId]);
    await c.query(`delete from bulk_sends where id = $1`, [bulkSendId]);
    await c.query(`delete from campaigns where id = $1`, [campaignId]);
    await c.query(`select set_config('marketsage.bulk_load', 'off', false)`);
    if (su) await c.query(`set session_replication_role = origin`);
    await c.query(`select marketsage_rebuild_contact_facts($1::uuid)`, [ORG_ID]);
    await c.query(`select marketsage_rebuild_engagement_state($1::uuid)`, [ORG_ID]);
    await c.query(`select marketsage_rebuild_message_kpis($1::uuid)`, [ORG_ID]);
    await c.query(`select marketsage_rebuild_active_days($1::uuid)`, [ORG_ID]);
  } finally {
    c.release();
  }
}
