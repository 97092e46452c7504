import type { PromptDefinition } from "@marketsage/core";
import { z } from "zod";

export const sendSafely: PromptDefinition = {
  name: "send_safely",
  title: "Send one message safely",
  description: "Check a message for one customer, send it once with an idempotency key, and follow its delivery report.",
  args: {
    customer_id: z.string().describe("The customer's id (search_customers finds it)."),
    channel: z.string().optional().describe("SMS, EMAIL or WHATSAPP (default SMS)."),
  },
  build: ({ customer_id, channel }) => {
    const ch = (channel ?? "SMS").toUpperCase();
    return (
      `Send one ${ch} message to customer ${customer_id} for a marketer in Africa.\n` +
      `1. Draft short copy with merge fields ({{first_name}}); ${ch === "SMS" ? "keep it to one GSM-7 segment (160 characters, no emoji)" : ch === "WHATSAPP" ? "outside the 24-hour window only an approved template can be sent" : "give a subject and a text part"}.\n` +
      `2. Call validate_message with channel ${ch} and contact_id ${customer_id}. If it has errors, report each with its fix and stop: never work around consent or quiet hours.\n` +
      "3. Call the send tool with a new idempotency_key (e.g. a UUID) and dry_run true; report the route and the estimated cost with its currency.\n" +
      "4. Send it with the same content and key. If the answer is outcome_unknown, do not send again: check get_delivery_status later.\n" +
      "5. Call get_delivery_status with the message id and report the status and its history."
    );
  },
};
