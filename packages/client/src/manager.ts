// The server manager: start, stop, restart and health-check servers as child processes.
// A server that crashes is restarted with exponential back-off; one that exits with a code
// saying restarting cannot help (disabled, bad config, bad key) is left stopped with the reason.
// Used by the harness (supervised) and by the typed client (which restarts lazily, behind its breaker).
import type { Logger, ServerName } from "@marketsage/core";
import { openConnection, type ExitInfo, type LaunchSpec, type McpConnection } from "./connection.ts";
import { McpUnavailableError } from "./errors.ts";

export type ServerState = "stopped" | "starting" | "running" | "backoff" | "failed";

export interface ManagedServer {
  name: ServerName;
  launch: LaunchSpec;
  /** A cheap read-only tool call for health checks. */
  healthCheck?: { tool: string; args: Record<string, unknown> };
}

export interface RestartPolicy {
  enabled: boolean;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Uptime after which a crash counts as the first again. */
  stableAfterMs: number;
}

export interface ServerStatus {
  name: ServerName;
  state: ServerState;
  pid: number | null;
  restarts: number;
  lastExit: ExitInfo | undefined;
  lastError: string | undefined;
  nextRestartInMs: number | undefined;
}

export interface HealthReport {
  server: ServerName;
  ok: boolean;
  pid: number | null;
  tools: number;
  initializeMs: number | undefined;
  pingMs: number | undefined;
  toolCallMs: number | undefined;
  error: string | undefined;
}

/** Exits that a restart cannot fix: the operator must change something first. */
const FINAL_EXITS = new Set(["CONFIG", "DISABLED", "AUTH"]);

interface Slot {
  spec: ManagedServer;
  state: ServerState;
  conn: McpConnection | undefined;
  starting: Promise<McpConnection> | undefined;
  restarts: number;
  crashesInRow: number;
  startedAt: number;
  lastExit: ExitInfo | undefined;
  lastError: string | undefined;
  timer: NodeJS.Timeout | undefined;
  restartAt: number | undefined;
}

export interface ServerManagerOptions {
  servers: readonly ManagedServer[];
  log: Logger;
  initializeTimeoutMs?: number;
  callTimeoutMs?: number;
  restart?: Partial<RestartPolicy>;
}

export interface ServerManager {
  start(name: ServerName): Promise<McpConnection>;
  stop(name: ServerName): Promise<void>;
  restart(name: ServerName): Promise<McpConnection>;
  stopAll(): Promise<void>;
  health(name: ServerName): Promise<HealthReport>;
  status(): ServerStatus[];
  connection(name: ServerName): McpConnection | undefined;
  /** Stop every child on SIGINT/SIGTERM, then exit (130/143). Returns a function that removes the handlers. */
  installSignalHandlers(): () => void;
}

