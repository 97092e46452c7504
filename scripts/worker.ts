// pnpm worker: the background work of every enabled catalog server (today: external-services'
// bulk-send worker), on DATABASE_URL or the embedded database. Stops cleanly on SIGINT/SIGTERM
// (the jobs in hand finish; a kill -9 is safe too: their jobs expire and another worker resumes them).
//   pnpm worker            settings: BULK_* (.env.example), the providers' settings, DATABASE_URL
import { CATALOG } from "@marketsage/catalog";
import { createLogger } from "@marketsage/core";
import { openDb, resolveDatabaseUrl } from "@marketsage/db";

const log = createLogger({ name: "worker", level: process.env.MCP_LOG_LEVEL ?? "info" });
const { url } = await resolveDatabaseUrl(process.env.DATABASE_URL, { log: (m) => process.stderr.write(`[worker] ${m}\n`) });
const disabled = (name: string) => /^(0|false|no|off)$/i.test(process.env[`MCP_${name.toUpperCase().replace(/-/g, "_")}_ENABLED`] ?? "");
const db = openDb(url, { max: 16 });
const running: Array<{ name: string; stop(): Promise<void> }> = [];
for (const e of CATALOG) {
  if (!e.worker || disabled(e.name)) continue;
  const start = await e.worker();
  running.push({ name: e.name, ...(await start({ db, databaseUrl: url, env: process.env, log: log.child({ server: e.name }) })) });
}
process.stderr.write(`[worker] running: ${running.map((r) => r.name).join(", ") || "nothing (no enabled server has background work)"}\n`);
let stopping = false;
const stop = async (why: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[worker] stopping (${why})\n`);
  for (const r of running) await r.stop();
  await db.$disconnect();
  process.exit(0);
};
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
