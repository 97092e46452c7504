// pnpm bench [--n 50] [--only startup,rss,overhead,concurrency,http,<server parts>]: figures against
// the seeded database (DATABASE_URL or the embedded one). The platform's parts are here, beside the
// bare MCP SDK in the same run; each catalog server adds its own (its package's bench/).
// Benchmarks print; they do not pass or fail.
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { CATALOG } from "@marketsage/catalog";
import { builtEntry } from "@marketsage/client";
import { createLogger, createRuntime, type BenchSpec } from "@marketsage/core";
import { ALL_ON } from "@marketsage/core/testing";
import { DEMO_ORGS, demoApiKey, findRepoRoot, openDb, resolveDatabaseUrl } from "@marketsage/db";
import { benchConcurrency } from "./concurrency.ts";
import { benchHttp } from "./http.ts";
import { benchOverhead } from "./overhead.ts";
import { benchIdleRss, benchParallelStart, benchStartup } from "./startup.ts";
import { printTable, time, type Sample } from "./stats.ts";

const { values } = parseArgs({ options: { n: { type: "string", default: "50" }, only: { type: "string" } } });
const n = Number(values.n);
const serverParts: Array<{ part: string; run: BenchSpec[string] }> = [];
for (const e of CATALOG) if (e.bench) for (const [part, run] of Object.entries(await e.bench())) serverParts.push({ part, run });
const PARTS = ["startup", "rss", "overhead", "concurrency", "http", ...serverParts.map((p) => p.part)];
const only = new Set(values.only ? values.only.split(",").map((s) => s.trim()) : PARTS);
for (const p of only) if (!PARTS.includes(p)) throw new Error(`--only: unknown part ${p} (one of ${PARTS.join(", ")})`);
const root = findRepoRoot();
const { url } = await resolveDatabaseUrl(process.env.DATABASE_URL);
const org = DEMO_ORGS[0]!;
const key = demoApiKey(org, "SUPER_ADMIN");
const log = createLogger({ level: (process.env.LOG_LEVEL as "error" | undefined) ?? "silent" });
const names = CATALOG.map((e) => e.name);

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
  log,
});
const samples: Sample[] = [];
const lines: string[] = [];
const env = { PATH: process.env.PATH, DATABASE_URL: url, MARKETSAGE_API_KEY: key, LOG_LEVEL: "warn", MCP_RATE_LIMIT_PER_MINUTE: "1000000" };
const harnesses = await Promise.all(CATALOG.map(async (e) => ({ name: e.name, harness: await e.harness() })));
if (only.has("startup")) {
  samples.push(...(await benchStartup(root, names, env, Math.min(n, 20))));
  samples.push(await benchParallelStart(root, names, env, Math.min(n, 10)));
}
if (only.has("rss")) {
  const probe = (server: string) => {
    const h = harnesses.find((x) => x.name === server)?.harness.cheapRead;
    return h ? { name: h.tool, arguments: h.args("rss") } : undefined;
  };
  samples.push(...(await benchIdleRss(root, names, env, { probe })));
}
if (only.has("overhead")) samples.push(await benchOverhead(runtime, key, Math.max(n, 200)));
if (only.has("concurrency")) {
  // The platform's trivial call (the echo tool through bootstrap, seam and audit, bundled like a
  // server), then each catalog server's cheap read.
  const echoEntry = path.join(root, ".data", "bench", "echo-server.js");
  await build({
    entryPoints: [path.join(root, "scripts", "bench", "echo-server.ts")],
    outfile: echoEntry,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  const targets = [
    { label: "trivial tool (echo)", entry: echoEntry, tool: "echo_message", args: (tag: string) => ({ message: tag }) },
    ...harnesses.filter((h) => h.harness.cheapRead).map((h) => ({ label: `${h.name} ${h.harness.cheapRead!.tool}`, entry: builtEntry(h.name), ...h.harness.cheapRead! })),
  ];
  for (const t of targets) {
    const r = await benchConcurrency({ entry: t.entry, env, databaseUrl: url, orgId: org.id, tool: t.tool, args: t.args });
    samples.push(...r.samples.map((s) => ({ ...s, name: `${t.label}: ${s.name}` })));
    lines.push(...r.lines.map((l) => `${t.label}: ${l}`));
  }
}
if (only.has("http")) lines.push(...(await benchHttp(root, env, key)));
for (const p of serverParts) {
  if (!only.has(p.part)) continue;
  const r = await p.run({ runtime, databaseUrl: url, apiKey: key, orgId: org.id, n, log, time });
  samples.push(...(r.samples ?? []));
  lines.push(...(r.lines ?? []));
}
if (samples.length) printTable(samples);
for (const l of lines) process.stdout.write(`\n${l}\n`);
await runtime.close();
