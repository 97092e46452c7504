// One fresh database per test run: migrated and seeded once as a template (demo data, then every
// catalog server's after-seed work); each test file clones it (see @marketsage/core/testing
// useTestDatabase). The built entries are brought up to date once, here, so test files never
// rebuild them concurrently. Dropped again at the end.
import type { TestProject } from "vitest/node";
import { CATALOG } from "@marketsage/catalog";
import { ensureBuilt } from "@marketsage/client";
import { createMigratedDatabase, dropDatabasesWithPrefix, uniqueDbName } from "@marketsage/db/testing";
import { seedDatabase } from "@marketsage/db/seed";

export const TEST_NOW = "2026-11-20T12:00:00.000Z";

declare module "vitest" {
  export interface ProvidedContext {
    templateDb: string;
    runPrefix: string;
    testNow: string;
  }
}

export default async function setup(project: TestProject) {
  const runPrefix = uniqueDbName("ms_run");
  const t0 = Date.now();
  ensureBuilt(CATALOG.map((e) => e.name), { quiet: true });
  const template = await createMigratedDatabase(`${runPrefix}_tpl`);
  await seedDatabase(template.url, { scale: "tiny", seed: 42, now: new Date(TEST_NOW) });
  for (const e of CATALOG) if (e.afterSeed) await (await e.afterSeed())(template.url, new Date(TEST_NOW), () => undefined);
  process.stderr.write(`[test] template database ${template.name} ready in ${Date.now() - t0} ms (${process.env.TEST_DATABASE_URL ? "TEST_DATABASE_URL" : "embedded PostgreSQL"})\n`);
  project.provide("templateDb", template.name);
  project.provide("runPrefix", runPrefix);
  project.provide("testNow", TEST_NOW);
  return async () => {
    await dropDatabasesWithPrefix(runPrefix);
  };
}
