import type { PromptDefinition } from "@marketsage/core";
import { z } from "zod";

export const hotLeadsFollowUp: PromptDefinition = {
  name: "hot_leads_follow_up",
  title: "Follow up the website's hottest leads",
  description: "Find the identified website visitors most ready to buy, explain why, and plan a follow-up for each on a channel they can be reached on.",
  args: { days: z.string().optional().describe("Visitors active in this many days (default 7).") },
  build: ({ days }) =>
    `Plan follow-ups for the website visitors most ready to buy in the last ${days ?? "7"} days, for a marketer in Africa.\n` +
    `1. Call identify_high_intent_visitors with active_days ${days ?? "7"}, identified_only true, limit 10.\n` +
    "2. For the top 3, call get_visitor: say which pages and actions drove each score (the signals and their points) and how recent the last visit was.\n" +
    "3. For each, give the recommended next action and channel exactly as returned, and one sentence of message copy fit for that channel (SMS: under 160 characters).\n" +
    "4. Use only figures the tools returned. Never suggest a channel the answer does not recommend: it is the one the customer may legally be messaged on.",
};

export const funnelReview: PromptDefinition = {
  name: "funnel_review",
  title: "Review the signup funnel",
  description: "Review the pricing → signup → conversion funnel over the last 30 days, by device, and where visitors drop off.",
  args: {},
  build: () =>
    "Review the website's funnel for a marketer.\n" +
    "1. Call get_conversion_funnel with steps [{type PAGEVIEW, url /pricing}, {type FORM_SUBMIT, url /signup}, {type CONVERSION}], range 30d, breakdown device.\n" +
    "2. Report each step's entered, conversion and drop-off, the median time to the next step, and the device that converts worst.\n" +
    "3. Call get_page_analytics for /pricing over 30d: bounce and exit rates, time on page, scroll depth.\n" +
    "4. Call get_traffic_sources for 30d and name the sources with the best and worst conversion rate (with their session counts).\n" +
    "5. End with three concrete changes to try. Use only figures the tools returned.",
};
