// The HTTP host's own settings (everything else is core's configuration), parsed once with zod.
import { z } from "zod";

const Schema = z.object({
  MCP_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3333),
  MCP_HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  MCP_HTTP_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : [])),
  MCP_HTTP_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : [])),
  MCP_HTTP_TRUST_PROXY: z
    .enum(["true", "false", "1", "0", ""])
    .optional()
    .transform((v) => v === "true" || v === "1"),
  MCP_HTTP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
});

export interface HostConfig {
  port: number;
  host: string;
  allowedOrigins: string[];
  allowedHosts: string[];
  trustProxy: boolean;
  maxBodyBytes: number;
}

export function loadHostConfig(env: Record<string, string | undefined>): HostConfig {
  const r = Schema.safeParse(env);
  if (!r.success) throw new Error(`Invalid configuration:\n  ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n  ")}`);
  const e = r.data;
  return { port: e.MCP_HTTP_PORT, host: e.MCP_HTTP_HOST, allowedOrigins: e.MCP_HTTP_ALLOWED_ORIGINS, allowedHosts: e.MCP_HTTP_ALLOWED_HOSTS, trustProxy: e.MCP_HTTP_TRUST_PROXY, maxBodyBytes: e.MCP_HTTP_MAX_BODY_BYTES };
}
