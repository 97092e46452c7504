// Proofs that the app keeps working when MCP does not: with MCP off, with one server's flag off
// and with a server binary that crashes, the client answers via direct with the same data. And
// proofs of the flags: a disabled server does not start (and says why); read-only mode hides
// and refuses write tools on both paths.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isWriteTool, serverFlagName, type HarnessSpec, type Logger } from "@marketsage/core";
import { createMarketSageClient, type MarketSageClientOptions } from "../client.ts";
import { openConnection } from "../connection.ts";
import { MarketSageToolError, McpUnavailableError, type FallbackReason } from "../errors.ts";
import { stdioLaunch } from "../launch.ts";
import type { Catalog } from "@marketsage/catalog";
import type { LoadedEntry } from "../registry.ts";
import { check, expectThat, sameJson, type Check } from "./checks.ts";
import { textOf } from "./coverage.ts";
import type { BuilderContext } from "./demo-data.ts";

export interface HarnessServer {
  entry: LoadedEntry;
  harness: HarnessSpec;
}

interface Env {
  servers: readonly HarnessServer[];
  catalog: Catalog | undefined;
  launches: Partial<Record<string, { command: string; args: string[] }>> | undefined;
  databaseUrl: string;
  env: Record<string, string | undefined>;
  log: Logger;
  ctx: BuilderContext;
}

/** The stable read tools (or the health check) of one server: two paths must agree exactly. */
async function probeAll({ entry, harness }: HarnessServer, opts: MarketSageClientOptions, ctx: BuilderContext) {
  const client = await createMarketSageClient(opts);
  try {
    const out: Array<{ tool: string; data: unknown; servedBy: string; reason: FallbackReason | undefined }> = [];
    const health = entry.pkg.healthCheck;
    for (const tool of harness.stableProbes.length ? harness.stableProbes : [health.tool]) {
      const build = harness.builders[tool];
      const args = build ? await build(ctx) : health.args;
      const r = await client.call(entry.name, tool, args);
      out.push({ tool, data: r.data, servedBy: r.servedBy, reason: r.fallbackReason });
    }
    return out;
  } finally {
    await client.close();
  }
}

export async function proveFallback(e: Env, apiKey: string): Promise<Check[]> {
  const checks: Check[] = [];
  // Falling back is what these clients are asked to do: their warnings would only be noise here.
  const base: MarketSageClientOptions = { apiKey, catalog: e.catalog, servers: e.launches, databaseUrl: e.databaseUrl, log: e.log.child({}, { level: "error" }), env: { ...e.env } };
  const crashDir = fs.mkdtempSync(path.join(os.tmpdir(), "marketsage-harness-"));
  const crashScript = path.join(crashDir, "crash.mjs");
  fs.writeFileSync(crashScript, `process.stderr.write("simulated crash at start-up\\n"); process.exit(1);\n`);
  try {
    for (const server of e.servers) {
      const name = server.entry.name;
      let truth: Awaited<ReturnType<typeof probeAll>> | undefined;
      const variants: Array<[string, MarketSageClientOptions, FallbackReason]> = [
        ["MCP_ENABLED=false", { ...base, env: { ...e.env, MCP_ENABLED: "false" } }, "mcp_disabled"],
        [`${serverFlagName(name)}=false`, { ...base, env: { ...e.env, [serverFlagName(name)]: "false" } }, "server_disabled"],
        ["a server binary that crashes", { ...base, servers: { ...e.launches, [name]: { command: process.execPath, args: [crashScript] } } }, "server_exited"],
      ];
      for (const [label, opts, reason] of variants) {
        checks.push(
          await check("fallback", `${name}: ${label} → direct, same answers`, async () => {
            truth ??= await probeAll(server, { ...base, mode: "mcp" }, e.ctx);
            const got = await probeAll(server, { ...opts, mode: "auto" }, e.ctx);
            for (const [i, g] of got.entries()) {
              expectThat(g.servedBy === "direct" && g.reason === reason, `${g.tool} was served by ${g.servedBy} (${g.reason ?? "no reason"}), expected direct (${reason})`);
              expectThat(sameJson(g.data, truth![i]!.data), `${g.tool} answered differently via direct than via MCP`);
            }
            return `${got.map((g) => g.tool).join(", ")} equal; fallbackReason ${reason}`;
          }),
        );
      }
    }
  } finally {
    fs.rmSync(crashDir, { recursive: true, force: true });
  }
  return checks;
}

export async function proveFlags(e: Env, apiKey: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const { entry, harness } of e.servers) {
    const name = entry.name;
    const flag = serverFlagName(name);
    checks.push(
      await check("flags", `${name}: ${flag}=false → does not start, says why`, async () => {
        const launch = stdioLaunch(name, { apiKey, databaseUrl: e.databaseUrl, env: { ...e.env, [flag]: "false" }, ...e.launches?.[name] });
        try {
          const conn = await openConnection(name, launch, { initializeTimeoutMs: 10_000, log: e.log });
          await conn.close();
        } catch (err) {
          expectThat(err instanceof McpUnavailableError && err.exitMeaning === "DISABLED", `expected exit code 3 (DISABLED), got: ${(err as Error).message}`);
          expectThat((err as McpUnavailableError).detail.includes(flag), `stderr does not name ${flag}: ${(err as McpUnavailableError).detail}`);
          return (err as McpUnavailableError).detail;
        }
        throw new Error("the server started although its flag is off");
      }),
    );

    const writes = entry.pkg.module.tools.filter(isWriteTool);
    if (writes.length === 0) continue;
    checks.push(
      await check("flags", `${name}: MCP_READ_ONLY=true → write tools hidden and refused`, async () => {
        const env = { ...e.env, MCP_READ_ONLY: "true" };
        const conn = await openConnection(name, stdioLaunch(name, { apiKey, databaseUrl: e.databaseUrl, env, ...e.launches?.[name] }), { initializeTimeoutMs: 10_000, log: e.log });
        const refusedDirect: string[] = [];
        try {
          const listed = conn.tools.map((t) => t.name);
          for (const w of writes) {
            expectThat(!listed.includes(w.name), `${w.name} is listed in read-only mode`);
            const r = await conn.callTool(w.name, await harness.builders[w.name]!(e.ctx), 30_000);
            expectThat(r.isError === true && textOf(r).startsWith("READ_ONLY"), `${w.name} over MCP was not refused: ${textOf(r).slice(0, 120)}`);
          }
          expectThat(listed.length > 0, "read-only mode hid every tool");
        } finally {
          await conn.close();
        }
        const direct = await createMarketSageClient({ apiKey, catalog: e.catalog, databaseUrl: e.databaseUrl, log: e.log, env, mode: "direct" });
        try {
          for (const w of writes) {
            await direct.call(name, w.name, await harness.builders[w.name]!(e.ctx)).then(
              () => undefined,
              (err: unknown) => void (err instanceof MarketSageToolError && err.code === "READ_ONLY" && refusedDirect.push(w.name)),
            );
          }
        } finally {
          await direct.close();
        }
        expectThat(refusedDirect.length === writes.length, `direct path refused only [${refusedDirect.join(", ")}] of ${writes.length} write tools`);
        return `${writes.map((w) => w.name).join(", ")}: hidden, refused over MCP and direct`;
      }),
    );
  }
  return checks;
}
