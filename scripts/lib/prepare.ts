// Migrating and seeding, shared by `pnpm db:seed`, `pnpm db:setup` and `pnpm start`.
import { CATALOG } from "@marketsage/catalog";
import { applyMigrations, pendingMigrations } from "@marketsage/db";
import { runSeedCli } from "@marketsage/db/seed";

/** `pnpm db:seed` arguments; then every catalog server's after-seed work (e.g. predictions). */
export async function seedWithPredictions(databaseUrl: string, argv: string[], log: (m: string) => void): Promise<void> {
  const seeded = await runSeedCli(databaseUrl, argv);
  if (!seeded) return;
  for (const e of CATALOG) if (e.afterSeed) await (await e.afterSeed())(databaseUrl, seeded.now, log);
}

/** Apply pending migrations, then seed with `seedArgs` (e.g. --if-empty). */
export async function prepareDatabase(databaseUrl: string, seedArgs: string[], log: (m: string) => void): Promise<void> {
  const pending = await pendingMigrations(databaseUrl);
  if (pending.length) {
    log(`applying ${pending.length} migration(s)`);
    await applyMigrations(databaseUrl);
  }
  await seedWithPredictions(databaseUrl, seedArgs, log);
}
