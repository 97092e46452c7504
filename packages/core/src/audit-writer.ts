// Appending audit rows without losing one and without making callers queue behind each other.
//
// Each writer (one per runtime: a server process, an HTTP replica, a test) appends to its own
// chain per organization, so processes never contend for one chain's next sequence number.
// Within a writer, the calls waiting on a chain are appended together (group commit): one
// statement inserts the batch and moves the chain's head row, and each caller is answered once
// that statement has committed; the next batch forms while one is in flight.
//
// The head row (audit_chain_heads) is the chain's serialisation point. A batch moves it only from
// the head it computed its hashes from (a compare-and-set in the same statement as the insert),
// so a batch built on a stale head changes nothing and is rebuilt. A write tool appends inside
// its own transaction instead, locking the head row (`for update`), so its row commits or rolls
// back with its write and a rollback leaves no gap.
import { randomUUID } from "node:crypto";
import { poolOf, type Db } from "@marketsage/db";
import type pg from "pg";
import { auditFields, auditPayload, chainHash, chainKeyFor, GENESIS_HASH, normaliseEntry, type AuditEntry, type WitnessedHead } from "./audit.ts";
import type { Logger } from "./logger.ts";
import type { DbHandle } from "./tool.ts";

/** Rows per statement: bounds the statement's size; a busy writer's batches are far smaller. */
const MAX_BATCH = 200;
/** Other chains' heads a batch looks at for its witness (the most recently moved first). */
const WITNESS_CANDIDATES = 16;
/**
 * How often a chain records the others' heads: its first batch, then at most once a second. Rows
 * a peer wrote after the last witness of it are anchored by its own head only; a denser witness
 * shrinks that window and costs ~140 bytes per witnessed chain.
 */
const WITNESS_INTERVAL_MS = 1000;
/** Optimistic attempts before a batch locks the head (only an in-transaction append moves it). */
const OPTIMISTIC_ATTEMPTS = 2;

export interface AppendedRow {
  chain: string;
  seq: number;
  hash: string;
}

export interface AuditWriter {
  /** This writer's id: part of every chain key it appends to. */
  readonly id: string;
  /** Append outside any transaction; resolves once the row has committed, rejects if it did not. */
  append(entry: AuditEntry): Promise<AppendedRow>;
  /** Append inside the caller's transaction: the row commits or rolls back with the caller's writes. */
  appendInTransaction(tx: DbHandle, entry: AuditEntry): Promise<AppendedRow>;
  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void>;
}

interface Head {
  seq: number;
  hash: string;
}

interface Pending {
  entry: AuditEntry;
  resolve(row: AppendedRow): void;
  reject(err: unknown): void;
}

interface Chain {
  key: string;
  organizationId: string | null;
  /** The head row exists (created once, outside any caller's transaction). */
  ready: boolean;
  /** The head as this writer last knew it; a compare-and-set failure means it moved. */
  head: Head;
  queue: Pending[];
  flushing: Promise<void> | null;
  /** Other chains' heads as last read, and the seq of each this chain has already recorded. */
  others: WitnessedHead[];
  witnessed: Map<string, number>;
  lastWitnessAt: number;
}

/** A row as the insert statements read it (jsonb_to_recordset): snake_case, storable values. */
function rowJson(chain: Chain, writer: string, e: AuditEntry, seq: number, prevHash: string, hash: string): Record<string, unknown> {
  return {
    chain_key: chain.key,
    writer,
    seq,
    ...auditFields(e),
    witness: e.witness ?? null,
    prev_hash: prevHash,
    hash,
  };
}

interface Built {
  json: string;
  rows: AppendedRow[];
  last: Head;
  witness: readonly WitnessedHead[] | null;
}

