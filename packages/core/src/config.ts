// Configuration: the environment parsed once, with zod, at the entry point, then passed down.
import { z } from "zod";

/** A server's name as the catalog (@marketsage/catalog) spells it; core knows no server by name. */
export type ServerName = string;

/** MCP_CUSTOMER_DATA_ENABLED, MCP_CAMPAIGN_ANALYTICS_ENABLED, … */
export function serverFlagName(server: ServerName): string {
  return `MCP_${server.toUpperCase().replace(/-/g, "_")}_ENABLED`;
}

const bool = (def: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return def;
      const s = v.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(s)) return true;
      if (["0", "false", "no", "off"].includes(s)) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });

const int = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `expected an integer from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== "" ? v.trim() : undefined));

const EnvSchema = z.object({
  DATABASE_URL: optionalString,
  MARKETSAGE_API_KEY: optionalString,
  MARKETSAGE_DATA_DIR: optionalString,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MCP_ENABLED: bool(true),
  MCP_READ_ONLY: bool(false),
  MCP_TOOLS: optionalString,
  MCP_RATE_LIMIT_PER_MINUTE: int(0, 0, 1_000_000),
  MCP_SEND_LIMIT_PER_MINUTE: int(60, 1, 1_000_000),
  MCP_SEND_LIMIT_PER_DAY: int(5000, 1, 100_000_000),
  MCP_ROLLOUT_PERCENT: int(100, 0, 100),
  MCP_CALL_TIMEOUT_MS: int(30_000, 100, 600_000),
  // 0 = no limit. Write tools that set a longer transaction limit get it for their statements.
  MCP_STATEMENT_TIMEOUT_MS: int(15_000, 0, 3_600_000),
  MCP_MAX_MESSAGE_BYTES: int(4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
});

export interface Flags {
  mcpEnabled: boolean;
  /** MCP_<SERVER>_ENABLED values that were set; a server not named here is on. */
  servers: Readonly<Record<ServerName, boolean>>;
  readOnly: boolean;
  /** Allow-list of tool names; undefined = all. */
  tools: ReadonlySet<string> | undefined;
}

export interface RateLimitPolicy {
  /** Calls per minute per principal and server; 0 = the role's default. */
  callsPerMinute: number;
  sendsPerMinute: number;
  sendsPerDay: number;
}

export interface Config {
  databaseUrl: string | undefined;
  apiKey: string | undefined;
  dataDir: string | undefined;
  logLevel: string;
  flags: Flags;
  rateLimits: RateLimitPolicy;
  rolloutPercent: number;
  callTimeoutMs: number;
  /** Longest a database statement may run for a call (ms; 0 = no limit). */
  statementTimeoutMs: number;
  /** Longest JSON-RPC message accepted on stdin (bytes). */
  maxMessageBytes: number;
}

export class ConfigError extends Error {}

const SERVER_FLAG = /^MCP_([A-Z0-9_]+)_ENABLED$/;

/** The server a MCP_<SERVER>_ENABLED variable names (lower-case, dashes), or undefined. */
export function serverOfFlag(variable: string): ServerName | undefined {
  const m = SERVER_FLAG.exec(variable);
  return m ? m[1]!.toLowerCase().replace(/_/g, "-") : undefined;
}

export interface LoadConfigOptions {
  /** The catalog's server names: a MCP_<X>_ENABLED naming none of them is refused. */
  servers?: readonly ServerName[];
}

export function loadConfig(env: Record<string, string | undefined> = process.env, opts: LoadConfigOptions = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  const lines = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  // Per-server flags: read for whichever server a variable names (the catalog decides which exist).
  const servers: Record<ServerName, boolean> = {};
  const serverFlag = bool(true);
  for (const [k, v] of Object.entries(env)) {
    const server = serverOfFlag(k);
    if (!server || v === undefined) continue;
    if (opts.servers && !opts.servers.includes(server)) {
      lines.push(`${k}: no server is called "${server}" (servers: ${opts.servers.join(", ")})`);
      continue;
    }
    const r = serverFlag.safeParse(v);
    if (r.success) servers[server] = r.data;
    else lines.push(`${k}: ${r.error.issues[0]?.message ?? "invalid"}`);
  }
  if (!parsed.success || lines.length) throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    apiKey: e.MARKETSAGE_API_KEY,
    dataDir: e.MARKETSAGE_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    flags: {
      mcpEnabled: e.MCP_ENABLED,
      servers,
      readOnly: e.MCP_READ_ONLY,
      tools: e.MCP_TOOLS ? new Set(e.MCP_TOOLS.split(",").map((s) => s.trim()).filter(Boolean)) : undefined,
    },
    rateLimits: {
      callsPerMinute: e.MCP_RATE_LIMIT_PER_MINUTE,
      sendsPerMinute: e.MCP_SEND_LIMIT_PER_MINUTE,
      sendsPerDay: e.MCP_SEND_LIMIT_PER_DAY,
    },
    rolloutPercent: e.MCP_ROLLOUT_PERCENT,
    callTimeoutMs: e.MCP_CALL_TIMEOUT_MS,
    statementTimeoutMs: e.MCP_STATEMENT_TIMEOUT_MS,
    maxMessageBytes: e.MCP_MAX_MESSAGE_BYTES,
  };
}

/** Why a server may not run, or undefined when it may. */
export function serverDisabledReason(flags: Flags, server: ServerName): string | undefined {
  if (!flags.mcpEnabled) return "MCP_ENABLED is false";
  if (flags.servers[server] === false) return `${serverFlagName(server)} is false`;
  return undefined;
}

/**
 * MCP_TOOLS must name tools that exist: a name no enabled server has is a configuration error
 * (a typo would otherwise hide every tool silently). `toolsByServer` is every enabled server's tools.
 */
export function unknownAllowListedTools(flags: Flags, toolsByServer: ReadonlyMap<ServerName, readonly string[]>): string[] {
  if (!flags.tools) return [];
  const known = new Set([...toolsByServer.values()].flat());
  return [...flags.tools].filter((t) => !known.has(t));
}
