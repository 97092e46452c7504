// pnpm start: the main job for a newcomer. Prepares the embedded database (migrate, seed the demo
// data when empty), builds the server bundles when needed, then runs the harness as a guided tour.
//   pnpm start [--scale tiny|demo] [--database-url URL]
import { parseArgs } from "node:util";
import { serverNames } from "@marketsage/catalog";
import { ensureBuilt } from "@marketsage/client";
import { runHarness } from "@marketsage/client/harness";
import { EmbeddedDatabaseError, resolveDatabaseUrl } from "@marketsage/db";
import { prepareDatabase } from "./lib/prepare.ts";

const { values } = parseArgs({
  options: {
    scale: { type: "string", default: "demo" },
    "database-url": { type: "string" },
  },
});
const scale = values.scale === "tiny" ? "tiny" : "demo";
const t0 = performance.now();
const step = (m: string) => process.stderr.write(`[start] ${m}\n`);

try {
  const db = await resolveDatabaseUrl(values["database-url"] ?? process.env.DATABASE_URL, { log: step });
  step(db.embedded ? `using the embedded PostgreSQL (${db.url.replace(/^postgresql:\/\/[^@]*@/, "")}; \`pnpm db:stop\` stops it)` : "using DATABASE_URL");

  // Once: migrate, seed the demo data when the database has none, and compute predictions.
  await prepareDatabase(db.url, ["--if-empty", "--scale", scale], step);

  const why = ensureBuilt(serverNames());
  if (why) step(`built the server bundles (${why})`);
  step(`ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; starting the tour\n`);

  const report = await runHarness({ databaseUrl: db.url, env: process.env, format: "tour" });
  process.stdout.write(
    report.ok
      ? "\nNext: `pnpm mcp:config` prints the block that registers these servers in Claude Desktop (or --client cursor|vscode).\n"
      : "\nSomething failed above; `pnpm harness` shows the same checks in compact form.\n",
  );
  process.exitCode = report.ok ? 0 : 1;
} catch (e) {
  // A database the embedded PostgreSQL cannot provide is one line naming the fix, not a stack trace.
  if (!(e instanceof EmbeddedDatabaseError)) throw e;
  step(e.message);
  process.exitCode = 1;
}
