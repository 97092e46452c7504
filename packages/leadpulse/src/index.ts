// @marketsage/leadpulse: website visitors, journeys, funnels, pages, traffic sources and intent,
// and the website collector (POST /collect, /collect.js) that feeds them.
export { leadpulseServer, leadpulseTools, leadpulsePackage } from "./server.ts";
export { CollectorEvent, EVENT_TYPES, MAX_EVENTS, MAX_BYTES } from "./collector/events.ts";
export { parseBatch } from "./collector/batch.ts";
export { touchpointOf, pageMetricsOf } from "./collector/touchpoint.ts";
export type { ValidEvent, EventType } from "./collector/events.ts";
export { isBot, deviceOf, agentOf } from "./collector/bots.ts";
export { assignSessions, SESSION_GAP_MS } from "./collector/sessions.ts";
export { ingestEvents } from "./ingest/ingest.ts";
export type { IngestResult, SqlRunner } from "./ingest/ingest.ts";
export { snippetSource, snippetTag } from "./collector/snippet.ts";
export { INTENT_MODEL_VERSION, MODEL_DESCRIPTION, scoreIntent, engagementScore, nextAction } from "./intent/model.ts";
export type { VisitorFeatures, ScoreResult, NextAction } from "./intent/model.ts";
export { FunnelStep, FunnelSteps, FUNNEL_SYNTAX, matchesStep, stepLabel } from "./funnel/steps.ts";
export type { FunnelStepInput } from "./funnel/steps.ts";
