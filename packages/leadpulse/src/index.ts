// @marketsage/leadpulse: website visitors, journeys, funnels and intent (issue 11, being built:
// not in the catalog until its tools exist). So far the pure parts: the collector's event
// validation, bot detection and sessions, and the intent model.
export { CollectorEvent, EVENT_TYPES, MAX_EVENTS, MAX_BYTES } from "./collector/events.ts";
export { parseBatch } from "./collector/batch.ts";
export { touchpointOf, pageMetricsOf } from "./collector/touchpoint.ts";
export type { ValidEvent, EventType } from "./collector/events.ts";
export { isBot, deviceOf } from "./collector/bots.ts";
export { assignSessions, SESSION_GAP_MS } from "./collector/sessions.ts";
export { INTENT_MODEL_VERSION, MODEL_DESCRIPTION, scoreIntent, engagementScore, nextAction } from "./intent/model.ts";
export type { VisitorFeatures, ScoreResult, NextAction } from "./intent/model.ts";
export { FunnelStep, FunnelSteps, FUNNEL_SYNTAX, matchesStep, stepLabel } from "./funnel/steps.ts";
export type { FunnelStepInput } from "./funnel/steps.ts";
