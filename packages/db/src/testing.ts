// Test databases: each test run gets its own fresh database on the embedded PostgreSQL, or on
// the server TEST_DATABASE_URL points at. A run prepares one template (migrated, seeded) and
// each test file clones it, so files never see each other's writes.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { ensureEmbeddedPostgres, embeddedUrl } from "./embedded.ts";
import { applyMigrations } from "./migrate.ts";

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A URL on the test server (any database name). */
export async function testServerUrl(database = "postgres"): Promise<string> {
  const ext = process.env.TEST_DATABASE_URL;
  if (ext) return withDatabase(ext, database);
  return embeddedUrl(await ensureEmbeddedPostgres(), database);
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: await testServerUrl("postgres") });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export function uniqueDbName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`.toLowerCase();
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function handle(name: string): Promise<TestDatabase> {
  return { name, url: await testServerUrl(name), drop: () => dropDatabase(name) };
}

/** A new, migrated, empty database. */
export async function createMigratedDatabase(prefix = "ms_test"): Promise<TestDatabase> {
  const name = uniqueDbName(prefix);
  await admin((c) => c.query(`create database "${name}"`));
  const db = await handle(name);
  await applyMigrations(db.url);
  return db;
}

/** A copy of a template database (fast: PostgreSQL copies files). */
export async function cloneDatabase(template: string, prefix = "ms_test"): Promise<TestDatabase> {
  const name = uniqueDbName(prefix);
  await admin((c) => c.query(`create database "${name}" template "${template}"`));
  return handle(name);
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`drop database if exists "${name}" with (force)`));
}

/** Drop every database whose name starts with prefix (a run's leftovers). */
export async function dropDatabasesWithPrefix(prefix: string): Promise<number> {
  return admin(async (c) => {
    const r = await c.query<{ datname: string }>(`select datname from pg_database where datname like $1`, [`${prefix}%`]);
    for (const row of r.rows) await c.query(`drop database if exists "${row.datname}" with (force)`);
    return r.rows.length;
  });
}

/**
 * Stop a test's own embedded PostgreSQL and remove everything it wrote: the data directory and,
 * when the cluster lives elsewhere (as root, outside a reachable data dir), that cluster's folder.
 */
export async function disposeEmbedded(dataDir: string): Promise<void> {
  const { stopEmbeddedPostgres } = await import("./embedded.ts");
  const fs = await import("node:fs");
  const path = await import("node:path");
  await stopEmbeddedPostgres({ dataDir }).catch(() => undefined);
  try {
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, "pg.json"), "utf8")) as { pgdata?: string };
    if (state.pgdata && !path.resolve(state.pgdata).startsWith(path.resolve(dataDir))) fs.rmSync(path.dirname(state.pgdata), { recursive: true, force: true });
  } catch {
    // no state file: nothing was started outside dataDir
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
