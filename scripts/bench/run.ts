// pnpm bench [--n 50] [--only startup,overhead,customer-data,refresh]: figures against the seeded database (DATABASE_URL or the
// embedded one). Benchmarks print; they do not pass or fail.
import { parseArgs } from "node:util";
import { DEMO_ORGS, demoApiKey, findRepoRoot, openDb, resolveDatabaseUrl } from "@marketsage/db";
import { createLogger, createRuntime } from "@marketsage/core";
import { ALL_ON } from "@marketsage/core/testing";
import { benchCustomerData, benchRefresh } from "./customer-data.ts";
import { benchOverhead } from "./overhead.ts";
import { benchStartup } from "./startup.ts";
import { printTable, type Sample } from "./stats.ts";

const { values } = parseArgs({ options: { n: { type: "string", default: "50" }, only: { type: "string" } } });
const n = Number(values.n);
const PARTS = ["startup", "overhead", "customer-data", "refresh"] as const;
const only = new Set(values.only ? values.only.split(",").map((s) => s.trim()) : PARTS);
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part ${p} (one of ${PARTS.join(", ")})`);
const root = findRepoRoot();
const { url } = await resolveDatabaseUrl(process.env.DATABASE_URL);
const org = DEMO_ORGS[0]!;
const key = demoApiKey(org, "SUPER_ADMIN");

const db = openDb(url, { max: 1 });
const [counts] = await db.$queryRaw<Array<{ contacts: number; events: number; touchpoints: number }>>`
  select (select count(*) from contacts)::int contacts, (select count(*) from message_events)::int events, (select count(*) from touchpoints)::int touchpoints`;
await db.$disconnect();
process.stdout.write(`database: ${counts!.contacts} contacts, ${counts!.events} message events, ${counts!.touchpoints} touchpoints\n\n`);

// Limits far above the benchmark's pace: the limiter still runs on every call.
const runtime = createRuntime({
  databaseUrl: url,
  flags: ALL_ON,
  rateLimits: { callsPerMinute: 10_000_000, sendsPerMinute: 60, sendsPerDay: 5000 },
  log: createLogger({ level: (process.env.LOG_LEVEL as "error" | undefined) ?? "silent" }),
});
const samples: Sample[] = [];
if (only.has("startup")) samples.push(...(await benchStartup(root, ["customer-data"], { PATH: process.env.PATH, DATABASE_URL: url, MARKETSAGE_API_KEY: key, LOG_LEVEL: "warn" }, Math.min(n, 20))));
if (only.has("overhead")) samples.push(await benchOverhead(runtime, key, Math.max(n, 200)));
if (only.has("customer-data")) samples.push(...(await benchCustomerData(runtime, url, key, org.id, n)));
if (samples.length) printTable(samples);
if (only.has("refresh")) {
  const r = await benchRefresh(runtime, key);
  process.stdout.write(`\nrefresh_predictions (whole organization): ${r.written} contacts in ${r.seconds} s = ${r.perSecond} contacts/s\n`);
}
await runtime.close();
