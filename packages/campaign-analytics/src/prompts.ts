import type { PromptDefinition } from "@marketsage/core";
import { z } from "zod";

export const postMortem: PromptDefinition = {
  name: "campaign_post_mortem",
  title: "Campaign post-mortem",
  description: "Review one finished campaign: what it achieved, how it compares, what its A/B test showed, and what to change next time.",
  args: { campaign_id: z.string().describe("The campaign's id (from list_campaigns).") },
  build: ({ campaign_id }) =>
    `Write a post-mortem of campaign ${campaign_id} for a marketer in Africa.\n` +
    `1. Call get_campaign_metrics with id ${campaign_id}: report sent, delivery, the engagement rates that apply to its channel, conversions, revenue, cost and ROI (with the currency).\n` +
    "2. If it has variants, call get_ab_test_results and say whether there is a winner, with the p-value and the probability to be best; if not significant, say how many more messages per variant are needed.\n" +
    "3. Call get_top_performing_campaigns for its channel over the 90 days around it and say where it ranks on its main rate.\n" +
    "4. End with three concrete changes for the next send. Use only figures the tools returned; say 'not applicable' for metrics the channel does not have.",
};
