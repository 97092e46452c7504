// Delivery reports under load on the HTTP host (its own process, started here): Twilio status
// callbacks for messages inserted beforehand, each signed with X-Twilio-Signature exactly as Twilio
// signs it (the SDK's getExpectedTwilioSignature over the URL the host sees and the form fields),
// precomputed, then posted by a fixed number of concurrent keep-alive connections (node:http, one
// request in flight per connection) — through everything a real callback meets: the host, the
// route, the signature check, parsing, the report applied in its own transaction (locks, the row,
// the duplicate check, the event and its triggers, the status). Checked after the run by SQL: that
// many messages DELIVERED and that many DELIVERED events.
//
// The host's sandbox secrets are random per process, so Twilio is configured "live" for the host
// process with the bench's own account sid and auth token (nothing reaches Twilio: the bench only
// receives). Beside the load, in the same run: the same number of single-row UPDATEs of the status
// by hand over 5 connections (the floor of "a message becomes DELIVERED"), and, to show where the
// time goes, the report's statements by hand in one transaction per report over as many
// connections as the load, and the CPU the host process, PostgreSQL and the load generator used.
// What the bench wrote (messages, events, any held report) is deleted.
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import twilio from "twilio";
import type { BenchContext } from "@marketsage/core";
import { met, ms, pct } from "./stats.ts";

export const TARGET_REPORTS_PER_SECOND = 1_000;
const API_VERSION = "2010-04-01";
const FROM = "+15005550006";
const KEY_PREFIX = "bench-wh";
const WARMUP = 1_000;
/** The plain UPDATE reference's connections. */
const REFERENCE_CONNECTIONS = 5;
const here = path.dirname(fileURLToPath(import.meta.url));

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => s.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function startTarget(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "webhook-target.ts")], { env, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0]!.trim());
    });
    child.on("exit", (code) => reject(new Error(`webhook target exited ${code}`)));
    setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("webhook target did not print its URL within 60 s"));
    }, 60_000).unref();
  });
  return { child, url };
}

interface Msg { id: string; pid: string; to: string }
interface Signed { body: string; signature: string }

/** One delivered status callback per message, as the Twilio emulator (and Twilio) sends it. */
function signAll(url: string, token: string, accountSid: string, msgs: readonly Msg[]): Signed[] {
  return msgs.map((m) => {
    const params: Record<string, string> = {
      SmsSid: m.pid, SmsStatus: "delivered", MessageStatus: "delivered", To: m.to, MessageSid: m.pid, AccountSid: accountSid, From: FROM, ApiVersion: API_VERSION,
    };
    return { body: new URLSearchParams(params).toString(), signature: twilio.getExpectedTwilioSignature(token, url, params) };
  });
}

interface Load { seconds: number; ok: number; non2xx: number; errors: number; latencies: number[]; firstFailure: string | null }

/** Posts every request once: `connections` keep-alive connections, one request in flight on each. */
async function load(url: string, reqs: readonly Signed[], connections: number): Promise<Load> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let firstFailure: string | null = null;
  const post = (r: Signed) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.request(
        {
          agent, host: u.hostname, port: u.port, path: u.pathname, method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", "content-length": Buffer.byteLength(r.body), "x-twilio-signature": r.signature, "user-agent": "TwilioProxy/1.1" },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            latencies.push(performance.now() - t0);
            const s = res.statusCode ?? 0;
            if (s >= 200 && s < 300) ok++;
            else {
              non2xx++;
              firstFailure ??= `${s} ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`;
            }
            resolve();
          });
        },
      );
      req.on("error", (e) => {
        errors++;
        firstFailure ??= e.message;
        resolve();
      });
      req.end(r.body);
    });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      for (let i = next++; i < reqs.length; i = next++) await post(reqs[i]!);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { seconds, ok, non2xx, errors, latencies, firstFailure };
}

/** Runs `fn` once per item over `connections` clients of `pool`; items per second. */
async function overConnections<T>(pool: pg.Pool, connections: number, items: readonly T[], fn: (c: pg.PoolClient, item: T) => Promise<unknown>): Promise<number> {
  const clients = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  let next = 0;
  const t0 = performance.now();
  try {
    await Promise.all(clients.map(async (c) => {
      for (let i = next++; i < items.length; i = next++) await fn(c, items[i]!);
    }));
  } finally {
    for (const c of clients) c.release();
  }
  return items.length / ((performance.now() - t0) / 1000);
}

