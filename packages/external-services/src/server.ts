import type { ResourceDefinition, ServerModule } from "@marketsage/core";
import { sendSafely } from "./prompts.ts";
import { cancelBulkSendTool, getBulkSendStatus, sendBulk } from "./tools/bulk.ts";
import { getDeliveryStatus } from "./tools/get-delivery-status.ts";
import { getProviderBalance, listProviders } from "./tools/providers.ts";
import { sendEmail, sendSms, sendWhatsApp } from "./tools/send.ts";
import { listTemplatesTool, saveTemplateTool } from "./tools/templates.ts";
import { validateMessageTool } from "./tools/validate-message.ts";

/** The tools by method name: the typed client derives its methods and types from this object. */
export const externalServicesTools = {
  validateMessage: validateMessageTool,
  sendEmail,
  sendSms,
  sendWhatsApp,
  sendBulk,
  getBulkSendStatus,
  cancelBulkSend: cancelBulkSendTool,
  getDeliveryStatus,
  saveTemplate: saveTemplateTool,
  listTemplates: listTemplatesTool,
  getProviderBalance,
  listProviders,
} as const;

export const externalServicesResources: ResourceDefinition[] = [
  {
    name: "message",
    title: "Message and its delivery history",
    description: "A message as JSON (the same as get_delivery_status: status, provider, cost, the history of reports).",
    uriTemplate: "message://{id}",
    tool: "get_delivery_status",
    args: (p) => ({ message_id: p.id }),
  },
];

export const externalServicesServer: ServerModule = {
  name: "external-services",
  version: "0.1.0",
  instructions:
    "Send email, SMS and WhatsApp for one MarketSage organization (the one your API key belongs to), through Africa's Talking, " +
    "Twilio, SMTP and the WhatsApp Cloud API — or their local emulators in sandbox mode. Check with validate_message first; " +
    "every send needs an idempotency_key (reuse it to retry safely; never resend an outcome_unknown with a new key). " +
    "Opted-out recipients and quiet hours (21:00–08:00 at the recipient) are refused with the reason. Money carries its currency.",
  tools: Object.values(externalServicesTools),
  resources: externalServicesResources,
  prompts: [sendSafely],
};

/** What the catalog loads (@marketsage/catalog): the module, the client's methods, a health probe. */
export const externalServicesPackage = {
  module: externalServicesServer,
  tools: externalServicesTools,
  healthCheck: { tool: "list_templates", args: { limit: 1 } },
};
