// Concurrency: N built server processes with one key, M calls in flight each, of a cheap read
// tool, against the same call alone (one process, one call at a time, same run). Reports median and
// p95 per call, audited calls per second in total, and rows lost (calls answered − audit rows,
// matched by the arguments' hash, unique per call), and whether every audit chain verifies.
// The server, tool and arguments are the caller's (this file names no server).
//
// Run alone (DATABASE_URL or the embedded database, migrated and seeded, e.g. `pnpm db:setup`):
//   pnpm exec tsx scripts/bench/concurrency.ts --server customer-data --tool search_customers \
//     --args '{"query":"zzq{tag}","limit":1}' [--processes 5] [--in-flight 10] [--calls 40]
// "{tag}" in the arguments becomes a value unique per call (a one-token query that matches no one
// is a cheap read: the trigram index answers it without a scan).
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { hashArgs, verifyAuditLog } from "@marketsage/core";
import { builtEntry } from "@marketsage/client";
import { DEMO_ORGS, demoApiKey, openDb, resolveDatabaseUrl } from "@marketsage/db";
import { pct, printTable, type Sample } from "./stats.ts";

export interface ConcurrencyOptions {
  /** The built server entry (e.g. packages/customer-data/dist/main.js). */
  entry: string;
  /** The servers' environment: PATH, DATABASE_URL, MARKETSAGE_API_KEY (one key for all). */
  env: Record<string, string | undefined>;
  databaseUrl: string;
  /** The key's organization (whose audit chains are counted and verified). */
  orgId: string;
  processes?: number;
  inFlight?: number;
  /** Sequential calls per in-flight worker. */
  callsPerWorker?: number;
  /** Calls of the reference (one process, one at a time). */
  aloneCalls?: number;
  /** A cheap read tool of that server. */
  tool: string;
  /** Arguments unique per call for a unique tag (rows are matched to calls by their hash). */
  args: (tag: string) => Record<string, unknown>;
  /** Extra node flags for the servers (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
}

export interface ConcurrencyResult {
  samples: Sample[];
  lines: string[];
  callsPerSecond: number;
  expected: number;
  rows: number;
  lost: number;
  chainsOk: boolean;
}

interface Server {
  client: Client;
  pid: number | null;
}

async function spawnServer(entry: string, env: Record<string, string | undefined>, nodeArgs: string[]): Promise<Server> {
  const clean = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command: process.execPath, args: [...nodeArgs, entry], env: clean, stderr: "inherit" });
  const client = new Client({ name: "bench-concurrency", version: "0" });
  await client.connect(transport);
  return { client, pid: transport.pid };
}

/**
 * CPU time (user + system, ms) a process has used, from /proc (Linux; NaN elsewhere). On a shared
 * machine wall-clock rates depend on the neighbours; CPU per call does much less.
 */
function cpuMs(pid: number | null): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

export async function benchConcurrency(opts: ConcurrencyOptions): Promise<ConcurrencyResult> {
  const processes = opts.processes ?? 5;
  const inFlight = opts.inFlight ?? 10;
  const perWorker = opts.callsPerWorker ?? 40;
  const { tool, args: argsFor } = opts;
  const run = Date.now().toString(36);
  // The per-key limit is shared by every process: set it far above the pace (it still runs).
  const env = { LOG_LEVEL: "warn", MCP_RATE_LIMIT_PER_MINUTE: "1000000", ...opts.env };
  const servers = await Promise.all(Array.from({ length: processes }, () => spawnServer(opts.entry, env, opts.nodeArgs ?? [])));
  const clients = servers.map((s) => s.client);
  const serverCpu = () => servers.reduce((sum, s) => sum + cpuMs(s.pid), 0);
  const since = new Date(Date.now() - 1000);
  const sent: string[] = [];
  let failures = 0;
  const callOnce = async (c: Client, tag: string): Promise<number> => {
    const args = argsFor(`${run}x${tag}`);
    const t = performance.now();
    const r = await c.callTool({ name: tool, arguments: args });
    const ms = performance.now() - t;
    if (r.isError) failures++;
    else sent.push(hashArgs(args));
    return ms;
  };
  try {
    // Warm every process (connections, JIT), then the reference, then all at once.
    await Promise.all(clients.map((c, p) => Promise.all(Array.from({ length: inFlight }, (_, w) => callOnce(c, `wp${p}x${w}`)))));
    const alone: number[] = [];
    for (let i = 0; i < (opts.aloneCalls ?? 200); i++) alone.push(await callOnce(clients[0]!, `a${i}`));
    const concurrent: number[] = [];
    const cpu0 = serverCpu();
    const t0 = performance.now();
    await Promise.all(
      clients.flatMap((c, p) =>
        Array.from({ length: inFlight }, async (_, w) => {
          for (let i = 0; i < perWorker; i++) concurrent.push(await callOnce(c, `p${p}x${w}x${i}`));
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuPerCall = (serverCpu() - cpu0) / concurrent.length;
    const callsPerSecond = concurrent.length / seconds;

    const db = openDb(opts.databaseUrl, { max: 1 });
    try {
      const [row] = await db.$queryRaw<Array<{ n: number }>>`
        select count(distinct args_hash)::int as n from audit_events
         where organization_id = ${opts.orgId}::uuid and occurred_at >= ${since} and tool = ${tool} and args_hash = any(${sent})`;
      const rows = row?.n ?? 0;
      const verdict = await verifyAuditLog(db, opts.orgId);
      const lost = sent.length - rows;
      const label = `${processes} processes × ${inFlight} in flight, ${tool}`;
      return {
        samples: [{ name: `per call, ${label}`, ms: concurrent, reference: { name: "same call alone", ms: alone } }],
        lines: [
          `${label}: ${concurrent.length} calls in ${seconds.toFixed(2)} s = ${Math.round(callsPerSecond)} audited calls/s; ` +
            `median ${pct(concurrent, 50).toFixed(2)} ms = ${(pct(concurrent, 50) / pct(alone, 50)).toFixed(2)}× alone (${pct(alone, 50).toFixed(2)} ms); ` +
            `rows lost ${lost} of ${sent.length} answered (${failures} errors); audit log of the organization ${verdict.ok ? "verifies" : `does NOT verify (${verdict.badChains} chains)`} ` +
            `(${verdict.chains.length} chains, ${verdict.rowsChecked} rows, ${verdict.witnessesChecked} witnesses); ` +
            `server CPU ${cpuPerCall.toFixed(2)} ms per call (user + system of the ${processes} processes)`,
        ],
        callsPerSecond,
        expected: sent.length,
        rows,
        lost,
        chainsOk: verdict.ok,
      };
    } finally {
      await db.$disconnect();
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** `{"query":"zzq{tag}"}` → a function putting the tag into every string that has "{tag}". */
export function argsTemplate(json: string): (tag: string) => Record<string, unknown> {
  const template = JSON.parse(json) as Record<string, unknown>;
  if (!json.includes("{tag}")) throw new Error(`--args must contain "{tag}" somewhere, so that every call's arguments are unique: ${json}`);
  return (tag) => JSON.parse(JSON.stringify(template), (_k, v) => (typeof v === "string" ? v.replaceAll("{tag}", tag) : v));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      server: { type: "string" },
      tool: { type: "string" },
      args: { type: "string" },
      processes: { type: "string", default: "5" },
      "in-flight": { type: "string", default: "10" },
      calls: { type: "string", default: "40" },
    },
  });
  if (!values.server || !values.tool || !values.args) {
    process.stderr.write("usage: tsx scripts/bench/concurrency.ts --server <name> --tool <read tool> --args '<json with {tag}>' [--processes 5] [--in-flight 10] [--calls 40]\n");
    process.exit(2);
  }
  const { url } = await resolveDatabaseUrl(process.env.DATABASE_URL);
  const org = DEMO_ORGS[0]!;
  const r = await benchConcurrency({
    entry: builtEntry(values.server),
    env: { PATH: process.env.PATH, DATABASE_URL: url, MARKETSAGE_API_KEY: demoApiKey(org, "ADMIN") },
    databaseUrl: url,
    orgId: org.id,
    tool: values.tool,
    args: argsTemplate(values.args),
    processes: Number(values.processes),
    inFlight: Number(values["in-flight"]),
    callsPerWorker: Number(values.calls),
  });
  printTable(r.samples);
  for (const l of r.lines) process.stdout.write(`\n${l}\n`);
}
