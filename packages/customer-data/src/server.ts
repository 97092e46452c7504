import type { ResourceDefinition, ServerModule } from "@marketsage/core";
import { customer360, winBack } from "./prompts.ts";
import { getCustomerPredictions } from "./tools/get-customer-predictions.ts";
import { getCustomerProfile } from "./tools/get-customer-profile.ts";
import { getSegment } from "./tools/get-segment.ts";
import { listSegments } from "./tools/list-segments.ts";
import { previewSegment } from "./tools/preview-segment.ts";
import { refreshPredictionsTool } from "./tools/refresh-predictions.ts";
import { searchCustomers } from "./tools/search-customers.ts";
import { updateCustomerConsent } from "./tools/update-customer-consent.ts";

/** The tools by method name: the typed client derives its methods and types from this object. */
export const customerDataTools = {
  searchCustomers,
  getCustomerProfile,
  listSegments,
  getSegment,
  previewSegment,
  getCustomerPredictions,
  refreshPredictions: refreshPredictionsTool,
  updateCustomerConsent,
} as const;

export const customerDataResources: ResourceDefinition[] = [
  {
    name: "customer",
    title: "Customer",
    description: "A customer's profile as JSON (the same as get_customer_profile).",
    uriTemplate: "customer://{id}",
    tool: "get_customer_profile",
    args: (p) => ({ id: p.id }),
  },
  {
    name: "segment",
    title: "Segment",
    description: "A saved segment as JSON (the same as get_segment).",
    uriTemplate: "segment://{id}",
    tool: "get_segment",
    args: (p) => ({ id: p.id }),
  },
];

export const customerDataServer: ServerModule = {
  name: "customer-data",
  version: "0.1.0",
  instructions:
    "Customer profiles, segments, predictions and consent for one MarketSage organization (the one your API key belongs to). " +
    "Start with search_customers or list_segments; money is in the organization's reporting currency.",
  tools: Object.values(customerDataTools),
  resources: customerDataResources,
  prompts: [customer360, winBack],
};

/** What the catalog loads (@marketsage/catalog): the module, the client's methods, a health probe. */
export const customerDataPackage = {
  module: customerDataServer,
  tools: customerDataTools,
  healthCheck: { tool: "search_customers", args: { limit: 1 } },
};
