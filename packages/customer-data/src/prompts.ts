import type { PromptDefinition } from "@marketsage/core";
import { z } from "zod";

export const customer360: PromptDefinition = {
  name: "customer_360_summary",
  title: "Customer 360 summary",
  description: "Summarise one customer for a marketer: who they are, consent, segments, risk, value and what to do next.",
  args: { customer: z.string().describe("The customer's email, phone or id.") },
  build: ({ customer }) =>
    `Summarise the customer "${customer}" for a marketer in Africa.\n` +
    "1. Call get_customer_profile with that email, phone or id (pick the field that matches its form).\n" +
    "2. Report in under 150 words: who they are (country, city, since when), which channels can legally reach them now, " +
    "their segments, churn risk and 12-month value from the prediction with the two inputs that drove it most, and the " +
    "last three meaningful activities.\n" +
    "3. End with the next best action and the channel to use, and say if consent must be asked first. Do not invent figures.",
};

export const winBack: PromptDefinition = {
  name: "win_back_at_risk",
  title: "Win back customers at risk",
  description: "Find customers at high churn risk who are still reachable, and propose a win-back plan per channel.",
  args: {
    segment_id: z.string().optional().describe("Limit to this segment (id from list_segments)."),
    min_value: z.string().optional().describe("Only customers whose 12-month value is at least this, in the organization's currency."),
  },
  build: ({ segment_id, min_value }) =>
    "Plan a win-back campaign.\n" +
    `1. Call get_customer_predictions${segment_id ? ` with segment_id ${segment_id}` : ""} to see the risk buckets and value quantiles.\n` +
    '2. Call preview_segment with rules {"all":[{"behavior":"message_event","event":"DELIVERED","within_days":180},' +
    '{"not":{"behavior":"message_event","event":"OPENED","within_days":60}}]} and report how many are reachable per channel.\n' +
    `3. Propose one message per channel (WhatsApp first where reachable) for the high-risk group${min_value ? ` worth at least ${min_value}` : ""}, ` +
    "with the expected audience size from the tool results. Only use figures the tools returned.",
};
