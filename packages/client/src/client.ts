// createMarketSageClient: the app's typed client. `auto` (default) calls a server over MCP when
// MCP_ENABLED, the server's flag and the rollout say so, and falls back to the direct path when
// the server is disabled, cannot start, times out or crashes; `mcp` never falls back; `direct`
// never spawns. Either way the call passes through the same pipeline and leaves the same audit row.
import { createLogger, loadConfig, serverDisabledReason, serverFlagName, type AnyTool, type Logger, type ServerName } from "@marketsage/core";
import { findRepoRoot, resolveDatabaseUrl } from "@marketsage/db";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CircuitBreaker, type BreakerOptions, type BreakerState } from "./breaker.ts";
import type { LaunchSpec } from "./connection.ts";
import { createDirectBackend } from "./direct.ts";
import { McpUnavailableError, OutcomeUnknownError, type FallbackReason } from "./errors.ts";
import { createServerManager, type ServerManager } from "./manager.ts";
import { stdioLaunch } from "./launch.ts";
import { serverNames, type Catalog } from "@marketsage/catalog";
import { findServer, loadServers } from "./registry.ts";
import { inRollout } from "./rollout.ts";
import { unwrapResult } from "./result.ts";
import type { CallOptions, ClientMode, ServerNamespaces, ToolCallResult } from "./types.ts";

/** How to reach one server over MCP instead of its built entry. */
export type LaunchOverride = { command: string; args?: string[] } | { url: string };

export interface MarketSageClientOptions {
  apiKey: string;
  mode?: ClientMode;
  /** Flags and settings (MCP_ENABLED, MCP_<SERVER>_ENABLED, MCP_<SERVER>_URL, MCP_ROLLOUT_PERCENT, DATABASE_URL…): the app's entry point passes process.env. */
  env: Record<string, string | undefined>;
  databaseUrl?: string;
  servers?: Partial<Record<ServerName, LaunchOverride>>;
  initializeTimeoutMs?: number;
  callTimeoutMs?: number;
  breaker?: BreakerOptions;
  log?: Logger;
  repoRoot?: string;
  /** The servers (default: the catalog). Tests pass one with a fake entry. */
  catalog?: Catalog;
}

export interface ClientServerStatus {
  server: ServerName;
  breaker: BreakerState;
  consecutiveFailures: number;
  lastFailure: string | undefined;
  pid: number | null;
}

export type MarketSageClient = ServerNamespaces & {
  readonly mode: ClientMode;
  /** Call any tool by server and name (untyped; the typed namespaces call this). */
  call(server: ServerName, tool: string, args?: Record<string, unknown>, opts?: CallOptions): Promise<ToolCallResult<Record<string, unknown>>>;
  status(): ClientServerStatus[];
  readonly manager: ServerManager;
  close(): Promise<void>;
};

/** MCP_CUSTOMER_DATA_URL etc.: a Streamable HTTP endpoint to use instead of spawning. */
export function serverUrlVar(server: ServerName): string {
  return serverFlagName(server).replace(/_ENABLED$/, "_URL");
}

