export { campaignAnalyticsServer, campaignAnalyticsTools, campaignAnalyticsResources, campaignAnalyticsPackage } from "./server.ts";
export { COUNT_DEFINITIONS, RATES, MONEY_DEFINITIONS, DEFAULT_ATTRIBUTION_DAYS } from "./metrics/definitions.ts";
