// One bootstrap for every transport: configuration, flags, database, migration check, the
// allow-list against the catalog, authentication (stdio) and heartbeats. It returns what a
// transport needs (invokers, the runtime, close) and never touches stdio or HTTP itself.
import { assertMigrated, DatabaseNotReadyError, EmbeddedDatabaseError, poolOf, resolveDatabaseUrl } from "@marketsage/db";
import { ConfigError, loadConfig, serverDisabledReason, unknownAllowListedTools, type Config, type ServerName } from "./config.ts";
import { auditWriterFor } from "./audit-writer.ts";
import { AuthError } from "./errors.ts";
import { startHeartbeat } from "./heartbeat.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createInvoker, type Invoker } from "./pipeline.ts";
import { configToRuntimeOptions, createRuntime, type Runtime } from "./runtime.ts";
import type { PromptDefinition, ResourceDefinition } from "./server.ts";
import type { AnyTool } from "./tool.ts";

/** What a server package exports: its tool list, name and words. */
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

/** A reason not to serve, with the exit code a supervisor acts on and a message naming the fix. */
export class StartupError extends Error {
  constructor(
    public readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = "StartupError";
  }
}

/** What the bootstrap needs to know of the catalog (core itself names no server). */
export interface CatalogView {
  /** Every server the catalog has (a MCP_<X>_ENABLED naming another is a configuration error). */
  names: readonly ServerName[];
  /** The tool names of the given servers (loaded only when MCP_TOOLS must be checked). */
  toolNames(servers: readonly ServerName[]): Promise<ReadonlyMap<ServerName, readonly string[]>>;
}

export interface BootstrapOptions {
  /** Who is starting (logger name, messages). */
  name: string;
  env: Record<string, string | undefined>;
  catalog: CatalogView;
  /** The servers this process may serve; each is checked against its flag. */
  servers: readonly ServerModule[];
  /** stdio: one key for the whole process, checked at start (exit 5 when refused). */
  apiKey?: "from-env";
  /** stdio: a disabled server is a reason to exit (3); the HTTP host serves the others. */
  disabledIsFatal: boolean;
}

export interface Booted {
  config: Config;
  log: Logger;
  runtime: Runtime;
  databaseUrl: string;
  /** The enabled servers, in the given order. */
  servers: readonly ServerModule[];
  /** Disabled servers and why. */
  disabled: ReadonlyMap<ServerName, string>;
  /** An invoker for a server and key: the process key for stdio, the bearer key per HTTP request. */
  invoker(server: ServerName, apiKey: string | undefined): Invoker;
  close(): Promise<void>;
}

function databaseStartupError(name: string, e: unknown): StartupError {
  // Both already name the fix in one line.
  if (e instanceof DatabaseNotReadyError || e instanceof EmbeddedDatabaseError) return new StartupError(EXIT.DATABASE, `${name}: ${e.message}`);
  return new StartupError(EXIT.DATABASE, `${name}: cannot reach the database: ${(e as Error).message}. Set DATABASE_URL, or run \`pnpm db:setup\` for the embedded one.`);
}

export async function bootstrap(opts: BootstrapOptions): Promise<Booted> {
  let config: Config;
  try {
    config = loadConfig(opts.env, { servers: opts.catalog.names });
  } catch (e) {
    throw new StartupError(EXIT.CONFIG, `${opts.name}: ${(e as ConfigError).message}`);
  }
  const log = createLogger({ level: config.logLevel, name: opts.name });
  const disabled = new Map<ServerName, string>();
  for (const s of opts.servers) {
    const why = serverDisabledReason(config.flags, s.name);
    if (why) disabled.set(s.name, why);
  }
  const servers = opts.servers.filter((s) => !disabled.has(s.name));
  if (opts.disabledIsFatal && disabled.size) {
    const [name, why] = [...disabled][0]!;
    throw new StartupError(EXIT.DISABLED, `${name} is disabled (${why}); not starting. The app's client falls back to direct calls.`);
  }
  if (config.flags.tools) {
    const enabled = opts.catalog.names.filter((n) => !serverDisabledReason(config.flags, n));
    const unknown = unknownAllowListedTools(config.flags, await opts.catalog.toolNames(enabled));
    if (unknown.length) {
      throw new StartupError(
        EXIT.CONFIG,
        `${opts.name}: MCP_TOOLS names ${unknown.map((t) => `"${t}"`).join(", ")}, which no enabled server has. Fix the list (tool names are snake_case, e.g. search_customers) or enable the server that has it.`,
      );
    }
  }

  let url: string;
  let runtime: Runtime;
  try {
    url = (await resolveDatabaseUrl(config.databaseUrl, { dataDir: config.dataDir, log: (m) => log.info(m) })).url;
    runtime = createRuntime({ ...configToRuntimeOptions(config, url), log });
  } catch (e) {
    throw databaseStartupError(opts.name, e);
  }
  try {
    // On the runtime's own pool: the connection the first call will use is already open.
    await assertMigrated(url, { pool: poolOf(runtime.db) });
  } catch (e) {
    await runtime.close();
    throw databaseStartupError(opts.name, e);
  }

  const byName = new Map(servers.map((s) => [s.name, s]));
  const processKey = opts.apiKey === "from-env" ? config.apiKey : undefined;
  const cached = new Map<ServerName, Invoker>();
  const invoker = (server: ServerName, apiKey: string | undefined): Invoker => {
    const mod = byName.get(server);
    if (!mod) throw new Error(`${server} is not served by this process`);
    if (opts.apiKey === "from-env") {
      let inv = cached.get(server);
      if (!inv) cached.set(server, (inv = createInvoker({ server, tools: mod.tools, runtime, apiKey: processKey })));
      return inv;
    }
    return createInvoker({ server, tools: mod.tools, runtime, apiKey });
  };

  if (opts.apiKey === "from-env") {
    try {
      for (const s of servers) {
        const p = await invoker(s.name, processKey).principal();
        log.info({ server: s.name, role: p.role, org: p.org.id, tools: invoker(s.name, processKey).tools.size, readOnly: config.flags.readOnly }, "authenticated");
      }
    } catch (e) {
      await runtime.close();
      if (e instanceof AuthError) throw new StartupError(EXIT.AUTH, `${opts.name}: ${e.message}`);
      throw e;
    }
  }

  const heartbeats = servers.map((s) => startHeartbeat(runtime.db, s.name, s.version, log));
  let closed: Promise<void> | undefined;
  return {
    config,
    log,
    runtime,
    databaseUrl: url,
    servers,
    disabled,
    invoker,
    close: () =>
      (closed ??= (async () => {
        await Promise.allSettled(heartbeats.map((h) => h.stop()));
        // Rows of calls already answered are committed before the pool closes.
        await auditWriterFor(runtime).idle().catch(() => undefined);
        await runtime.close();
      })()),
  };
}
