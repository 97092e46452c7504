import type { ResourceDefinition, ServerModule } from "@marketsage/core";
import { postMortem } from "./prompts.ts";
import { analyzeCampaignTrends } from "./tools/analyze-campaign-trends.ts";
import { compareCampaigns } from "./tools/compare-campaigns.ts";
import { getAbTestResults } from "./tools/get-ab-test-results.ts";
import { getCampaignMetrics } from "./tools/get-campaign-metrics.ts";
import { getChannelOverview } from "./tools/get-channel-overview.ts";
import { getTopPerformingCampaigns } from "./tools/get-top-performing-campaigns.ts";
import { listCampaigns } from "./tools/list-campaigns.ts";

/** The tools by method name: the typed client derives its methods and types from this object. */
export const campaignAnalyticsTools = {
  listCampaigns,
  getCampaignMetrics,
  compareCampaigns,
  getTopPerformingCampaigns,
  getAbTestResults,
  analyzeCampaignTrends,
  getChannelOverview,
} as const;

export const campaignAnalyticsResources: ResourceDefinition[] = [
  {
    name: "campaign",
    title: "Campaign",
    description: "A campaign's metrics as JSON (the same as get_campaign_metrics, with variants).",
    uriTemplate: "campaign://{id}",
    tool: "get_campaign_metrics",
    args: (p) => ({ id: p.id }),
  },
];

export const campaignAnalyticsServer: ServerModule = {
  name: "campaign-analytics",
  version: "0.1.0",
  instructions:
    "Email, SMS and WhatsApp campaign performance for one MarketSage organization (the one your API key belongs to), computed " +
    "from messages, delivery events and conversions at call time. Start with list_campaigns; money is in the organization's reporting currency.",
  tools: Object.values(campaignAnalyticsTools),
  resources: campaignAnalyticsResources,
  prompts: [postMortem],
};

/** What the catalog loads (@marketsage/catalog): the module, the client's methods, a health probe. */
export const campaignAnalyticsPackage = {
  module: campaignAnalyticsServer,
  tools: campaignAnalyticsTools,
  healthCheck: { tool: "list_campaigns", args: { limit: 1 } },
};
