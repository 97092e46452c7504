// The end-to-end harness: every enabled server as a real stdio child process, every listed tool
// called with demo-data arguments, the cross-server story, the fallback and the flags — and a
// summary computed from what happened. `format` decides who reads it: plain, tour (a person), json.
import { createLogger, loadConfig, serverDisabledReason } from "@marketsage/core";
import { assertMigrated, DEMO_ORGS, demoApiKey, hashApiKey, resolveDatabaseUrl } from "@marketsage/db";
import pg from "pg";
import { ensureBuilt } from "../build.ts";
import { createMarketSageClient } from "../client.ts";
import { stdioLaunch } from "../launch.ts";
import type { Catalog } from "@marketsage/catalog";
import { loadServers } from "../registry.ts";
import type { Check } from "./checks.ts";
import { exerciseServer, type ServerRun } from "./coverage.ts";
import { builderContext } from "./demo-data.ts";
import { proveFallback, proveFlags } from "./fallback.ts";
import { checksTable, summarize, summaryTable, toolLine, tourTool, type ServerSummary } from "./report.ts";
import { runScenario } from "./scenario.ts";

export type HarnessFormat = "plain" | "tour" | "json";

export interface HarnessOptions {
  databaseUrl?: string;
  format?: HarnessFormat;
  /** Flags and settings, as the entry point read them (process.env). */
  env: Record<string, string | undefined>;
  /** Where the report goes (default: stdout). */
  write?: (text: string) => void;
  /** The servers (default: the catalog); tests pass one with a fake entry. */
  catalog?: Catalog;
  /** How to spawn a server instead of its built entry (a test's fake server). */
  launches?: Partial<Record<string, { command: string; args: string[] }>>;
}

export interface HarnessReport {
  ok: boolean;
  durationMs: number;
  servers: ServerSummary[];
  tools: ServerRun["runs"];
  problems: string[];
  checks: Check[];
}

