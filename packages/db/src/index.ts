export { openDb, poolOf, SESSION_OPTIONS } from "./client.ts";
export type { Db, OpenOptions } from "./client.ts";
export { resolveDatabaseUrl, assertMigrated, DatabaseNotReadyError } from "./connection.ts";
export type { ResolvedDatabase } from "./connection.ts";
export { ensureEmbeddedPostgres, stopEmbeddedPostgres, embeddedUrl, defaultDataDir, EMBEDDED_DATABASE } from "./embedded.ts";
export type { EmbeddedServer } from "./embedded.ts";
export { EmbeddedDatabaseError } from "./embedded-errors.ts";
export { applyMigrations, pendingMigrations, listMigrations } from "./migrate.ts";
export { findRepoRoot } from "./paths.ts";
export { Prisma, PrismaClient } from "./generated/prisma/client.ts";
// Values as well as types: @marketsage/domain builds its zod enums from them (one list, Prisma's).
export {
  Role,
  Channel,
  ContactStatus,
  ConsentAction,
  CampaignStatus,
  MessageEventType,
  MessageStatus,
  TouchpointType,
  AuditOutcome,
  DeviceType,
  MessageDirection,
  AlertSeverity,
} from "./generated/prisma/enums.ts";
export { hashApiKey, apiKeyPrefix } from "./api-key.ts";
export { DEMO_ORGS, DEMO_ROLES, DEMO_SITE_ORIGINS, demoApiKey, demoSiteKey } from "./seed/demo-accounts.ts";
export type { DemoOrg } from "./seed/demo-accounts.ts";
