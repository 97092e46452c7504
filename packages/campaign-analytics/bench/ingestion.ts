// What the campaign_stats / campaign_costs triggers (migration campaign_stats) cost on the send
// pipeline's writes. Runs in a scratch database on the same server (migrated here, dropped at the
// end): the bench database is only used to reach the server. Each send is one messages row and its
// events (QUEUED, SENT, DELIVERED, and OPENED for every third send), written by 4 concurrent writers,
// either 50 sends per transaction (one multi-row statement per table) or one send per transaction.
// Every configuration runs with the six rollup triggers enabled and disabled, in turns (on, off, on,
// off, …) so that other work on the machine slows both alike. The organization already has a history
// (older campaigns' messages and events, analyzed), and each run is a new campaign the planner's
// statistics do not know yet, as at the start of a real blast; after each run its rows are removed
// again, so every run starts from the same tables. The other triggers on message_events (contacts'
// engagement, contact_facts) stay on in both.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { BenchContext } from "@marketsage/core";
import { applyMigrations } from "@marketsage/db";

const ROLLUP_TRIGGERS = [
  ["message_events", "message_events_campaign_stats_insert"],
  ["message_events", "message_events_campaign_stats_update"],
  ["message_events", "message_events_campaign_stats_delete"],
  ["messages", "messages_campaign_costs_insert"],
  ["messages", "messages_campaign_costs_update"],
  ["messages", "messages_campaign_costs_delete"],
] as const;

/** The send pipeline's target (issue 10). */
export const TARGET_SENDS_PER_SECOND = 500;

export interface IngestionOptions {
  /** Writers in parallel (4). */
  writers?: number;
  /** Each run stops after this many seconds (20) … */
  seconds?: number;
  /** … or this many sends, whichever comes first (batched: 20,000; single: 8,000). */
  sends?: { batched: number; single: number };
  /** Runs per configuration; the median is reported (3). */
  runs?: number;
  /** Contacts in the scratch organization (20,000). */
  contacts?: number;
  /** The history: older campaigns (300), each with this many messages (300). */
  history?: { campaigns: number; messages: number };
}

interface Run {
  sends: number;
  events: number;
  seconds: number;
  /** Milliseconds per transaction. */
  tx: number[];
  /** Sends per second over the last quarter of the run's sends (a slowdown as the campaign grows shows here). */
  lastQuarter: number;
}

const ORG = "1e000000-0000-4000-8000-000000000001";

/** The run's campaign and its two variants (ids new each run). */
interface Blast { campaign: string; variants: readonly [string, string] }

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A client on the server's maintenance database (or, when the server has none, on the given one: CREATE DATABASE writes no table there). */
async function adminClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: withDatabase(url, "postgres") });
  try {
    await c.connect();
    return c;
  } catch (e) {
    if ((e as { code?: string }).code !== "3D000") throw e;
    const fallback = new pg.Client({ connectionString: url });
    await fallback.connect();
    return fallback;
  }
}

/** One transaction's rows: `n` sends starting at send number `first`. */
function sendRows(blast: Blast, first: number, n: number, contacts: readonly string[], t0: number) {
  const m = { id: [] as string[], variant: [] as string[], contact: [] as string[], key: [] as string[], at: [] as Date[] };
  const e = { message: [] as string[], variant: [] as string[], contact: [] as string[], type: [] as string[], at: [] as Date[] };
  for (let k = 0; k < n; k++) {
    const i = first + k;
    const id = randomUUID();
    const variant = blast.variants[i % 2]!;
    const contact = contacts[i % contacts.length]!;
    const at = t0 + i;
    m.id.push(id); m.variant.push(variant); m.contact.push(contact); m.key.push(`ingest-${id}`); m.at.push(new Date(at));
    const types = i % 3 === 0 ? ["QUEUED", "SENT", "DELIVERED", "OPENED"] : ["QUEUED", "SENT", "DELIVERED"];
    types.forEach((type, j) => {
      e.message.push(id); e.variant.push(variant); e.contact.push(contact); e.type.push(type); e.at.push(new Date(at + j * 1000));
    });
  }
  return { campaign: blast.campaign, m, e };
}

const INSERT_MESSAGES = `
  insert into messages (id, organization_id, campaign_id, variant_id, contact_id, channel, direction, recipient, provider, idempotency_key, cost, currency, status, created_at)
  select id, '${ORG}', $6::uuid, variant, contact, 'EMAIL', 'OUTBOUND', 'ingest@example.test', 'bench', key, 0.0010, 'USD', 'DELIVERED', at
    from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[]) as s(id, variant, contact, key, at)`;