export async function createMarketSageClient(opts: MarketSageClientOptions): Promise<MarketSageClient> {
  const env = opts.env;
  const config = loadConfig(env, { servers: serverNames(opts.catalog) });
  const mode: ClientMode = opts.mode ?? "auto";
  const log = opts.log ?? createLogger({ level: config.logLevel, name: "marketsage-client" });
  const repoRoot = opts.repoRoot ?? findRepoRoot();
  const callTimeoutMs = opts.callTimeoutMs ?? config.callTimeoutMs;
  // The embedded database is started once, here, and its URL handed to every child.
  const databaseUrl = (await resolveDatabaseUrl(opts.databaseUrl ?? config.databaseUrl, { dataDir: config.dataDir, log: (m) => log.info(m) })).url;

  const servers = await loadServers(opts.catalog);
  const direct = createDirectBackend({ servers, databaseUrl: async () => databaseUrl, config, apiKey: opts.apiKey, log });
  const launchFor = (name: ServerName): LaunchSpec => {
    const o = opts.servers?.[name];
    const url = o && "url" in o ? o.url : env[serverUrlVar(name)];
    if (url) return { kind: "http", url, apiKey: opts.apiKey };
    const custom = o && "command" in o ? { command: o.command, args: o.args ?? [] } : {};
    return stdioLaunch(name, { apiKey: opts.apiKey, databaseUrl, env, repoRoot, ...custom });
  };
  const names = servers.map((e) => e.name);
  const manager = createServerManager({
    servers: servers.map((e) => ({ name: e.name, launch: launchFor(e.name), healthCheck: e.pkg.healthCheck })),
    log,
    initializeTimeoutMs: opts.initializeTimeoutMs ?? 10_000,
    callTimeoutMs,
    restart: { enabled: false }, // the breaker decides when to try again, on the next call
  });
  const breakers = new Map(names.map((n) => [n, new CircuitBreaker(opts.breaker)]));

  let userId: Promise<string> | undefined;
  /** Why this call must not use MCP, before trying it; undefined = try MCP. */
  async function routeAway(server: ServerName): Promise<{ reason: FallbackReason; detail: string } | undefined> {
    const disabled = serverDisabledReason(config.flags, server);
    if (disabled) return { reason: config.flags.mcpEnabled ? "server_disabled" : "mcp_disabled", detail: disabled };
    if (config.rolloutPercent < 100) {
      userId ??= direct.principal().then((p) => p.userId);
      if (!inRollout(await userId, config.rolloutPercent)) {
        return { reason: "not_in_rollout", detail: `this user is outside MCP_ROLLOUT_PERCENT=${config.rolloutPercent}` };
      }
    }
    return undefined;
  }

  async function overMcp(server: ServerName, tool: string, args: Record<string, unknown>, timeoutMs: number): Promise<CallToolResult> {
    const conn = await manager.start(server);
    return conn.callTool(tool, args, timeoutMs);
  }

  async function call(server: ServerName, tool: string, args: Record<string, unknown> = {}, copts: CallOptions = {}): Promise<ToolCallResult<Record<string, unknown>>> {
    const started = performance.now();
    const def: AnyTool | undefined = findServer(servers, server)?.pkg.module.tools.find((t) => t.name === tool);
    const done = (result: CallToolResult, servedBy: "mcp" | "direct", fb?: { reason: FallbackReason; detail: string }): ToolCallResult<Record<string, unknown>> => ({
      data: unwrapResult(server, tool, result, servedBy),
      servedBy,
      ...(fb ? { fallbackReason: fb.reason, fallbackDetail: fb.detail } : {}),
      server,
      tool,
      durationMs: performance.now() - started,
    });

    if (mode === "direct") return done(await direct.call(server, tool, args), "direct");
    const away = await routeAway(server);
    if (away) {
      if (mode === "mcp") throw new McpUnavailableError(server, away.reason, away.detail);
      return done(await direct.call(server, tool, args), "direct", away);
    }
    const breaker = breakers.get(server)!;
    if (mode === "auto" && !breaker.tryAcquire()) {
      const at = breaker.retryAt ? new Date(breaker.retryAt).toISOString() : "soon";
      return done(await direct.call(server, tool, args), "direct", { reason: "circuit_open", detail: `MCP paused after ${breaker.lastFailure ?? "failures"}; retried after ${at}` });
    }
    try {
      const result = await overMcp(server, tool, args, copts.timeoutMs ?? callTimeoutMs);
      breaker.success();
      return done(result, "mcp");
    } catch (err) {
      if (!(err instanceof McpUnavailableError)) throw err;
      breaker.failure(`${err.reason}: ${err.detail}`);
      log.warn({ server, tool, reason: err.reason, detail: err.detail, mode }, mode === "auto" ? "MCP failed; falling back to direct" : "MCP failed");
      // A stuck or crashed process is not reused: the next MCP attempt starts a fresh one.
      if (err.mayHaveRun) await manager.stop(server);
      if (mode === "mcp") throw err;
      // A write that may already have run is replayed only when the tool says that is safe.
      if (err.mayHaveRun && def && !def.annotations.readOnlyHint && !def.annotations.idempotentHint) throw new OutcomeUnknownError(server, tool, err);
      return done(await direct.call(server, tool, args), "direct", { reason: err.reason, detail: err.detail });
    }
  }

  const namespaces = Object.fromEntries(
    servers.map((entry) => {
      const methods = Object.fromEntries(
        Object.entries(entry.pkg.tools).map(([method, tool]) => [method, (input?: Record<string, unknown>, o?: CallOptions) => call(entry.name, tool.name, input ?? {}, o)]),
      );
      return [entry.key, methods];
    }),
  ) as unknown as ServerNamespaces;

  return {
    ...namespaces,
    mode,
    call,
    manager,
    status: () =>
      names.map((n) => {
        const b = breakers.get(n)!;
        return { server: n, breaker: b.state, consecutiveFailures: b.consecutiveFailures, lastFailure: b.lastFailure, pid: manager.connection(n)?.pid ?? null };
      }),
    async close() {
      await manager.stopAll();
      await direct.close();
    },
  };
}