/** Seqs and hashes for a batch on top of `head`; the first row carries the witness. */
function build(chain: Chain, writer: string, entries: readonly AuditEntry[], head: Head): Built {
  const due = Date.now() - chain.lastWitnessAt >= WITNESS_INTERVAL_MS;
  const fresh = due ? chain.others.filter((h) => h.seq > 0 && chain.witnessed.get(h.chain) !== h.seq) : [];
  const witness = fresh.length ? [...fresh].sort((a, b) => (a.chain < b.chain ? -1 : 1)) : null;
  let prev = head.hash;
  let seq = head.seq;
  const rows: AppendedRow[] = [];
  const json: Record<string, unknown>[] = [];
  entries.forEach((base, i) => {
    const e: AuditEntry = { ...base, writer, witness: i === 0 ? witness : null };
    seq++;
    const hash = chainHash(prev, seq, auditPayload(e));
    json.push(rowJson(chain, writer, e, seq, prev, hash));
    rows.push({ chain: chain.key, seq, hash });
    prev = hash;
  });
  return { json: JSON.stringify(json), rows, last: { seq, hash: prev }, witness };
}

// The insert reads the rows from one jsonb parameter: any batch size is one statement with one
// parameter, and the column types are spelled once.
const RECORDSET = `jsonb_to_recordset($1::jsonb) as r(chain_key text, writer text, seq int, organization_id uuid,
  occurred_at timestamptz, actor_user_id uuid, api_key_id uuid, role "Role", server text, tool text, path text,
  args_hash text, args jsonb, outcome "AuditOutcome", error_code text, duration_ms float8, result_bytes int,
  correlation_id text, witness jsonb, prev_hash text, hash text)`;
const INSERT_COLUMNS = `chain_key, writer, seq, organization_id, occurred_at, actor_user_id, api_key_id, role, server, tool, path,
  args_hash, args, outcome, error_code, duration_ms, result_bytes, correlation_id, witness, prev_hash, hash`;

// One statement, one implicit transaction: move the head from the expected value (nothing happens
// if it moved) and insert the rows only if it did. $2 chain, $3/$4 expected head, $5/$6 new head.
const MOVE_AND_INSERT = `
with moved as (
  update audit_chain_heads set seq = $5, hash = $6, updated_at = now()
   where chain_key = $2 and seq = $3 and hash = $4
  returning 1
), ins as (
  insert into audit_events (${INSERT_COLUMNS})
  select ${INSERT_COLUMNS} from ${RECORDSET} where exists (select 1 from moved)
  returning 1
)`;

// Most batches (a witness is due at most once a second).
const BATCH_ONLY_SQL = `${MOVE_AND_INSERT}
select (select count(*) from ins)::int as applied`;

// The same, also reading the other chains' heads for the next batch's witness ($7 organization).
const BATCH_SQL = `${MOVE_AND_INSERT}
select (select count(*) from ins)::int as applied, null::text as chain, null::int as seq, null::text as hash
union all
(select 0, chain_key, seq, hash from audit_chain_heads
  where (organization_id = $7::uuid or ($7::uuid is null and organization_id is null)) and chain_key <> $2
  order by updated_at desc limit ${WITNESS_CANDIDATES})`;

/** Other chains' heads are read for the next witness from this long before it is due. */
const OTHERS_LEAD_MS = 250;

// In the caller's transaction, after `select … for update` on the head: no compare needed.
const IN_TX_SQL = `
with moved as (
  update audit_chain_heads set seq = $3, hash = $4, updated_at = now() where chain_key = $2 returning 1
)
insert into audit_events (${INSERT_COLUMNS})
select ${INSERT_COLUMNS} from ${RECORDSET} where exists (select 1 from moved)`;

const OTHERS_SQL = `
select chain_key as chain, seq, hash from audit_chain_heads
 where (organization_id = $1::uuid or ($1::uuid is null and organization_id is null)) and chain_key <> $2
 order by updated_at desc limit ${WITNESS_CANDIDATES}`;

/** One round trip: rows of a parameterised statement, on a pool, a pooled client or a Prisma handle. */
type Sql = <T>(text: string, values: unknown[]) => Promise<T[]>;

