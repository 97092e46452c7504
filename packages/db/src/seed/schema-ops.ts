// Schema-level steps around the load: emptiness check, --reset, dropping and recreating the
// secondary indexes of the big tables (building an index once over sorted data is far cheaper
// than maintaining it row by row during COPY), sequences and statistics.
import type pg from "pg";

/** Tables the generator fills with many rows; their non-primary-key indexes are rebuilt after the load. */
export const BIG_TABLES = [
  "contacts", "consent_events", "segment_members", "messages", "message_events",
  "conversions", "visitors", "visitor_sessions", "touchpoints",
] as const;

/** bigserial tables whose ids the generator supplies; their sequences are moved past the max id. */
export const SERIAL_TABLES = ["consent_events", "message_events", "touchpoints", "fx_rates"] as const;

export interface IndexDef {
  table: string;
  name: string;
  def: string;
}

/** Every app table in the current schema (all but Prisma's own bookkeeping). */
export async function appTables(c: pg.Client): Promise<string[]> {
  const r = await c.query<{ tablename: string }>(
    `select tablename from pg_tables where schemaname = current_schema() and tablename <> '_prisma_migrations' order by tablename`,
  );
  return r.rows.map((x) => x.tablename);
}

export async function truncateAll(c: pg.Client): Promise<string[]> {
  const tables = await appTables(c);
  if (tables.length) await c.query(`TRUNCATE ${tables.map((t) => `"${t}"`).join(", ")} RESTART IDENTITY CASCADE`);
  return tables;
}

export async function organizationCount(c: pg.Client): Promise<number> {
  const r = await c.query<{ n: number }>(`select count(*)::int n from organizations`);
  return r.rows[0]?.n ?? 0;
}

/**
 * Definitions (from pg_indexes) of the indexes that are neither a primary key nor backing a
 * constraint, for the given tables: exactly what is dropped and later recreated.
 */
export async function secondaryIndexes(c: pg.Client, tables: readonly string[]): Promise<IndexDef[]> {
  const r = await c.query<{ tablename: string; indexname: string; indexdef: string }>(
    `select i.tablename, i.indexname, i.indexdef
       from pg_indexes i
       join pg_class ic on ic.relname = i.indexname
       join pg_namespace n on n.oid = ic.relnamespace and n.nspname = i.schemaname
       join pg_index ix on ix.indexrelid = ic.oid
      where i.schemaname = current_schema() and i.tablename = any($1)
        and not ix.indisprimary
        and not exists (select 1 from pg_constraint k where k.conindid = ic.oid)
      order by i.tablename, i.indexname`,
    [tables],
  );
  return r.rows.map((x) => ({ table: x.tablename, name: x.indexname, def: x.indexdef }));
}

export async function dropIndexes(c: pg.Client, defs: readonly IndexDef[]): Promise<void> {
  if (!defs.length) return;
  await c.query(`DROP INDEX ${defs.map((d) => `"${d.name}"`).join(", ")}`);
}

async function existing(c: pg.Client, names: string[]): Promise<Set<string>> {
  const r = await c.query<{ relname: string }>(
    `select relname from pg_class where relkind = 'i' and relnamespace = current_schema()::text::regnamespace and relname = any($1)`,
    [names],
  );
  return new Set(r.rows.map((x) => x.relname));
}

/**
 * Recreate the captured indexes with their exact definitions (same names), biggest tables first,
 * spread over the given connections so two builds run at once.
 */
export async function recreateIndexes(clients: pg.Client[], defs: readonly IndexDef[], log: (m: string) => void): Promise<void> {
  if (!defs.length) return;
  const present = await existing(clients[0]!, defs.map((d) => d.name));
  const queue = defs.filter((d) => !present.has(d.name));
  const order = new Map<string, number>(BIG_TABLES.map((t, i) => [t, i]));
  // Largest tables (message_events, touchpoints, messages) first so the tail is short.
  const weight: Record<string, number> = { message_events: 0, touchpoints: 1, messages: 2, visitor_sessions: 3, consent_events: 4, contacts: 5, visitors: 6 };
  queue.sort((a, b) => (weight[a.table] ?? 10 + (order.get(a.table) ?? 0)) - (weight[b.table] ?? 10 + (order.get(b.table) ?? 0)));
  let next = 0;
  const errors: string[] = [];
  await Promise.all(
    clients.map(async (c) => {
      for (;;) {
        const d = queue[next++];
        if (!d) return;
        const t0 = performance.now();
        try {
          await c.query(d.def);
          const secs = (performance.now() - t0) / 1000;
          if (secs >= 1) log(`  index ${d.name} (${secs.toFixed(1)} s)`);
        } catch (e) {
          errors.push(`${d.name}: ${(e as Error).message}`);
        }
      }
    }),
  );
  if (errors.length) throw new Error(`recreating indexes failed: ${errors.join("; ")}`);
}

export async function advanceSequences(c: pg.Client): Promise<void> {
  for (const t of SERIAL_TABLES) {
    await c.query(`select setval(pg_get_serial_sequence('${t}', 'id'), coalesce((select max(id) from ${t}), 0) + 1, false)`);
  }
}
