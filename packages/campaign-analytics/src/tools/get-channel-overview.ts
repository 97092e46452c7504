import { defineTool } from "@marketsage/core";
import { CHANNELS, money, ratio, resolveRange, ResolvedRange } from "@marketsage/domain";
import { z } from "zod";
import { COUNT_DEFINITIONS } from "../metrics/definitions.ts";
import { AttributionDays, RANGE, rangeInput } from "./inputs.ts";
import { channelOverview, type ChannelTally } from "../queries/overview.ts";
import { at, lines, money as fmt, pct } from "../render.ts";

const Money = z.object({ amount: z.number(), currency: z.string() });
const Rate = z.number().nullable();
const Int = z.number().int();

const Figures = {
  campaigns: Int,
  messages: Int,
  sent: Int,
  delivered: Int,
  delivery_rate: Rate.describe("delivered / sent"),
  contacts_reached: Int.describe("Distinct contacts with a delivery in the range (any message)"),
  engaged: Int,
  engagement_rate: Rate.describe("engaged / delivered"),
  cost: Money,
  cost_per_engagement: Money.nullable().describe("cost / engaged; null with no engagement"),
  conversions: Int,
  converted_contacts: Int,
  revenue: Money,
};

const BASIS =
  "the campaigns dated in the range (sent, else scheduled, else created) with their messages' events and attributed conversions " +
  "up to now (the figures of get_campaign_metrics, summed per channel); contacts reached: distinct contacts with a DELIVERED " +
  "event in the range, of any message (campaign or transactional)";

const ENGAGEMENT = "engaged = delivered messages opened (WhatsApp: read), clicked or replied, as the channel has them";

export const getChannelOverview = defineTool({
  name: "get_channel_overview",
  title: "Channel overview",
  description:
    "Email, SMS and WhatsApp side by side for the campaigns dated in the range: messages, delivery, reach, engagement " +
    "(opened, clicked or replied), cost per engagement, conversions, revenue (reporting currency), shares and totals.",
  scopes: ["campaigns:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    range: rangeInput(`${RANGE}; default 30d.`),
    attribution_days: AttributionDays,
  }),
  output: z.object({
    range: ResolvedRange,
    attribution_days: Int,
    basis: z.string(),
    engagement: z.string(),
    channels: z.array(
      z.object({
        channel: z.string(),
        ...Figures,
        share: z.object({ messages: Rate, cost: Rate, revenue: Rate }).describe("Of the totals (0–1); null when the total is 0"),
      }),
    ),
    totals: z.object(Figures),
    fx_incomplete: z.boolean().describe("Amounts without a stored FX rate were left out."),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const range = resolveRange(input.range, now, "30d");
    const o = await channelOverview(ctx.db, ctx.org, { from: range.from, to: range.to, now, attributionDays: input.attribution_days });
    const rc = ctx.org.reportingCurrency;
    const figures = (t: ChannelTally) => ({
      campaigns: t.campaigns,
      messages: t.messages,
      sent: t.sent,
      delivered: t.delivered,
      delivery_rate: ratio(t.delivered, t.sent),
      contacts_reached: t.reached,
      engaged: t.engaged,
      engagement_rate: ratio(t.engaged, t.delivered),
      cost: money(t.cost, rc),
      cost_per_engagement: t.engaged ? money(t.cost / t.engaged, rc) : null,
      conversions: t.conversions,
      converted_contacts: t.converted,
      revenue: money(t.revenue, rc),
    });
    return {
      range: range.json,
      attribution_days: input.attribution_days,
      basis: BASIS,
      engagement: ENGAGEMENT,
      channels: CHANNELS.map((c) => {
        const t = o.channels.get(c)!;
        return {
          channel: c,
          ...figures(t),
          share: { messages: ratio(t.messages, o.total.messages), cost: ratio(t.cost, o.total.cost), revenue: ratio(t.revenue, o.total.revenue) },
        };
      }),
      totals: figures(o.total),
      fx_incomplete: o.fxIncomplete,
    };
  },
  render: (o) => {
    type F = Omit<(typeof o)["totals"], never>;
    const line = (name: string, f: F, share?: (typeof o)["channels"][number]["share"]) =>
      `- ${name}: ${f.campaigns} campaigns, ${f.messages} messages${share ? ` (share ${pct(share.messages)})` : ""}, sent ${f.sent}, delivered ${f.delivered} ` +
      `(delivery ${pct(f.delivery_rate)}), ${f.contacts_reached} contacts reached, engaged ${f.engaged} (${pct(f.engagement_rate)} of delivered), ` +
      `cost ${fmt(f.cost)}${share ? ` (share ${pct(share.cost)})` : ""}, cost per engagement ${f.cost_per_engagement ? fmt(f.cost_per_engagement) : "n/a"}, ` +
      `${f.conversions} conversions by ${f.converted_contacts} contacts, revenue ${fmt(f.revenue)}${share ? ` (share ${pct(share.revenue)})` : ""}`;
    const r = o.range;
    return lines(
      `Channels ${at(r.from)} → ${at(r.to)}${r.preset ? ` (${r.preset})` : ""}, previous period from ${at(r.previous_from)}; attribution ${o.attribution_days} days.`,
      `Basis: ${o.basis}.`,
      `Definitions: ${o.engagement}; delivery rate = delivered / sent (${COUNT_DEFINITIONS.sent}); engagement rate = engaged / delivered.`,
      o.channels.map((c) => line(c.channel, c, c.share)),
      line("Total", o.totals),
      o.fx_incomplete ? "Some amounts had no FX rate and are left out of the totals." : "",
    );
  },
});
