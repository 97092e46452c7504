// The entry every server's main.ts calls: configuration, flags, database, key, then stdio.
// Only this file (and the client/manager) knows about processes and transports.
import { assertMigrated, DatabaseNotReadyError, resolveDatabaseUrl } from "@marketsage/db";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { ConfigError, loadConfig, serverDisabledReason, type ServerName } from "./config.ts";
import { AuthError } from "./errors.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { createLogger } from "./logger.ts";
import { createInvoker } from "./pipeline.ts";
import { configToRuntimeOptions, createRuntime } from "./runtime.ts";
import { createMcpServer, type PromptDefinition, type ResourceDefinition } from "./server.ts";
import type { AnyTool } from "./tool.ts";

export interface ServerModule {
  name: ServerName;
  version: string;
  instructions?: string;
  tools: readonly AnyTool[];
  resources?: readonly ResourceDefinition[];
  prompts?: readonly PromptDefinition[];
}

/** Exit codes a supervisor can act on. */
export const EXIT = { CONFIG: 2, DISABLED: 3, DATABASE: 4, AUTH: 5, FATAL: 1 } as const;

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

export async function runStdioServer(mod: ServerModule, env: NodeJS.ProcessEnv): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    fail(EXIT.CONFIG, `${mod.name}: ${(e as ConfigError).message}`);
  }
  const log = createLogger({ level: config.logLevel, name: mod.name });
  const disabled = serverDisabledReason(config.flags, mod.name);
  if (disabled) fail(EXIT.DISABLED, `${mod.name} is disabled (${disabled}); not starting. The app's client falls back to direct calls.`);

  let url: string;
  try {
    url = (await resolveDatabaseUrl(config.databaseUrl, { dataDir: config.dataDir, log: (m) => log.info(m) })).url;
    await assertMigrated(url);
  } catch (e) {
    if (e instanceof DatabaseNotReadyError) fail(EXIT.DATABASE, `${mod.name}: ${e.message}`);
    fail(EXIT.DATABASE, `${mod.name}: cannot reach the database: ${(e as Error).message}. Set DATABASE_URL, or run \`pnpm db:setup\` for the embedded one.`);
  }

  const runtime = createRuntime({ ...configToRuntimeOptions(config, url), log });
  const invoker = createInvoker({ server: mod.name, tools: mod.tools, runtime, apiKey: config.apiKey });
  try {
    const p = await invoker.principal();
    log.info({ role: p.role, org: p.org.id, tools: invoker.tools.size, readOnly: config.flags.readOnly }, "authenticated");
  } catch (e) {
    await runtime.close();
    if (e instanceof AuthError) fail(EXIT.AUTH, `${mod.name}: ${e.message}`);
    throw e;
  }

  const server = createMcpServer({ name: `marketsage-${mod.name}`, version: mod.version, instructions: mod.instructions, invoker, resources: mod.resources, prompts: mod.prompts });
  const heartbeat = startHeartbeat(runtime.db, mod.name, mod.version, log);
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    log.info({ why }, "shutting down");
    await heartbeat.stop();
    await server.close().catch(() => undefined);
    await runtime.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.stdin.on("close", () => void shutdown("stdin closed"));
  await server.connect(new StdioServerTransport());
  log.info("ready on stdio");
}
