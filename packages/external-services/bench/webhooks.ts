// Delivery reports under load on the HTTP host (its own process, started here): Twilio status
// callbacks, each signed with X-Twilio-Signature as Twilio signs them, for messages inserted
// beforehand, sent by 10 concurrent keep-alive connections (Node's fetch) — through everything a
// real callback meets: the route, the signature check, parsing, the report applied in its own
// transaction (lock, duplicate check, event, status). Checked after the run by SQL: that many
// messages are DELIVERED. Beside it, the same number of single-row UPDATEs of the status by hand
// over 10 connections: the floor. What the bench wrote is deleted.
import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import twilio from "twilio";
import type { BenchContext } from "@marketsage/core";

export const TARGET_REPORTS_PER_SECOND = 1_000;
const CONNECTIONS = 10;
const here = path.dirname(fileURLToPath(import.meta.url));
const SID = `AC${randomBytes(16).toString("hex")}`;
const TOKEN = randomBytes(16).toString("hex");

async function startTarget(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "webhook-target.ts")], { env, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0]!.trim());
    });
    child.on("exit", (code) => reject(new Error(`webhook target exited ${code}`)));
  });
  return { child, url };
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function drive(url: string, pids: string[]): Promise<{ seconds: number; latencies: number[]; non2xx: number }> {
  const target = `${url}/webhooks/twilio/status`;
  const requests = pids.map((pid) => {
    const params = { SmsSid: pid, SmsStatus: "delivered", MessageStatus: "delivered", To: "+14155550001", MessageSid: pid, AccountSid: SID, From: "+15005550006", ApiVersion: "2010-04-01" };
    return { body: new URLSearchParams(params).toString(), signature: twilio.getExpectedTwilioSignature(TOKEN, target, params) };
  });
  const latencies: number[] = [];
  let non2xx = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const r = requests[i]!;
        const t0 = performance.now();
        const res = await fetch(target, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": r.signature }, body: r.body });
        await res.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (res.status < 200 || res.status >= 300) non2xx++;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies, non2xx };
}

export async function benchWebhooks(b: BenchContext, opts: { reports?: number } = {}): Promise<{ lines: string[] }> {
  const n = opts.reports ?? 5_000;
  const run = randomBytes(4).toString("hex");
  const prefix = `SMbench${run}`;
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: CONNECTIONS });
  const env = { ...process.env, DATABASE_URL: b.databaseUrl, MCP_HTTP_PORT: "0", LOG_LEVEL: "warn", TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: "+15005550006", MESSAGING_SANDBOX: "" };
  const insert = (tag: string, count: number) =>
    pool.query(
      `insert into messages (id, organization_id, channel, direction, recipient, sender, provider, provider_message_id, status, created_at, status_at)
       select gen_random_uuid(), $1, 'SMS', 'OUTBOUND', '+14155550001', '+15005550006', 'twilio', $2 || lpad(i::text, 10, '0'), 'SENT', now(), now()
         from generate_series(1, $3::int) i`,
      [b.orgId, `${prefix}${tag}`, count],
    );
  const pidsOf = (tag: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${tag}${String(i + 1).padStart(10, "0")}`);
  const t = await startTarget(env);
  const lines: string[] = [];
  try {
    await insert("w", 300);
    await insert("m", n);
    await insert("r", n);
    await drive(t.url, pidsOf("w", 300)); // warm-up
    const r = await drive(t.url, pidsOf("m", n));
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int n from messages where provider = 'twilio' and provider_message_id like $1 and status = 'DELIVERED'`, [`${prefix}m%`]);
    // The floor: the same number of single-row status updates by hand over as many connections.
    const refPids = pidsOf("r", n);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let i = next++; i < refPids.length; i = next++) {
          await pool.query(`update messages set status = 'DELIVERED', status_at = now() where provider = 'twilio' and provider_message_id = $1`, [refPids[i]]);
        }
      }),
    );
    const refRate = n / ((performance.now() - t0) / 1000);
    const rate = (n - r.non2xx) / r.seconds;
    if (r.non2xx) lines.push(`webhooks: ${r.non2xx} non-2xx answers — the figures below are not valid`);
    if (rows[0]!.n !== n) lines.push(`webhooks: ${rows[0]!.n} of ${n} messages are DELIVERED after the run — reports were lost`);
    lines.push(
      `webhooks: ${n} signed Twilio status callbacks, ${CONNECTIONS} connections: ${Math.round(rate)} reports/s (target ≥ ${TARGET_REPORTS_PER_SECOND}: ${rate >= TARGET_REPORTS_PER_SECOND ? "met" : "NOT met"}), ` +
        `latency p50 ${pct(r.latencies, 50).toFixed(1)} ms, p95 ${pct(r.latencies, 95).toFixed(1)} ms, p99 ${pct(r.latencies, 99).toFixed(1)} ms; ${rows[0]!.n} of ${n} messages DELIVERED after the run; ` +
        `hand-written single-row UPDATE of the status: ${Math.round(refRate)}/s (ratio ${(rate / refRate).toFixed(2)})`,
    );
  } finally {
    t.child.kill("SIGTERM");
    await new Promise((res) => t.child.once("exit", res));
    await pool.query(`delete from message_events where message_id in (select id from messages where provider = 'twilio' and provider_message_id like $1)`, [`${prefix}%`]);
    await pool.query(`delete from messages where provider = 'twilio' and provider_message_id like $1`, [`${prefix}%`]);
    await pool.end();
  }
  return { lines };
}