// CPU time (Linux /proc, clock ticks of 10 ms) of the host process, PostgreSQL's processes (when
// they run on this machine) and this process, to say which side a slow load waits on.
const TICK_MS = 10;
function ticksOf(pid: number | string): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]); // utime, stime
  } catch {
    return 0;
  }
}
function postgresTicks(): number {
  let sum = 0;
  try {
    for (const pid of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres") sum += ticksOf(pid);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return 0;
  }
  return sum;
}
interface Cpu { host: number; postgres: number; self: number }
const cpuNow = (hostPid: number): Cpu => ({ host: ticksOf(hostPid) * TICK_MS, postgres: postgresTicks() * TICK_MS, self: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 });

export async function benchWebhooks(b: BenchContext, opts: { reports?: number; connections?: number } = {}): Promise<{ lines: string[] }> {
  const n = opts.reports ?? Number(process.env.BENCH_WEBHOOK_REPORTS ?? 20_000);
  const connections = opts.connections ?? Number(process.env.BENCH_WEBHOOK_CONNECTIONS ?? 10);
  const run = `${KEY_PREFIX}-${Date.now().toString(36)}`;
  const accountSid = `AC${randomBytes(16).toString("hex")}`;
  const token = randomBytes(16).toString("hex");
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: b.databaseUrl,
    MCP_HTTP_HOST: "127.0.0.1",
    MCP_HTTP_PORT: String(port),
    LOG_LEVEL: "warn",
    MESSAGING_SANDBOX: "",
    MESSAGING_PUBLIC_URL: base,
    TWILIO_ACCOUNT_SID: accountSid,
    TWILIO_AUTH_TOKEN: token,
    TWILIO_FROM: FROM,
    TWILIO_MESSAGING_SERVICE_SID: "",
  };
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: Math.max(connections, REFERENCE_CONNECTIONS) });
  const sets = { warmup: WARMUP, measured: n, update: n, transaction: n } as const;
  const msgs: Record<keyof typeof sets, Msg[]> = { warmup: [], measured: [], update: [], transaction: [] };
  // Outbound SMS the reports name: SENT through Twilio, a provider id each, a recipient each.
  const rows: Array<{ set: keyof typeof sets; pid: string; to: string; key: string }> = [];
  let k = 0;
  for (const [set, count] of Object.entries(sets) as Array<[keyof typeof sets, number]>) {
    for (let i = 0; i < count; i++, k++) rows.push({ set, pid: `SM${randomBytes(16).toString("hex")}`, to: `+1415${5_550_000 + k}`, key: `${run}-${set}-${i}` });
  }
  const lines: string[] = [];
  const t = await startTarget(env);
  try {
    if (t.url !== base) throw new Error(`webhook target listens on ${t.url}, not ${base}`);
    // One INSERT of every set.
    const inserted = await pool.query<{ id: string; provider_message_id: string }>(
      `insert into messages (id, organization_id, channel, direction, recipient, sender, body, provider, provider_message_id, idempotency_key, segments, status, created_at, status_at)
       select gen_random_uuid(), $1, 'SMS', 'OUTBOUND', x.rcpt, $2, 'Your order has shipped.', 'twilio', x.pid, x.key, 1, 'SENT', now(), now()
         from unnest($3::text[], $4::text[], $5::text[]) as x(pid, rcpt, key)
       returning id::text, provider_message_id`,
      [b.orgId, FROM, rows.map((r) => r.pid), rows.map((r) => r.to), rows.map((r) => r.key)],
    );
    const idOf = new Map(inserted.rows.map((r) => [r.provider_message_id, r.id]));
    for (const r of rows) msgs[r.set].push({ id: idOf.get(r.pid)!, pid: r.pid, to: r.to });

    const url = `${base}/webhooks/twilio/status`;
    const warm = await load(url, signAll(url, token, accountSid, msgs.warmup), connections);
    if (warm.ok !== WARMUP) throw new Error(`webhooks warm-up: ${warm.ok} of ${WARMUP} answered 2xx (${warm.firstFailure ?? "no answer"})`);
    const signed = signAll(url, token, accountSid, msgs.measured);
    const cpu0 = cpuNow(t.child.pid!);
    const r = await load(url, signed, connections);
    const cpu1 = cpuNow(t.child.pid!);
    const ids = msgs.measured.map((m) => m.id);
    const [check] = (
      await pool.query<{ delivered: number; events: number }>(
        `select (select count(*)::int from messages where id = any($1::uuid[]) and status = 'DELIVERED') delivered,
                (select count(*)::int from message_events where message_id = any($1::uuid[]) and type = 'DELIVERED') events`,
        [ids],
      )
    ).rows;
    const rate = r.ok / r.seconds;

    // The floor: each message made DELIVERED by one UPDATE, found by the same index a report uses.
    const updateRate = await overConnections(pool, REFERENCE_CONNECTIONS, msgs.update, (c, m) =>
      c.query(`update messages set status = 'DELIVERED', status_at = now() where provider = 'twilio' and provider_message_id = $1`, [m.pid]),
    );
    // The report's statements by hand, one transaction per report over as many connections as the
    // load (what applying a report asks of the database, without the HTTP host and the application
    // around it): the id's advisory lock, the row FOR UPDATE, the event insert unless one with the
    // report's key exists (its triggers), the status update.
    const txRate = await overConnections(pool, connections, msgs.transaction, async (c, m) => {
      const reportKey = `${m.pid}:delivered`;
      await c.query("begin");
      try {
        await c.query(`select pg_advisory_xact_lock(7401, hashtext('twilio:' || $1::text))`, [m.pid]);
        const found = await c.query<{ id: string }>(
          `select id, status::text from messages where provider = 'twilio' and provider_message_id = $1 and direction = 'OUTBOUND' order by created_at desc limit 1 for update`, [m.pid]);
        const id = found.rows[0]!.id;
        await c.query(
          `insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
           select organization_id, id, campaign_id, variant_id, contact_id, channel, 'DELIVERED', greatest(now(), created_at, (select max(occurred_at) from message_events e where e.message_id = messages.id)), $2::jsonb
             from messages where id = $1 and not exists (select 1 from message_events e where e.message_id = $1 and e.detail->>'report_key' = $3)`,
          [id, JSON.stringify({ report_key: reportKey, provider_status: "delivered", code: null, reason: null, provider_at: new Date().toISOString() }), reportKey],
        );
        await c.query(`update messages set status = 'DELIVERED', status_at = greatest(now(), created_at) where id = $1`, [id]);
        await c.query("commit");
      } catch (e) {
        await c.query("rollback");
        throw e;
      }
    });

    if (r.non2xx || r.errors) lines.push(`webhooks: ${r.non2xx} non-2xx answers and ${r.errors} errors (first: ${r.firstFailure}) — the figures below are not valid`);
    if (check!.delivered !== r.ok || check!.events !== r.ok) lines.push(`webhooks: ${r.ok} reports answered 2xx but ${check!.delivered} messages are DELIVERED and ${check!.events} DELIVERED events exist — reports were lost or doubled`);
    const wall = r.seconds * 1000;
    const share = (x: number) => `${Math.round((100 * x) / wall)}%`;
    lines.push(
      `webhooks POST /webhooks/twilio/status (signed Twilio status callbacks, delivered), ${n} reports, ${connections} keep-alive connections (node:http, one request in flight each): ` +
        `${Math.round(rate)} reports/s 2xx (target ≥ ${TARGET_REPORTS_PER_SECOND}: ${met(rate >= TARGET_REPORTS_PER_SECOND)}), latency p50 ${ms(pct(r.latencies, 50))} ms, p95 ${ms(pct(r.latencies, 95))} ms, ` +
        `p99 ${ms(pct(r.latencies, 99))} ms; checked by SQL: ${check!.delivered} of ${n} messages DELIVERED, ${check!.events} DELIVERED events; ` +
        `reference: single-row UPDATE of the status by hand over ${REFERENCE_CONNECTIONS} connections ${Math.round(updateRate)}/s (ratio ${(rate / updateRate).toFixed(2)})`,
    );
    lines.push(
      `webhooks, where the time goes: the report's statements by hand (one transaction each: the id's advisory lock, the row FOR UPDATE, the event insert unless its report key exists, the status update) over ` +
        `${connections} connections ${Math.round(txRate)}/s (the host reaches ${(rate / txRate).toFixed(2)} of it); CPU during the load (${(r.seconds).toFixed(1)} s wall, ${os.availableParallelism()} cores): ` +
        `host process ${share(cpu1.host - cpu0.host)} of one core, PostgreSQL ${share(cpu1.postgres - cpu0.postgres)}, the load generator ${share(cpu1.self - cpu0.self)}`,
    );
  } finally {
    t.child.kill("SIGTERM");
    await new Promise((res) => t.child.once("exit", res));
    try {
      // By the exact keys the rows were inserted with (the unique index), whatever step failed.
      const ids = (await pool.query<{ id: string }>(`select id::text from messages where organization_id = $1 and idempotency_key = any($2::text[])`, [b.orgId, rows.map((x) => x.key)])).rows.map((x) => x.id);
      await pool.query(`delete from message_events where message_id = any($1::uuid[])`, [ids]);
      await pool.query(`delete from messages where id = any($1::uuid[])`, [ids]);
      await pool.query(`delete from pending_status_reports where provider = 'twilio' and provider_message_id = any($1::text[])`, [rows.map((x) => x.pid)]);
    } finally {
      await pool.end();
    }
  }
  return { lines };
}