const prismaSql =
  (db: DbHandle): Sql =>
  (text, values) =>
    db.$queryRawUnsafe(text, ...values);
const pgSql =
  (q: pg.Pool | pg.PoolClient): Sql =>
  async <T>(text: string, values: unknown[]) =>
    (await q.query(text, values)).rows as T[];

/**
 * Batches go straight to the pg pool under the Prisma client when there is one: no query
 * compiler in the path of every call, and a process that runs no Prisma query never loads it.
 */
function sqlOf(db: Db): Sql {
  const pool = poolOf(db);
  return pool ? pgSql(pool) : prismaSql(db);
}

async function transaction<T>(db: Db, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const pool = poolOf(db);
  if (!pool) return db.$transaction((tx) => fn(prismaSql(tx)));
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("begin");
    const out = await fn(pgSql(client));
    await client.query("commit");
    return out;
  } catch (err) {
    await client.query("rollback").catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}

async function createHead(sql: Sql, chain: Chain, writer: string): Promise<void> {
  await sql(
    `insert into audit_chain_heads (chain_key, organization_id, writer, seq, hash, updated_at)
     values ($1, $2::uuid, $3, 0, $4, now()) on conflict (chain_key) do nothing`,
    [chain.key, chain.organizationId, writer, GENESIS_HASH],
  );
}

async function readHead(sql: Sql, key: string, forUpdate: boolean): Promise<Head | null> {
  const rows = await sql<Head>(`select seq, hash from audit_chain_heads where chain_key = $1${forUpdate ? " for update" : ""}`, [key]);
  return rows[0] ?? null;
}

/** The head of a chain that has one: created before its first append and never deleted by us. */
async function existingHead(sql: Sql, key: string, forUpdate: boolean): Promise<Head> {
  const head = await readHead(sql, key, forUpdate);
  if (!head) throw new Error(`audit chain ${key} has lost its head row (audit_chain_heads)`);
  return head;
}

type BatchRow = { applied: number; chain: string | null; seq: number | null; hash: string | null };

/** Run BATCH_SQL for `built` on top of `head`: the rows written (all or none) and the others' heads. */
async function runBatch(sql: Sql, chain: Chain, head: Head, built: Built): Promise<{ applied: boolean; others: WitnessedHead[] | null }> {
  // Read the others' heads only when the next batch may carry a witness (or this one failed to apply).
  const readOthers = Date.now() - chain.lastWitnessAt >= WITNESS_INTERVAL_MS - OTHERS_LEAD_MS;
  if (!readOthers) {
    const out = await sql<{ applied: number }>(BATCH_ONLY_SQL, [built.json, chain.key, head.seq, head.hash, built.last.seq, built.last.hash]);
    return { applied: out[0]?.applied === built.rows.length, others: null };
  }
  const out = await sql<BatchRow>(BATCH_SQL, [built.json, chain.key, head.seq, head.hash, built.last.seq, built.last.hash, chain.organizationId]);
  const applied = out.find((r) => r.chain === null)?.applied === built.rows.length;
  return { applied, others: out.filter((r) => r.chain !== null) as WitnessedHead[] };
}

/** The audit writer of a runtime (one per runtime, created on first use). */
const writers = new WeakMap<object, AuditWriter>();

export function auditWriterFor(runtime: { db: Db; log: Logger }): AuditWriter {
  let w = writers.get(runtime);
  if (!w) writers.set(runtime, (w = createAuditWriter(runtime.db, runtime.log)));
  return w;
}

export interface AuditWriterOptions {
  /** Defaults to a random uuid: a writer's chains are its own. */
  id?: string;
  /** Compare-and-set attempts before a batch locks the head (tests set 0 to take the locked path). */
  optimisticAttempts?: number;
}