const INSERT_EVENTS = `
  insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at)
  select '${ORG}', message, $6::uuid, variant, contact, 'EMAIL', type, at
    from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::"MessageEventType"[], $5::timestamptz[]) as s(message, variant, contact, type, at)`;

async function writeSends(c: pg.Client, rows: ReturnType<typeof sendRows>): Promise<void> {
  await c.query("begin");
  try {
    await c.query(INSERT_MESSAGES, [rows.m.id, rows.m.variant, rows.m.contact, rows.m.key, rows.m.at, rows.campaign]);
    await c.query(INSERT_EVENTS, [rows.e.message, rows.e.variant, rows.e.contact, rows.e.type, rows.e.at, rows.campaign]);
    await c.query("commit");
  } catch (err) {
    await c.query("rollback").catch(() => undefined);
    throw err;
  }
}

/** One run; `day` moves its events a day later than the previous run's, so every delivery is newer than the contact's last (as in life). */
async function runOnce(writers: pg.Client[], blast: Blast, contacts: readonly string[], perTx: number, maxSends: number, seconds: number, day: number): Promise<Run> {
  let next = 0;
  let sends = 0;
  let events = 0;
  const tx: number[] = [];
  /** [time, sends so far] after each transaction. */
  const marks: Array<[number, number]> = [];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const base = Date.parse("2026-12-01T08:00:00.000Z") + day * 86_400_000;
  await Promise.all(
    writers.map(async (c) => {
      while (performance.now() < deadline && next < maxSends) {
        const first = next;
        const n = Math.min(perTx, maxSends - first);
        next += n;
        const rows = sendRows(blast, first, n, contacts, base);
        const s = performance.now();
        await writeSends(c, rows);
        const end = performance.now();
        tx.push(end - s);
        sends += n;
        events += rows.e.type.length;
        marks.push([end, sends]);
      }
    }),
  );
  const t1 = performance.now();
  const q3 = marks.find(([, k]) => k >= sends * 0.75) ?? [t0, 0];
  return { sends, events, seconds: (t1 - t0) / 1000, tx, lastQuarter: (sends - q3[1]) / Math.max(1e-3, (t1 - q3[0]) / 1000) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]! : NaN;
};
const f0 = (x: number) => Math.round(x).toLocaleString("en-US");
const f1 = (x: number) => x.toFixed(1);

