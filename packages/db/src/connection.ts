import { ensureEmbeddedPostgres } from "./embedded.ts";
import { pendingMigrations } from "./migrate.ts";

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

/** Refuse to serve from a database that is missing committed migrations. */
export async function assertMigrated(url: string): Promise<void> {
  const pending = await pendingMigrations(url);
  if (pending.length > 0) throw new DatabaseNotReadyError(pending);
}