export async function runHarness(opts: HarnessOptions): Promise<HarnessReport> {
  const started = performance.now();
  // The servers' background work (bulk sends) runs in their processes during the tour, as it would
  // beside a desktop client with MARKETSAGE_WORKER=1 (unless the caller set it).
  const env: Record<string, string | undefined> = { MARKETSAGE_WORKER: "1", ...opts.env };
  const format = opts.format ?? "plain";
  const write = opts.write ?? ((t: string) => void process.stdout.write(`${t}\n`));
  const say = (t: string) => format === "tour" && write(t);
  const plain = (t: string) => format === "plain" && write(t);
  const log = createLogger({ level: env.LOG_LEVEL ?? "warn", name: "harness" });
  const servers = await loadServers(opts.catalog);
  const config = loadConfig(env, { servers: servers.map((e) => e.name) });
  const report: HarnessReport = { ok: false, durationMs: 0, servers: [], tools: [], problems: [], checks: [] };
  const finish = () => {
    report.durationMs = performance.now() - started;
    report.ok = report.problems.length === 0 && report.servers.every((s) => s.failed === 0) && report.checks.every((c) => c.ok);
    if (format === "json") write(JSON.stringify(report, null, 2));
    else {
      write(`\n${summaryTable(report.servers)}`);
      // The tour has narrated each check already; a person needs the count and any failure.
      if (format === "tour") {
        write(`Checks: ${report.checks.filter((c) => c.ok).length} of ${report.checks.length} passed.`);
        for (const c of report.checks.filter((x) => !x.ok)) write(`✗ ${c.group}: ${c.name}: ${c.detail}`);
      } else if (report.checks.length) write(checksTable(report.checks));
      for (const p of report.problems) write(`✗ ${p}`);
      write(`\n${report.ok ? "All checks passed" : "FAILED"} in ${(report.durationMs / 1000).toFixed(1)} s.`);
    }
    return report;
  };

  const url = (await resolveDatabaseUrl(opts.databaseUrl ?? config.databaseUrl, { dataDir: config.dataDir, log: (m) => log.info(m) })).url;
  try {
    await assertMigrated(url);
  } catch (err) {
    report.problems.push((err as Error).message);
    return finish();
  }
  const names = servers.map((e) => e.name);
  const harnesses = await Promise.all(servers.map(async (entry) => ({ entry, harness: await entry.harness() })));
  const rebuilt = ensureBuilt(names.filter((n) => !opts.launches?.[n]), { quiet: format === "json" });
  if (rebuilt) say(`(built the server bundles first: ${rebuilt})`);

  const org = DEMO_ORGS[0]!;
  const adminKey = demoApiKey(org, "SUPER_ADMIN");
  const agentKey = demoApiKey(org, "AI_AGENT");
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  try {
    const agent = (await sql.query<{ user_id: string }>(`select user_id::text from api_keys where key_hash = $1`, [hashApiKey(agentKey)])).rows[0];
    if (!agent) {
      report.problems.push(`the demo API keys are not in ${org.name}'s data: seed the database (pnpm db:setup)`);
      return finish();
    }
    const ctx = builderContext(sql, org.id);
    say(`MarketSage MCP — a guided tour on ${org.name}'s demo data.\nEach server runs as its own process, spoken to over stdio by the official MCP SDK client, exactly as Claude Desktop would.\n`);

    for (const { entry, harness } of harnesses) {
      const name = entry.name;
      const disabled = serverDisabledReason(config.flags, name);
      if (disabled) {
        report.servers.push(summarize({ server: name, instructions: undefined, health: undefined, listed: [], runs: [], problems: [], disabled }));
        say(`■ ${name}: disabled (${disabled}) — not started.\n`);
        plain(`- ${name}: disabled (${disabled})`);
        continue;
      }
      say(`■ ${name}\n  ${entry.pkg.module.instructions ?? ""}`);
      const run = await exerciseServer(entry, harness, stdioLaunch(name, { apiKey: adminKey, databaseUrl: url, env, ...opts.launches?.[name] }), ctx, {
        log,
        flags: config.flags,
        role: "SUPER_ADMIN",
        callTimeoutMs: config.callTimeoutMs,
        onTool: (r) => (format === "tour" ? write(tourTool(r)) : plain(toolLine(r))),
      });
      if (run.health?.ok) say(`  (started in ${run.health.initializeMs?.toFixed(0)} ms; ping ${run.health.pingMs?.toFixed(1)} ms; ${run.listed.length} tools)\n`);
      for (const p of run.problems) report.problems.push(`${name}: ${p}`);
      report.tools.push(...run.runs);
      report.servers.push(summarize(run));
    }

    const storied = harnesses.filter((h) => h.harness.story && !serverDisabledReason(config.flags, h.entry.name));
    if (storied.length) {
      const client = await createMarketSageClient({ apiKey: agentKey, catalog: opts.catalog, servers: opts.launches, databaseUrl: url, env, mode: "mcp", log });
      try {
        report.checks.push(...(await runScenario(client, storied, ctx, sql, agent.user_id, say)));
      } finally {
        await client.close();
      }
      say("");
    }
    const enabled = harnesses.filter((h) => !serverDisabledReason(config.flags, h.entry.name));

    say(`■ When MCP is off or a server fails, the app's client answers directly, through the same checks and audit.`);
    const fb = await proveFallback({ servers: enabled, catalog: opts.catalog, launches: opts.launches, databaseUrl: url, env, log, ctx }, agentKey);
    report.checks.push(...fb);
    for (const c of fb) say(`  ${c.ok ? "✓" : "✗"} ${c.name}`);
    say(`\n■ Feature flags decide what runs.`);
    const fl = await proveFlags({ servers: harnesses, catalog: opts.catalog, launches: opts.launches, databaseUrl: url, env, log, ctx }, adminKey);
    report.checks.push(...fl);
    for (const c of fl) say(`  ${c.ok ? "✓" : "✗"} ${c.name}${c.ok ? ` — ${c.detail.slice(0, 100)}` : `: ${c.detail}`}`);
  } catch (err) {
    log.debug({ err }, "harness error");
    report.problems.push(`harness error: ${(err as Error).message}`);
  } finally {
    await sql.end();
  }
  return finish();
}
