import { defineTool } from "@marketsage/core";
import { z } from "zod";
import { DEFINITIONS_BRIEF } from "../metrics/definitions.ts";
import { Figures, figuresOf } from "../metrics/figures.ts";
import { campaignTallies, emptyTally, tallyKey } from "../queries/campaign-counts.ts";
import { CampaignInfo, campaignInfo, loadCampaigns, loadVariants } from "../queries/campaigns.ts";
import { AttributionDays } from "./inputs.ts";
import { at, figureLines, lines } from "../render.ts";

export const getCampaignMetrics = defineTool({
  name: "get_campaign_metrics",
  title: "Campaign metrics",
  description:
    "One campaign's counts, rates, revenue, cost and ROI (reporting currency), computed now, optionally per A/B variant. " +
    DEFINITIONS_BRIEF,
  scopes: ["campaigns:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().describe("From list_campaigns."),
    include_variants: z.boolean().default(true),
    attribution_days: AttributionDays,
  }),
  output: z.object({
    campaign: CampaignInfo,
    attribution_days: z.number().int(),
    figures: Figures,
    variants: z.array(z.object({ id: z.string(), name: z.string(), is_control: z.boolean(), weight: z.number(), figures: Figures })),
  }),
  handler: async (input, ctx) => {
    const [c] = await loadCampaigns(ctx.db, ctx.org, [input.id]);
    const campaign = c!;
    const variants = input.include_variants ? (await loadVariants(ctx.db, ctx.org, [campaign.id])).get(campaign.id)! : [];
    const tallies = await campaignTallies(ctx.db, ctx.org, [campaign.id], { variants: variants.length > 0, attributionDays: input.attribution_days });
    const rc = ctx.org.reportingCurrency;
    return {
      campaign: campaignInfo(campaign),
      attribution_days: input.attribution_days,
      figures: figuresOf(tallies.get(tallyKey(campaign.id)) ?? emptyTally(), campaign.channel, rc),
      variants: variants.map((v) => ({
        id: v.id,
        name: v.name,
        is_control: v.is_control,
        weight: v.weight,
        figures: figuresOf(tallies.get(tallyKey(campaign.id, v.id)) ?? emptyTally(), campaign.channel, rc),
      })),
    };
  },
  render: (o) => {
    const c = o.campaign;
    return lines(
      `${c.name} (id ${c.id}): ${c.channel}, ${c.status}${c.sent_at ? `, sent ${at(c.sent_at)}` : c.scheduled_at ? `, scheduled ${at(c.scheduled_at)}` : ""}, created ${at(c.created_at)}` +
        `${c.subject ? `; subject "${c.subject}"` : ""}${c.segment_id ? `; segment ${c.segment_id}` : ""}`,
      `Attribution window: ${o.attribution_days} days after each message.`,
      figureLines(o.figures),
      o.variants.flatMap((v) => [`Variant ${v.name} (id ${v.id}${v.is_control ? ", control" : ""}, weight ${v.weight}):`, ...figureLines(v.figures, "  ")]),
    );
  },
});
