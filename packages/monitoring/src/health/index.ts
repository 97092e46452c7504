export { systemHealth, HEALTH_LIMITS, STALE_AFTER_MS, TOP_TOOLS } from "./system-health.ts";
export type { SystemHealth, ServerBeat, ToolHealth, ProviderHealth, HealthStatus } from "./system-health.ts";