export async function benchIngestion(b: BenchContext, opts: IngestionOptions = {}): Promise<{ lines: string[] }> {
  const writersN = opts.writers ?? 4;
  const seconds = opts.seconds ?? 20;
  const budget = opts.sends ?? { batched: 20_000, single: 8_000 };
  const runs = opts.runs ?? 3;
  const contactsN = opts.contacts ?? 20_000;
  const history = opts.history ?? { campaigns: 300, messages: 300 };
  const name = `ms_ingest_${process.pid}_${Date.now().toString(36)}`;
  const admin = await adminClient(b.databaseUrl);
  await admin.query(`create database "${name}"`);
  const url = withDatabase(b.databaseUrl, name);
  const writers: pg.Client[] = [];
  const c = new pg.Client({ connectionString: url, application_name: "marketsage-bench-ingestion" });
  try {
    await applyMigrations(url);
    await c.connect();
    await c.query(`insert into organizations (id, name, slug, reporting_currency, default_country, time_zone) values ($1, 'Ingestion bench', 'ingestion-bench', 'USD', 'NG', 'Africa/Lagos')`, [ORG]);
    const contacts = (
      await c.query<{ id: string }>(
        `insert into contacts (id, organization_id, email, country, time_zone, consent_email)
         select gen_random_uuid(), $1, 'ingest-' || g || '@example.test', 'NG', 'Africa/Lagos', 'SUBSCRIBED' from generate_series(1, $2) g
         returning id::text`,
        [ORG, contactsN],
      )
    ).rows.map((r) => r.id);
    await loadHistory(c, history, contactsN);

    for (let i = 0; i < writersN; i++) {
      const w = new pg.Client({ connectionString: url, application_name: "marketsage-bench-ingestion" });
      await w.connect();
      writers.push(w);
    }
    // campaign_stats and campaign_costs rows are sharded by pg_backend_pid() % 16 (migration campaign_stats): writers on one shard
    // queue on its row until they commit.
    const shards = await Promise.all(writers.map(async (w) => Number((await w.query(`select pg_backend_pid() % 16 s`)).rows[0].s)));

    const setTriggers = async (on: boolean) => {
      for (const [table, trigger] of ROLLUP_TRIGGERS) await c.query(`alter table ${table} ${on ? "enable" : "disable"} trigger ${trigger}`);
    };
    const newBlast = async (): Promise<Blast> => {
      const blast: Blast = { campaign: randomUUID(), variants: [randomUUID(), randomUUID()] };
      await c.query(`insert into campaigns (id, organization_id, name, channel, status) values ($1, $2, 'Ingestion blast', 'EMAIL', 'SENDING')`, [blast.campaign, ORG]);
      await c.query(
        `insert into campaign_variants (id, organization_id, campaign_id, name, weight, is_control) values ($1, $3, $4, 'A', 0.5, true), ($2, $3, $4, 'B', 0.5, false)`,
        [...blast.variants, ORG, blast.campaign],
      );
      return blast;
    };
    /** Removes a run's rows (the triggers skip: bulk load), so the next run starts from the history alone. */
    const removeBlast = async (blast: Blast) => {
      await c.query(`set marketsage.bulk_load = 'on'`);
      try {
        await c.query(`delete from message_events where campaign_id = $1`, [blast.campaign]);
        await c.query(`delete from messages where campaign_id = $1`, [blast.campaign]);
        await c.query(`delete from campaign_stats where campaign_id = $1`, [blast.campaign]);
        await c.query(`delete from campaign_costs where campaign_id = $1`, [blast.campaign]);
      } finally {
        await c.query(`reset marketsage.bulk_load`);
      }
      await c.query(`vacuum message_events, messages, campaign_stats, campaign_costs, contacts, contact_facts`);
    };
    /** After a run with the triggers on: do the rollups hold exactly what was written? */
    const rollupMatches = async (blast: Blast, r: Run) => {
      const [x] = (
        await c.query(
          `select (select coalesce(sum(sent), 0) from campaign_stats where campaign_id = $1)::int sent,
                  (select coalesce(sum(delivered), 0) from campaign_stats where campaign_id = $1)::int delivered,
                  (select coalesce(sum(opened), 0) from campaign_stats where campaign_id = $1)::int opened,
                  (select coalesce(sum(messages), 0) from campaign_costs where campaign_id = $1)::int messages,
                  (select count(*) from message_events where campaign_id = $1 and type = 'OPENED')::int raw_opened`,
          [blast.campaign],
        )
      ).rows;
      return x.sent === r.sends && x.delivered === r.sends && x.messages === r.sends && x.opened === x.raw_opened;
    };
    const measure = async (perTx: number, max: number, on: boolean, day: number) => {
      const blast = await newBlast();
      await setTriggers(on);
      try {
        const r = await runOnce(writers, blast, contacts, perTx, max, seconds, day);
        return { r, matched: on ? await rollupMatches(blast, r) : true };
      } finally {
        await removeBlast(blast);
      }
    };

    const configs = [
      { label: "50 sends per transaction", perTx: 50, max: budget.batched },
      { label: "1 send per transaction", perTx: 1, max: budget.single },
    ];
    const results = new Map<string, Run[]>();
    let matched = true;
    let day = 0;
    // A short warm-up of each shape (plans, caches), not counted.
    for (const cfg of configs) await measure(cfg.perTx, Math.min(cfg.max, cfg.perTx * writersN * 10), true, day++);
    for (let k = 0; k < runs; k++) {
      for (const cfg of configs) {
        for (const on of [true, false]) {
          const m = await measure(cfg.perTx, cfg.max, on, day++);
          matched &&= m.matched;
          const key = `${cfg.label}|${on}`;
          results.set(key, [...(results.get(key) ?? []), m.r]);
        }
      }
    }
    await setTriggers(true);

    const lines: string[] = [];
    const eventsPerSend = (1 + 1 + 1 + 1 / 3).toFixed(2);
    const [{ events: historyEvents }] = (await c.query(`select count(*)::int events from message_events`)).rows;
    lines.push(
      `ingestion (scratch database on the same server, history of ${f0(historyEvents)} events in ${history.campaigns} campaigns; each run a new campaign; ` +
        `${writersN} writers on shards ${shards.join(", ")} of 16; a send = 1 message + QUEUED, SENT, DELIVERED (+ OPENED for a third) = ${eventsPerSend} events; ` +
        `each run ≤ ${seconds} s or its send budget; median of ${runs} runs, on/off in turns):`,
    );
    const summary: string[] = [];
    for (const cfg of configs) {
      const stat = (on: boolean) => {
        const rs = results.get(`${cfg.label}|${on}`) ?? [];
        const tx = rs.flatMap((r) => r.tx);
        return {
          sends: median(rs.map((r) => r.sends / r.seconds)),
          events: median(rs.map((r) => r.events / r.seconds)),
          last: median(rs.map((r) => r.lastQuarter)),
          txMedian: median(tx),
          txP95: p95(tx),
          n: median(rs.map((r) => r.sends)),
        };
      };
      const on = stat(true);
      const off = stat(false);
      for (const [label, s] of [["rollup triggers on ", on], ["rollup triggers off", off]] as const) {
        lines.push(
          `  ${cfg.label}, ${label}: ${f0(s.sends)} sends/s, ${f0(s.events)} events/s; last quarter of the run ${f0(s.last)} sends/s ` +
            `(transaction median ${f1(s.txMedian)} ms, p95 ${f1(s.txP95)} ms; ~${f0(s.n)} sends a run)`,
        );
      }
      lines.push(`  ${cfg.label}: with the triggers ${(on.sends / off.sends).toFixed(2)}× the throughput without (${((1 - on.sends / off.sends) * 100).toFixed(0)}% less)`);
      summary.push(`${cfg.label} ${on.sends >= TARGET_SENDS_PER_SECOND ? "reaches" : "does NOT reach"} it with the triggers on (${f0(on.sends)} sends/s; ${f0(off.sends)} without)`);
    }
    lines.push(`  target ${TARGET_SENDS_PER_SECOND} sends/s (${eventsPerSend} events a send): ${summary.join("; ")}`);
    lines.push(`  rollups equal to the rows written after every run with the triggers on: ${matched ? "yes" : "NO"}`);
    return { lines };
  } finally {
    await Promise.all(writers.map((w) => w.end().catch(() => undefined)));
    await c.end().catch(() => undefined);
    await admin.query(`drop database if exists "${name}" with (force)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

/**
 * Older campaigns with their messages and events (the same shape as the sends), bulk loaded (the
 * triggers skip), then the rollups rebuilt and the tables analyzed: the planner knows these campaigns.
 */
async function loadHistory(c: pg.Client, h: { campaigns: number; messages: number }, contacts: number): Promise<void> {
  await c.query(`set marketsage.bulk_load = 'on'`);
  try {
    await c.query(
      `insert into campaigns (id, organization_id, name, channel, status, sent_at)
       select gen_random_uuid(), $1, 'History ' || g, 'EMAIL', 'SENT', timestamptz '2026-06-01' + g * interval '6 hours' from generate_series(1, $2) g`,
      [ORG, h.campaigns],
    );
    await c.query(
      `insert into messages (id, organization_id, campaign_id, contact_id, channel, direction, recipient, provider, cost, currency, status, created_at)
       select gen_random_uuid(), $1, c.id, k.id, 'EMAIL', 'OUTBOUND', 'ingest@example.test', 'bench', 0.0010, 'USD', 'DELIVERED', c.sent_at + g * interval '1 second'
         from campaigns c cross join generate_series(1, $2) g
         join (select id, row_number() over (order by id) - 1 r from contacts where organization_id = $1) k on k.r = (g + hashtext(c.id::text)::bigint % $3 + $3) % $3
        where c.organization_id = $1`,
      [ORG, h.messages, contacts],
    );
    await c.query(
      `insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at)
       select m.organization_id, m.id, m.campaign_id, m.variant_id, m.contact_id, 'EMAIL', t.type::"MessageEventType", m.created_at + t.n * interval '1 minute'
         from messages m cross join lateral (select * from unnest(array['QUEUED', 'SENT', 'DELIVERED', 'OPENED']) with ordinality t(type, n)) t
        where t.type <> 'OPENED' or hashtext(m.id::text) % 3 = 0`,
    );
  } finally {
    await c.query(`reset marketsage.bulk_load`);
  }
  await c.query(`select marketsage_rebuild_campaign_stats(null), marketsage_rebuild_engagement_state(null), marketsage_rebuild_contact_facts(null), marketsage_rebuild_message_kpis(null), marketsage_rebuild_active_days(null)`);
  await c.query(`vacuum analyze`);
}
