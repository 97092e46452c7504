// Demo-data generator: `pnpm db:seed [--scale tiny|demo|bench] [--seed N] [--now ISO] [--if-empty] [--reset]`.
// Deterministic (same seed and now → same rows), African-market realistic, bulk-loaded with COPY.
// Everything it prints goes to stderr; stdout stays clean for callers that pipe it.
import pg from "pg";
import { parseScale, type Scale } from "./config.ts";
import { organizationCount, truncateAll } from "./schema-ops.ts";
import { seedDatabase, type SeedSummary } from "./run.ts";
import { defaultNow } from "./time.ts";

export { seedDatabase, SeedError } from "./run.ts";
export type { SeedOptions, SeedSummary } from "./run.ts";
export type { Scale } from "./config.ts";
export { DEMO_ORGS, DEMO_ROLES, demoApiKey, demoApiKeyId, demoUserId } from "./demo-accounts.ts";
/** The documented incidents of the demo data (monitoring finds them): a delivery-failure day and a volume spike per organization. */
export { anomalyDay, spikeDay } from "./campaigns.ts";

export interface SeedCliArgs {
  scale: Scale;
  seed: number;
  now: Date;
  ifEmpty: boolean;
  reset: boolean;
}

const USAGE = "usage: db:seed [--scale tiny|demo|bench] [--seed N] [--now ISO-8601] [--if-empty] [--reset]";

export function parseSeedArgs(argv: readonly string[]): SeedCliArgs {
  const out: SeedCliArgs = { scale: "demo", seed: 42, now: defaultNow(), ifEmpty: false, reset: false };
  for (let k = 0; k < argv.length; k++) {
    const raw = argv[k]!;
    const [flag, inline] = raw.includes("=") ? [raw.slice(0, raw.indexOf("=")), raw.slice(raw.indexOf("=") + 1)] : [raw, undefined];
    const value = () => {
      const v = inline ?? argv[++k];
      if (v === undefined) throw new Error(`${flag} needs a value. ${USAGE}`);
      return v;
    };
    switch (flag) {
      case "--scale": out.scale = parseScale(value()); break;
      case "--seed": {
        const v = value();
        if (!/^-?\d+$/.test(v)) throw new Error(`--seed must be an integer (got "${v}")`);
        out.seed = Number(v);
        break;
      }
      case "--now": {
        const v = value();
        const d = new Date(v);
        if (!Number.isFinite(d.getTime())) throw new Error(`--now must be an ISO-8601 time (got "${v}")`);
        out.now = d;
        break;
      }
      case "--if-empty": out.ifEmpty = true; break;
      case "--reset": out.reset = true; break;
      case "--": break;
      default: throw new Error(`unknown argument "${raw}". ${USAGE}`);
    }
  }
  if (out.ifEmpty && out.reset) throw new Error("--if-empty and --reset contradict each other");
  return out;
}

function table(summary: SeedSummary): string {
  const rows = [...summary.tables].sort((a, b) => b.rows - a.rows);
  const w = Math.max(5, ...rows.map((r) => r.table.length));
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const lines = [`${"table".padEnd(w)}  ${"rows".padStart(12)}  ${"seconds".padStart(8)}  ${"rows/s".padStart(11)}`];
  for (const r of rows) lines.push(`${r.table.padEnd(w)}  ${fmt(r.rows).padStart(12)}  ${r.seconds.toFixed(2).padStart(8)}  ${fmt(r.rowsPerSecond).padStart(11)}`);
  const total = rows.reduce((s, r) => s + r.rows, 0);
  lines.push(`${"total".padEnd(w)}  ${fmt(total).padStart(12)}  ${summary.seconds.toFixed(2).padStart(8)}  ${fmt(total / summary.seconds).padStart(11)}`);
  return lines.join("\n");
}

/**
 * The CLI. Resolves to the summary and its anchor time (callers refresh predictions as of that
 * time), or undefined when --if-empty found data and did nothing. Throws with a clear message
 * on failure and sets a non-zero exit code.
 */
export async function runSeedCli(databaseUrl: string, argv: string[]): Promise<{ now: Date; summary: SeedSummary } | undefined> {
  const log = (m: string) => process.stderr.write(`[seed] ${m}\n`);
  try {
    const args = parseSeedArgs(argv);
    if (args.ifEmpty || args.reset) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        if (args.ifEmpty && (await organizationCount(c)) > 0) {
          log("organizations already has rows; --if-empty: nothing to do");
          return undefined;
        }
        if (args.reset) log(`--reset: truncated ${(await truncateAll(c)).length} tables`);
      } finally {
        await c.end();
      }
    }
    const summary = await seedDatabase(databaseUrl, { scale: args.scale, seed: args.seed, now: args.now, log });
    log(`done: scale=${summary.scale} seed=${summary.seed} now=${summary.now}\n${table(summary)}`);
    return { now: args.now, summary };
  } catch (e) {
    process.exitCode = 1;
    log(`failed: ${(e as Error).message}`);
    throw e;
  }
}
