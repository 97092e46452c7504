// Database commands for people: pnpm db:migrate | db:migrate:dev | db:migrate:sql | db:drift | db:seed | db:setup | db:stop | db:url
// Without DATABASE_URL every command works on the embedded PostgreSQL under .data/.
import { spawnSync } from "node:child_process";
import { EmbeddedDatabaseError, ensureEmbeddedPostgres, findRepoRoot, resolveDatabaseUrl, stopEmbeddedPostgres } from "@marketsage/db";

const log = (m: string) => process.stderr.write(`[db] ${m}\n`);

async function url(): Promise<string> {
  return (await resolveDatabaseUrl(process.env.DATABASE_URL, { log })).url;
}

function prisma(args: string[], databaseUrl: string): number {
  const r = spawnSync("pnpm", ["exec", "prisma", ...args], {
    cwd: findRepoRoot(),
    stdio: "inherit",
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  return r.status ?? 1;
}


const [cmd = "help", ...rest] = process.argv.slice(2);
try {
  switch (cmd) {
    case "url":
      process.stdout.write(`${await url()}\n`);
      break;
    case "migrate":
      // The Prisma CLI applies committed migrations (prisma migrate deploy).
      process.exitCode = prisma(["migrate", "deploy"], await url());
      break;
    case "migrate-dev":
      // Create a new migration from schema changes: pnpm db:migrate:dev --name what_changed
      process.exitCode = prisma(["migrate", "dev", ...rest], await url());
      break;
    case "migrate-sql":
      // The SQL that brings the committed migrations up to prisma/schema.prisma, on stdout:
      // pnpm -s db:migrate:sql > prisma/migrations/<yyyymmddhhmmss>_<name>/migration.sql
      process.exitCode = prisma(
        ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
        await url(),
      );
      break;
    case "drift":
      // Fails when prisma/schema.prisma and the committed migrations disagree.
      process.exitCode = prisma(
        ["migrate", "diff", "--from-migrations", "prisma/migrations", "--to-schema-datamodel", "prisma/schema.prisma", "--exit-code"],
        await url(),
      );
      break;
    case "seed": {
      const { seedWithPredictions } = await import("./lib/prepare.ts");
      await seedWithPredictions(await url(), rest, log);
      break;
    }
    case "setup": {
      const { prepareDatabase } = await import("./lib/prepare.ts");
      await prepareDatabase(await url(), rest.length ? rest : ["--if-empty"], log);
      break;
    }
    case "stop": {
      const stopped = await stopEmbeddedPostgres({ log });
      log(stopped ? "embedded PostgreSQL stopped" : "embedded PostgreSQL was not running");
      break;
    }
    case "start":
      log(`embedded PostgreSQL at ${(await ensureEmbeddedPostgres({ log })).url}`);
      break;
    default:
      process.stderr.write("usage: tsx scripts/db.ts url|start|stop|migrate|migrate-dev|migrate-sql|drift|seed|setup [args]\n");
      process.exitCode = cmd === "help" ? 0 : 2;
  }
} catch (e) {
  // A database the embedded PostgreSQL cannot provide is one line naming the fix, not a stack trace.
  if (!(e instanceof EmbeddedDatabaseError)) throw e;
  log(e.message);
  process.exitCode = 1;
}
