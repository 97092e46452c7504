import type { ResourceDefinition, ServerModule } from "@marketsage/core";
import { funnelReview, hotLeadsFollowUp } from "./prompts.ts";
import { analyzeVisitorBehavior } from "./tools/analyze-visitor-behavior.ts";
import { getConversionFunnel } from "./tools/get-conversion-funnel.ts";
import { getPageAnalytics } from "./tools/get-page-analytics.ts";
import { getRealTimeVisitors } from "./tools/get-real-time-visitors.ts";
import { getTrafficSources } from "./tools/get-traffic-sources.ts";
import { getVisitor } from "./tools/get-visitor.ts";
import { identifyHighIntentVisitors } from "./tools/identify-high-intent-visitors.ts";
import { trackEvents } from "./tools/track-events.ts";

/** The tools by method name: the typed client derives its methods and types from this object. */
export const leadpulseTools = {
  getRealTimeVisitors,
  identifyHighIntentVisitors,
  getVisitor,
  analyzeVisitorBehavior,
  getConversionFunnel,
  getPageAnalytics,
  getTrafficSources,
  trackEvents,
} as const;

export const leadpulseResources: ResourceDefinition[] = [
  {
    name: "visitor",
    title: "Website visitor",
    description: "A website visitor as JSON (the same as get_visitor: profile, sessions, journey, scores, next action).",
    uriTemplate: "visitor://{id}",
    tool: "get_visitor",
    args: (p) => ({ id: p.id }),
  },
];

export const leadpulseServer: ServerModule = {
  name: "leadpulse",
  version: "0.1.0",
  instructions:
    "Website visitor intelligence for one MarketSage organization (the one your API key belongs to): visitors, sessions and " +
    "journeys from the website collector, funnels you define, page and traffic-source analytics, real-time visitors and " +
    "an explained intent score with the next action. Bots are excluded from every count. Times are UTC; money is in the " +
    "organization's reporting currency.",
  tools: Object.values(leadpulseTools),
  resources: leadpulseResources,
  prompts: [hotLeadsFollowUp, funnelReview],
};

/** What the catalog loads (@marketsage/catalog): the module, the client's methods, a health probe. */
export const leadpulsePackage = {
  module: leadpulseServer,
  tools: leadpulseTools,
  healthCheck: { tool: "get_real_time_visitors", args: { minutes: 5 } },
};
