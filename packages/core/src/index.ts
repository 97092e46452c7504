export { loadConfig, serverDisabledReason, serverFlagName, serverOfFlag, unknownAllowListedTools, ConfigError } from "./config.ts";
export type { Config, Flags, LoadConfigOptions, RateLimitPolicy, ServerName } from "./config.ts";
export { SCOPES, ROLE_SCOPES, scopesFor, hasScopes } from "./scopes.ts";
export type { Scope } from "./scopes.ts";
export {
  ToolError,
  UserError,
  NotFoundError,
  ForbiddenError,
  AuthError,
  RateLimitedError,
  ReadOnlyError,
  ConflictError,
  UnavailableError,
  TimeoutError,
  OutcomeUnknownError,
  UpstreamRejectedError,
} from "./errors.ts";
export type { ErrorCode } from "./errors.ts";
export { createLogger, REDACT_PATHS } from "./logger.ts";
export type { Logger } from "./logger.ts";
export { authenticate } from "./auth.ts";
export type { Principal, OrgInfo } from "./auth.ts";
export { hashArgs, redactArgs, auditPayload, chainHash, chainKeyFor, legacyChainKeyFor, GENESIS_HASH } from "./audit.ts";
export type { AuditEntry, WitnessedHead } from "./audit.ts";
export { auditWriterFor, createAuditWriter } from "./audit-writer.ts";
export type { AuditWriter, AuditWriterOptions, AppendedRow } from "./audit-writer.ts";
export { verifyAuditChain, verifyAuditLog } from "./audit-verify.ts";
export type { AuditVerification, ChainVerification, AuditLogVerification } from "./audit-verify.ts";
export { createRateLimiter, createKeyedLimiter, ROLE_CALLS_PER_MINUTE } from "./rate-limit.ts";
export type { RateLimiter, KeyedLimiter } from "./rate-limit.ts";
export { defineTool, isWriteTool } from "./tool.ts";
export type { ToolDefinition, AnyTool, ToolContext, ToolAnnotations, DbHandle, RateLimitClass, Elicit, ElicitSchema, ImageAttachment } from "./tool.ts";
export { createRuntime, configToRuntimeOptions } from "./runtime.ts";
export type { Runtime, RuntimeOptions } from "./runtime.ts";
export { createInvoker, toolsAfterFlags } from "./pipeline.ts";
export type { Invoker, CallOptions, CallOutcome, CallPath, InvokerOptions } from "./pipeline.ts";
export { createMcpServer, describeTool } from "./server.ts";
export type { ServerSpec, ResourceDefinition, PromptDefinition } from "./server.ts";
export { bootstrap, EXIT, StartupError } from "./bootstrap.ts";
export type { ServerModule, CatalogView, Booted, BootstrapOptions } from "./bootstrap.ts";
export { runStdioServer } from "./stdio.ts";
export type { StdioBackground } from "./stdio.ts";
export { encodeCursor, decodeCursor, pageOf, CursorInput, LimitInput } from "./pagination.ts";
export { renderText, fitToBudget, TEXT_BUDGET_CHARS } from "./budget.ts";
export { maskEmail, maskPhone, piiPolicy } from "./mask.ts";
export type { PiiPolicy } from "./mask.ts";
export { canonicalJson } from "./canonical-json.ts";
export { startHeartbeat } from "./heartbeat.ts";
export type { ArgBuilder, BuilderContext, StoryStep, StoryContext, HarnessSpec, AfterSeed, BenchSample, BenchContext, BenchSpec, HttpRequest, HttpResponse, HttpRoute, RouteContext } from "./extensions.ts";
export { classifyDatabaseError, databaseToolError, DATABASE_UNAVAILABLE_MESSAGE } from "./db-errors.ts";
export type { DatabaseFailure, DatabaseFailureKind, DatabaseLimits } from "./db-errors.ts";
export { UpstreamError, upstreamHttpError, upstreamNetworkError, outcomeOfStatus, parseRetryAfter } from "./upstream-errors.ts";
export type { UpstreamOutcome, UpstreamErrorOptions, UpstreamRequestKind, HttpErrorOptions } from "./upstream-errors.ts";
export { RobustStdioServerTransport, DEFAULT_MAX_MESSAGE_BYTES } from "./transports/stdio-transport.ts";
export type { StdioTransportOptions } from "./transports/stdio-transport.ts";
export { classifyLine, clarifyErrorResponse, scanTopLevelId, LineFramer, TopLevelIdScanner, JSONRPC } from "./transports/json-rpc-lines.ts";
export type { LineVerdict, OversizedLine } from "./transports/json-rpc-lines.ts";
export { DEFAULT_STATEMENT_TIMEOUT_MS, CONNECT_TIMEOUT_MS } from "./runtime.ts";
export { firstRow, expectThat } from "./harness-kit.ts";
export { at, pct, pageNote, lines } from "./render-kit.ts";
