// Applies the committed migrations (prisma/migrations) the way `prisma migrate deploy` records
// them in _prisma_migrations, so a database prepared here is indistinguishable to Prisma's CLI.
// Used for per-test-run databases (no 10 s CLI linger) and by the start-up check.
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { migrationsDir } from "./paths.ts";

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function listMigrations(dir = migrationsDir()): Migration[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

async function applied(client: pg.Client): Promise<Set<string> | undefined> {
  const t = await client.query(`select to_regclass('public._prisma_migrations') as t`);
  if (!t.rows[0]?.t) return undefined;
  const r = await client.query(`select migration_name from _prisma_migrations where finished_at is not null and rolled_back_at is null`);
  return new Set(r.rows.map((x: { migration_name: string }) => x.migration_name));
}

/** Names of committed migrations not yet applied to the database at url. */
export async function pendingMigrations(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const done = (await applied(client)) ?? new Set();
    return listMigrations().filter((m) => !done.has(m.name)).map((m) => m.name);
  } finally {
    await client.end();
  }
}

/** Apply pending migrations, each in its own transaction. Returns the names applied. */
export async function applyMigrations(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock(7201)");
    await client.query(CREATE_TABLE);
    const done = (await applied(client)) ?? new Set();
    const ran: string[] = [];
    for (const m of listMigrations()) {
      if (done.has(m.name)) continue;
      await client.query("begin");
      try {
        await client.query(m.sql);
        await client.query(
          `insert into _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           values ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await client.query("commit");
        ran.push(m.name);
      } catch (e) {
        await client.query("rollback");
        throw new Error(`migration ${m.name} failed: ${(e as Error).message}`);
      }
    }
    return ran;
  } finally {
    await client.query("select pg_advisory_unlock(7201)").catch(() => undefined);
    await client.end();
  }
}
