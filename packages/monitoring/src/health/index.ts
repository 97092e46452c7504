export { systemHealth, HEALTH_LIMITS, STALE_AFTER_MS, HEARTBEAT_INTERVAL_MS, CIRCUIT_OPEN_MS, BULK_WORKER_SERVER, TOP_TOOLS } from "./system-health.ts";
export type { SystemHealth, ServerBeat, ToolHealth, ProviderHealth, HealthStatus } from "./system-health.ts";
