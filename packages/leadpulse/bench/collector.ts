// The collector under load: POST /collect on the HTTP host (its own process, started here) with
// autocannon, batches of 20 events per request (one visitor's page views, clicks, a form and a
// page leave), each request with new event ids and one of 5,000 visitors, sendBeacon's text/plain
// body and an allowed Origin — through everything a real request meets: the per-address and
// per-site-key limits (raised above the load), the key and origin checks, parsing, one transaction.
// Beside it, the same events written by hand-written SQL (one multi-row INSERT of touchpoints per
// batch, 10 connections): the floor of what storing them costs. What the bench wrote is deleted.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import pg from "pg";
import type { BenchContext } from "@marketsage/core";
import { DEMO_ORGS, demoSiteKey } from "@marketsage/db";

export const TARGET_EVENTS_PER_SECOND = 3_000;
export const TARGET_P99_MS = 50;
const BATCH = 20;
const VISITORS = 5_000;
const ORIGIN = "http://localhost:8080";
const UA = "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const PREFIX = "benchc";
const here = path.dirname(fileURLToPath(import.meta.url));

async function startTarget(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "collector-target.ts")], { env, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.split("\n")[0]!.trim());
    });
    child.on("exit", (code) => reject(new Error(`collector target exited ${code}`)));
  });
  return { child, url };
}

let seq = 0;
/** One visitor's batch of 20 events, new ids, timestamps just before now. */
function batchBody(run: string): string {
  const r = seq++;
  const visitor = `${PREFIX}_${run}_v${r % VISITORS}`;
  const now = Date.now();
  const events: unknown[] = [];
  let pv = "";
  for (let i = 0; i < BATCH; i++) {
    const id = `${PREFIX}_${run}_${r}_${i}`;
    const ts = now - (BATCH - i) * 1_000;
    const url = `https://shop.test/products/item-${(r + i) % 50}`;
    if (i % 5 === 0) {
      pv = id;
      events.push({ type: "pageview", id, ts, visitor_id: visitor, url, title: "Item", referrer: i === 0 ? "https://www.google.com/" : "" });
    } else if (i % 5 === 4) events.push({ type: "page_leave", id, ts, visitor_id: visitor, url, pageview_id: pv, scroll_depth: 60, duration_sec: 4 });
    else if (i === 7) events.push({ type: "form_start", id, ts, visitor_id: visitor, url, form_id: "newsletter" });
    else events.push({ type: "click", id, ts, visitor_id: visitor, url, text: "Add to cart" });
  }
  return JSON.stringify({ events, context: { tz: "Africa/Lagos" } });
}

interface Load { eventsPerSecond: number; requestsPerSecond: number; p50: number; p99: number; non2xx: number; errors: number }

async function load(url: string, key: string, run: string, seconds: number, connections: number): Promise<Load> {
  const result = await autocannon({
    url: `${url}/collect?key=${key}`,
    connections,
    duration: seconds,
    requests: [{ method: "POST", headers: { "content-type": "text/plain;charset=UTF-8", origin: ORIGIN, "user-agent": UA }, setupRequest: (req) => ({ ...req, body: batchBody(run) }) }],
  });
  const ok = result.requests.total - result.non2xx;
  return {
    eventsPerSecond: (ok * BATCH) / seconds,
    requestsPerSecond: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The same kind of rows by hand: one INSERT of 20 touchpoints per batch, 10 connections. */
async function rawInserts(databaseUrl: string, orgId: string, seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const { rows } = await pool.query(`insert into visitors (id, organization_id, fingerprint, device, first_seen_at, last_seen_at)
    values (gen_random_uuid(), $1, '${PREFIX}_raw_visitor', 'MOBILE', now(), now()) on conflict (organization_id, fingerprint) do update set last_seen_at = now() returning id`, [orgId]);
  const visitor = rows[0].id as string;
  const deadline = performance.now() + seconds * 1000;
  let batches = 0;
  await Promise.all(
    Array.from({ length: 10 }, async (_, w) => {
      for (let k = 0; performance.now() < deadline; k++) {
        const ids = Array.from({ length: BATCH }, (_, i) => `${PREFIX}_raw_${w}_${k}_${i}`);
        await pool.query(
          `insert into touchpoints (organization_id, visitor_id, type, url, occurred_at, client_event_id)
           select $1, $2, 'PAGEVIEW', 'https://shop.test/products/x', now(), id from unnest($3::text[]) id
           on conflict (organization_id, client_event_id) where client_event_id is not null do nothing`,
          [orgId, visitor, ids],
        );
        batches++;
      }
    }),
  );
  await pool.end();
  return (batches * BATCH) / seconds;
}

async function cleanup(databaseUrl: string, orgId: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const like = `${PREFIX}\\_%`;
    await c.query(`delete from touchpoints t using visitors v where v.id = t.visitor_id and v.organization_id = $1 and v.fingerprint like $2`, [orgId, like]);
    await c.query(`delete from visitor_sessions s using visitors v where v.id = s.visitor_id and v.organization_id = $1 and v.fingerprint like $2`, [orgId, like]);
    await c.query(`delete from visitors where organization_id = $1 and fingerprint like $2`, [orgId, like]);
  } finally {
    await c.end();
  }
}

export async function benchCollector(b: BenchContext, opts: { seconds?: number; connections?: number } = {}): Promise<{ lines: string[] }> {
  const seconds = opts.seconds ?? 20;
  const connections = opts.connections ?? 5;
  const org = DEMO_ORGS.find((o) => o.id === b.orgId) ?? DEMO_ORGS[0]!;
  const env = {
    ...process.env,
    DATABASE_URL: b.databaseUrl,
    MCP_HTTP_PORT: "0",
    LOG_LEVEL: "warn",
    // Above the load, so the limits are checked on every request without refusing it.
    LEADPULSE_COLLECT_PER_ADDRESS_PER_MINUTE: process.env.BENCH_ADDR ?? "1000000",
    LEADPULSE_COLLECT_PER_KEY_PER_MINUTE: process.env.BENCH_KEY ?? "1000000",
  };
  const run = Date.now().toString(36);
  const t = await startTarget(env);
  const lines: string[] = [];
  try {
    await load(t.url, demoSiteKey(org), `${run}w`, 3, connections); // warm-up
    const r = await load(t.url, demoSiteKey(org), run, seconds, connections);
    if (r.non2xx || r.errors) lines.push(`collector: ${r.non2xx} non-2xx answers and ${r.errors} errors — the figures below are not valid`);
    const raw = await rawInserts(b.databaseUrl, org.id, Math.min(seconds, 10));
    const okRate = r.eventsPerSecond >= TARGET_EVENTS_PER_SECOND ? "met" : "NOT met";
    const okP99 = r.p99 <= TARGET_P99_MS ? "met" : "NOT met";
    lines.push(
      `collector POST /collect, batches of ${BATCH}, ${connections} connections, ${seconds} s: ${Math.round(r.eventsPerSecond)} events/s ` +
        `(${Math.round(r.requestsPerSecond)} requests/s; target ≥ ${TARGET_EVENTS_PER_SECOND}: ${okRate}), latency p50 ${r.p50} ms, p99 ${r.p99} ms (target ≤ ${TARGET_P99_MS}: ${okP99}); ` +
        `hand-written INSERT of the same rows: ${Math.round(raw)} events/s (ratio ${(r.eventsPerSecond / raw).toFixed(2)})`,
    );
  } finally {
    t.child.kill("SIGTERM");
    await new Promise((res) => t.child.once("exit", res));
    await cleanup(b.databaseUrl, org.id);
  }
  return { lines };
}
