// Proofs that the app keeps working when MCP does not: with MCP off, with one server's flag off
// and with a server binary that crashes, the client answers via direct with the same data. And
// proofs of the flags: a disabled server does not start (and says why); read-only mode hides
// and refuses write tools on both paths.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isWriteTool, serverFlagName, type Logger, type ServerName } from "@marketsage/core";
import { createMarketSageClient, type MarketSageClientOptions } from "../client.ts";
import { openConnection } from "../connection.ts";
import { MarketSageToolError, McpUnavailableError, type FallbackReason } from "../errors.ts";
import { stdioLaunch } from "../launch.ts";
import { SERVER_KEYS, SERVERS, type ServerEntry } from "../registry.ts";
import { ARG_BUILDERS } from "./builders.ts";
import { check, expectThat, sameJson, type Check } from "./checks.ts";
import { textOf } from "./coverage.ts";
import type { BuilderContext } from "./demo-data.ts";

/** Read tools whose answers do not depend on the clock, so two paths must agree exactly. */
const STABLE_PROBES: Partial<Record<ServerName, string[]>> = {
  "customer-data": ["search_customers", "get_customer_profile", "get_customer_predictions"],
};

interface Env {
  databaseUrl: string;
  env: Record<string, string | undefined>;
  log: Logger;
  ctx: BuilderContext;
}

async function probeAll(entry: ServerEntry, opts: MarketSageClientOptions, ctx: BuilderContext) {
  const client = await createMarketSageClient(opts);
  try {
    const out: Array<{ tool: string; data: unknown; servedBy: string; reason: FallbackReason | undefined }> = [];
    for (const tool of STABLE_PROBES[entry.module.name] ?? [entry.healthCheck.tool]) {
      const args = tool === entry.healthCheck.tool && !ARG_BUILDERS[tool] ? entry.healthCheck.args : await ARG_BUILDERS[tool]!(ctx);
      const r = await client.call(entry.module.name, tool, args);
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
  const base: MarketSageClientOptions = { apiKey, databaseUrl: e.databaseUrl, log: e.log.child({}, { level: "error" }), env: { ...e.env } };
  const crashDir = fs.mkdtempSync(path.join(os.tmpdir(), "marketsage-harness-"));
  const crashScript = path.join(crashDir, "crash.mjs");
  fs.writeFileSync(crashScript, `process.stderr.write("simulated crash at start-up\\n"); process.exit(1);\n`);
  try {
    for (const key of SERVER_KEYS) {
      const entry: ServerEntry = SERVERS[key];
      const name = entry.module.name;
      let truth: Awaited<ReturnType<typeof probeAll>> | undefined;
      const variants: Array<[string, MarketSageClientOptions, FallbackReason]> = [
        ["MCP_ENABLED=false", { ...base, env: { ...e.env, MCP_ENABLED: "false" } }, "mcp_disabled"],
        [`${serverFlagName(name)}=false`, { ...base, env: { ...e.env, [serverFlagName(name)]: "false" } }, "server_disabled"],
        ["a server binary that crashes", { ...base, servers: { [name]: { command: process.execPath, args: [crashScript] } } }, "server_exited"],
      ];
      for (const [label, opts, reason] of variants) {
        checks.push(
          await check("fallback", `${name}: ${label} → direct, same answers`, async () => {
            truth ??= await probeAll(entry, { ...base, mode: "mcp" }, e.ctx);
            const got = await probeAll(entry, { ...opts, mode: "auto" }, e.ctx);
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
  for (const key of SERVER_KEYS) {
    const entry: ServerEntry = SERVERS[key];
    const name = entry.module.name;
    const flag = serverFlagName(name);
    checks.push(
      await check("flags", `${name}: ${flag}=false → does not start, says why`, async () => {
        const launch = stdioLaunch(name, { apiKey, databaseUrl: e.databaseUrl, env: { ...e.env, [flag]: "false" } });
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

    const writes = entry.module.tools.filter(isWriteTool);
    if (writes.length === 0) continue;
    checks.push(
      await check("flags", `${name}: MCP_READ_ONLY=true → write tools hidden and refused`, async () => {
        const env = { ...e.env, MCP_READ_ONLY: "true" };
        const conn = await openConnection(name, stdioLaunch(name, { apiKey, databaseUrl: e.databaseUrl, env }), { initializeTimeoutMs: 10_000, log: e.log });
        const refusedDirect: string[] = [];
        try {
          const listed = conn.tools.map((t) => t.name);
          for (const w of writes) {
            expectThat(!listed.includes(w.name), `${w.name} is listed in read-only mode`);
            const r = await conn.callTool(w.name, await ARG_BUILDERS[w.name]!(e.ctx), 30_000);
            expectThat(r.isError === true && textOf(r).startsWith("READ_ONLY"), `${w.name} over MCP was not refused: ${textOf(r).slice(0, 120)}`);
          }
          expectThat(listed.length > 0, "read-only mode hid every tool");
        } finally {
          await conn.close();
        }
        const direct = await createMarketSageClient({ apiKey, databaseUrl: e.databaseUrl, log: e.log, env, mode: "direct" });
        try {
          for (const w of writes) {
            await direct.call(name, w.name, await ARG_BUILDERS[w.name]!(e.ctx)).then(
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
