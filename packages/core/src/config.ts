// Configuration: the environment parsed once, with zod, at the entry point, then passed down.
import { z } from "zod";

export const SERVER_NAMES = ["customer-data", "campaign-analytics", "leadpulse", "external-services", "monitoring"] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

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
  MCP_CUSTOMER_DATA_ENABLED: bool(true),
  MCP_CAMPAIGN_ANALYTICS_ENABLED: bool(true),
  MCP_LEADPULSE_ENABLED: bool(true),
  MCP_EXTERNAL_SERVICES_ENABLED: bool(true),
  MCP_MONITORING_ENABLED: bool(true),
  MCP_READ_ONLY: bool(false),
  MCP_TOOLS: optionalString,
  MCP_RATE_LIMIT_PER_MINUTE: int(0, 0, 1_000_000),
  MCP_SEND_LIMIT_PER_MINUTE: int(60, 1, 1_000_000),
  MCP_SEND_LIMIT_PER_DAY: int(5000, 1, 100_000_000),
  MCP_ROLLOUT_PERCENT: int(100, 0, 100),
  MCP_CALL_TIMEOUT_MS: int(30_000, 100, 600_000),
});

export interface Flags {
  mcpEnabled: boolean;
  servers: Record<ServerName, boolean>;
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
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    apiKey: e.MARKETSAGE_API_KEY,
    dataDir: e.MARKETSAGE_DATA_DIR,
    logLevel: e.LOG_LEVEL,
    flags: {
      mcpEnabled: e.MCP_ENABLED,
      servers: {
        "customer-data": e.MCP_CUSTOMER_DATA_ENABLED,
        "campaign-analytics": e.MCP_CAMPAIGN_ANALYTICS_ENABLED,
        leadpulse: e.MCP_LEADPULSE_ENABLED,
        "external-services": e.MCP_EXTERNAL_SERVICES_ENABLED,
        monitoring: e.MCP_MONITORING_ENABLED,
      },
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
  };
}

/** Why a server may not run, or undefined when it may. */
export function serverDisabledReason(flags: Flags, server: ServerName): string | undefined {
  if (!flags.mcpEnabled) return "MCP_ENABLED is false";
  if (!flags.servers[server]) return `${serverFlagName(server)} is false`;
  return undefined;
}