export function createServerManager(opts: ServerManagerOptions): ServerManager {
  const policy: RestartPolicy = { enabled: false, baseDelayMs: 500, maxDelayMs: 30_000, stableAfterMs: 60_000, ...opts.restart };
  const initializeTimeoutMs = opts.initializeTimeoutMs ?? 10_000;
  const callTimeoutMs = opts.callTimeoutMs ?? 30_000;
  const slots = new Map<ServerName, Slot>(
    opts.servers.map((spec) => [
      spec.name,
      { spec, state: "stopped", conn: undefined, starting: undefined, restarts: 0, crashesInRow: 0, startedAt: 0, lastExit: undefined, lastError: undefined, timer: undefined, restartAt: undefined },
    ]),
  );

  function slot(name: ServerName): Slot {
    const s = slots.get(name);
    if (!s) throw new Error(`The server manager does not know ${name}.`);
    return s;
  }

  function onCrash(s: Slot, info: ExitInfo): void {
    s.conn = undefined;
    s.lastExit = info;
    const why = info.signal ? `killed by ${info.signal}` : `exit code ${info.code}${info.meaning ? ` (${info.meaning})` : ""}`;
    s.lastError = why;
    if (info.meaning && FINAL_EXITS.has(info.meaning)) {
      s.state = "failed";
      opts.log.error({ server: s.spec.name, exit: why }, "server stopped and will not be restarted");
      return;
    }
    if (!policy.enabled) {
      s.state = "stopped";
      opts.log.warn({ server: s.spec.name, exit: why }, "server exited");
      return;
    }
    if (Date.now() - s.startedAt > policy.stableAfterMs) s.crashesInRow = 0;
    const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** s.crashesInRow);
    s.crashesInRow += 1;
    s.state = "backoff";
    s.restartAt = Date.now() + delay;
    opts.log.warn({ server: s.spec.name, exit: why, restartInMs: delay }, "server crashed; restarting after back-off");
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.restartAt = undefined;
      s.restarts += 1;
      start(s.spec.name).catch((err) => opts.log.error({ server: s.spec.name, err: (err as Error).message }, "restart failed"));
    }, delay);
    s.timer.unref();
  }

  async function start(name: ServerName): Promise<McpConnection> {
    const s = slot(name);
    if (s.conn?.alive) return s.conn;
    if (s.starting) return s.starting;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.state = "starting";
    s.starting = (async () => {
      try {
        const conn = await openConnection(name, s.spec.launch, { initializeTimeoutMs, log: opts.log });
        s.conn = conn;
        s.state = "running";
        s.startedAt = Date.now();
        s.lastError = undefined;
        conn.onExit((info) => onCrash(s, info));
        opts.log.debug({ server: name, pid: conn.pid, initializeMs: Math.round(conn.initializeMs) }, "server started");
        return conn;
      } catch (err) {
        s.lastError = (err as Error).message;
        const final = err instanceof McpUnavailableError && FINAL_EXITS.has(err.exitMeaning ?? "");
        if (final || !policy.enabled) s.state = final ? "failed" : "stopped";
        else onCrash(s, { code: null, signal: null, meaning: undefined, stderrTail: s.lastError });
        throw err;
      } finally {
        s.starting = undefined;
      }
    })();
    return s.starting;
  }

  async function stop(name: ServerName): Promise<void> {
    const s = slot(name);
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.restartAt = undefined;
    await s.starting?.catch(() => undefined);
    const conn = s.conn;
    s.conn = undefined;
    s.state = "stopped";
    await conn?.close();
  }

  async function health(name: ServerName): Promise<HealthReport> {
    const s = slot(name);
    const report: HealthReport = { server: name, ok: false, pid: null, tools: 0, initializeMs: undefined, pingMs: undefined, toolCallMs: undefined, error: undefined };
    try {
      const fresh = !s.conn?.alive;
      const conn = await start(name);
      report.pid = conn.pid;
      report.tools = conn.tools.length;
      if (fresh) report.initializeMs = conn.initializeMs;
      let t = performance.now();
      await conn.client.ping({ timeout: callTimeoutMs });
      report.pingMs = performance.now() - t;
      const check = s.spec.healthCheck;
      if (check) {
        t = performance.now();
        const r = await conn.callTool(check.tool, check.args, callTimeoutMs);
        report.toolCallMs = performance.now() - t;
        if (r.isError) throw new Error(`${check.tool}: ${r.content.map((c) => (c.type === "text" ? c.text : "")).join(" ")}`);
      }
      report.ok = true;
    } catch (err) {
      report.error = (err as Error).message;
    }
    return report;
  }

  async function stopAll(): Promise<void> {
    await Promise.all([...slots.keys()].map((n) => stop(n)));
  }

  return {
    start,
    stop,
    stopAll,
    health,
    async restart(name) {
      await stop(name);
      slot(name).restarts += 1;
      return start(name);
    },
    connection: (name) => slots.get(name)?.conn,
    status: () =>
      [...slots.values()].map((s) => ({
        name: s.spec.name,
        state: s.state,
        pid: s.conn?.pid ?? null,
        restarts: s.restarts,
        lastExit: s.lastExit,
        lastError: s.lastError,
        nextRestartInMs: s.restartAt === undefined ? undefined : Math.max(0, s.restartAt - Date.now()),
      })),
    installSignalHandlers() {
      const handler = (sig: NodeJS.Signals) => {
        opts.log.info({ signal: sig }, "stopping MCP servers");
        void stopAll().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
      };
      process.once("SIGINT", handler);
      process.once("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
  };
}