export function createAuditWriter(db: Db, log: Logger, opts: AuditWriterOptions = {}): AuditWriter {
  const id = opts.id ?? randomUUID();
  const optimisticAttempts = opts.optimisticAttempts ?? OPTIMISTIC_ATTEMPTS;
  const chains = new Map<string, Chain>();

  function chainFor(organizationId: string | null): Chain {
    const key = chainKeyFor(organizationId, id);
    let c = chains.get(key);
    if (!c) {
      c = { key, organizationId, ready: false, head: { seq: 0, hash: GENESIS_HASH }, queue: [], flushing: null, others: [], witnessed: new Map(), lastWitnessAt: 0 };
      chains.set(key, c);
    }
    return c;
  }

  function remember(chain: Chain, built: Built, others: WitnessedHead[] | null): void {
    chain.head = built.last;
    for (const h of built.witness ?? []) chain.witnessed.set(h.chain, h.seq);
    if (built.witness) chain.lastWitnessAt = Date.now();
    if (others) chain.others = others;
  }

  /** One batch: optimistic compare-and-set first; if the head keeps moving, lock it. */
  async function writeBatch(chain: Chain, entries: AuditEntry[]): Promise<AppendedRow[]> {
    const sql = sqlOf(db);
    if (!chain.ready) {
      await createHead(sql, chain, id);
      chain.others = await sql<WitnessedHead>(OTHERS_SQL, [chain.organizationId, chain.key]);
      chain.ready = true;
    }
    for (let attempt = 0; attempt < optimisticAttempts; attempt++) {
      const built = build(chain, id, entries, chain.head);
      const { applied, others } = await runBatch(sql, chain, chain.head, built);
      if (applied) {
        remember(chain, built, others);
        return built.rows;
      }
      // A write tool's in-transaction append moved the head: rebuild on the real one.
      if (others) chain.others = others;
      chain.head = await existingHead(sql, chain.key, false);
    }
    return transaction(db, async (tx) => {
      const head = await existingHead(tx, chain.key, true);
      const built = build(chain, id, entries, head);
      const { applied, others } = await runBatch(tx, chain, head, built);
      if (!applied) throw new Error(`audit chain ${chain.key}: the locked head did not move`);
      remember(chain, built, others);
      return built.rows;
    });
  }

  async function flush(chain: Chain): Promise<void> {
    while (chain.queue.length) {
      const batch = chain.queue.splice(0, MAX_BATCH);
      try {
        const rows = await writeBatch(
          chain,
          batch.map((p) => p.entry),
        );
        batch.forEach((p, i) => p.resolve(rows[i]!));
      } catch (err) {
        // The head may or may not have moved (e.g. the connection died at commit): re-read it.
        chain.ready = false;
        log.error({ err, chain: chain.key, rows: batch.length }, "audit batch not written");
        for (const p of batch) p.reject(err);
      }
    }
    chain.flushing = null;
  }

  return {
    id,
    append(entry) {
      const e = normaliseEntry(entry);
      const chain = chainFor(e.organizationId);
      const done = new Promise<AppendedRow>((resolve, reject) => chain.queue.push({ entry: e, resolve, reject }));
      chain.flushing ??= flush(chain);
      return done;
    },

    async appendInTransaction(tx, entry) {
      const e = normaliseEntry(entry);
      const chain = chainFor(e.organizationId);
      const sql = prismaSql(tx);
      let head = await readHead(sql, chain.key, true);
      if (!head) {
        // First row of this chain: create the head inside the caller's transaction (it rolls back
        // with it), then lock it. A head deleted under existing rows makes the insert collide.
        await createHead(sql, chain, id);
        head = await existingHead(sql, chain.key, true);
      }
      const built = build({ ...chain, others: [] }, id, [e], head);
      await tx.$executeRawUnsafe(IN_TX_SQL, built.json, chain.key, built.last.seq, built.last.hash);
      return built.rows[0]!;
    },

    async idle() {
      while ([...chains.values()].some((c) => c.flushing)) await Promise.all([...chains.values()].map((c) => c.flushing));
    },
  };
}
