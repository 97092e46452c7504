import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { ensureEmbeddedPostgres } from "./embedded.ts";
import { migrationsDir } from "./paths.ts";

export interface ResolvedDatabase {
  url: string;
  embedded: boolean;
}

/** DATABASE_URL when given; otherwise the shared embedded server (started if needed). */
export async function resolveDatabaseUrl(
  databaseUrl: string | undefined,
  opts: { dataDir?: string; log?: (m: string) => void } = {},
): Promise<ResolvedDatabase> {
  if (databaseUrl) return { url: databaseUrl, embedded: false };
  const server = await ensureEmbeddedPostgres(opts);
  return { url: server.url, embedded: true };
}

export class DatabaseNotReadyError extends Error {
  constructor(public readonly pending: string[]) {
    super(
      `The database has ${pending.length} migration(s) not applied (${pending.slice(0, 3).join(", ")}${pending.length > 3 ? ", …" : ""}). ` +
        `Run \`pnpm db:setup\` (migrates and seeds the demo data) or \`pnpm db:migrate\` for an existing database.`,
    );
    this.name = "DatabaseNotReadyError";
  }
}

let names: string[] | undefined;

/**
 * The committed migrations' names (directories with a migration.sql), read once per process:
 * the code that runs expects the migrations it shipped with, whatever is added on disk later.
 */
function migrationNames(): string[] {
  if (names) return names;
  const dir = migrationsDir();
  if (!fs.existsSync(dir)) return (names = []);
  return (names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort());
}

// One round trip: the committed names that _prisma_migrations does not list as finished.
const PENDING_SQL = `
  select coalesce(array_agg(n order by n), '{}') as pending
    from unnest($1::text[]) n
   where not exists (select 1 from _prisma_migrations m where m.migration_name = n and m.finished_at is not null and m.rolled_back_at is null)`;

/**
 * Refuse to serve from a database that is missing committed migrations. One query, on `pool`
 * when given (a server's own pool: no connection of its own, e.g. for every /readyz probe), else
 * on a connection opened and closed for it. Migration files are not read or hashed, only listed.
 */
export async function assertMigrated(url: string, opts: { pool?: pg.Pool } = {}): Promise<void> {
  const all = migrationNames();
  if (all.length === 0) return;
  let client: pg.Client | undefined;
  try {
    let pending: string[];
    try {
      if (!opts.pool) {
        client = new pg.Client({ connectionString: url });
        await client.connect();
      }
      pending = (await (opts.pool ?? client)!.query<{ pending: string[] }>(PENDING_SQL, [all])).rows[0]!.pending;
    } catch (e) {
      // 42P01 undefined_table: nothing was ever migrated here.
      if ((e as { code?: string }).code !== "42P01") throw e;
      pending = all;
    }
    if (pending.length > 0) throw new DatabaseNotReadyError(pending);
  } finally {
    await client?.end().catch(() => undefined);
  }
}
