import { Prisma } from "@marketsage/db";
import { decodeCursor, defineTool, pageOf } from "@marketsage/core";
import { CampaignStatusEnum, ChannelEnum, likeEscape, money, resolveRange, ResolvedRange, roundRate } from "@marketsage/domain";
import { z } from "zod";
import { DEFAULT_ATTRIBUTION_DAYS } from "../metrics/definitions.ts";
import { rateOf } from "../metrics/figures.ts";
import { campaignTallies, emptyTally, tallyKey } from "../queries/campaign-counts.ts";
import { CAMPAIGN_COLUMNS, type CampaignRow } from "../queries/campaigns.ts";
import { Cursor, limitInput, RANGE, rangeInput } from "./inputs.ts";
import { at, lines, money as fmt, pageNote, pct } from "../render.ts";

const Position = z.object({ t: z.string(), id: z.uuid() });

export const listCampaigns = defineTool({
  name: "list_campaigns",
  title: "List campaigns",
  description:
    "Campaigns newest first (send, else schedule, else creation time): sent, delivered, delivery/open/" +
    `click/conversion rates (open n/a for SMS), revenue (reporting currency, ${DEFAULT_ATTRIBUTION_DAYS}-day attribution). Full figures: get_campaign_metrics.`,
  scopes: ["campaigns:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    channel: ChannelEnum.optional(),
    status: z.array(CampaignStatusEnum).min(1).optional(),
    range: rangeInput(`Campaign dates. ${RANGE}; default all time.`),
    name: z.string().min(1).max(100).optional().describe("Part of the name, any case."),
    limit: limitInput(20, 50),
    cursor: Cursor,
  }),
  output: z.object({
    range: ResolvedRange.nullable(),
    campaigns: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        channel: z.string(),
        status: z.string(),
        date: z.string(),
        has_variants: z.boolean(),
        sent: z.number().int(),
        delivered: z.number().int(),
        delivery_rate: z.number().nullable(),
        open_rate: z.number().nullable(),
        click_rate: z.number().nullable(),
        conversion_rate: z.number().nullable(),
        revenue: z.object({ amount: z.number(), currency: z.string() }),
      }),
    ),
    next_cursor: z.string().nullable(),
  }),
  handler: async (input, ctx) => {
    const range = input.range ? resolveRange(input.range, ctx.now()) : null;
    const after = decodeCursor(input.cursor, Position);
    const date = Prisma.sql`coalesce(c.sent_at, c.scheduled_at, c.created_at)`;
    const where = [Prisma.sql`c.organization_id = ${ctx.org.id}::uuid`];
    if (input.channel) where.push(Prisma.sql`c.channel = ${input.channel}::"Channel"`);
    if (input.status) where.push(Prisma.sql`c.status::text = any(${input.status})`);
    if (range) where.push(Prisma.sql`${date} >= ${range.from} and ${date} < ${range.to}`);
    if (input.name) where.push(Prisma.sql`c.name ilike ${`%${likeEscape(input.name)}%`}`);
    if (after) where.push(Prisma.sql`(${date}, c.id) < (${new Date(after.t)}, ${after.id}::uuid)`);
    const rows = await ctx.db.$queryRaw<Array<CampaignRow & { has_variants: boolean }>>`
      select ${CAMPAIGN_COLUMNS}, exists (select 1 from campaign_variants v where v.campaign_id = c.id) as has_variants
        from campaigns c where ${Prisma.join(where, " and ")}
       order by ${date} desc, c.id desc limit ${input.limit + 1}`;
    const page = pageOf(rows, input.limit, (r) => ({ t: r.date.toISOString(), id: r.id }));
    const tallies = await campaignTallies(ctx.db, ctx.org, page.items.map((r) => r.id), { variants: false, attributionDays: DEFAULT_ATTRIBUTION_DAYS });
    return {
      range: range?.json ?? null,
      campaigns: page.items.map((c) => {
        const t = tallies.get(tallyKey(c.id)) ?? emptyTally();
        return {
          id: c.id,
          name: c.name,
          channel: c.channel,
          status: c.status,
          date: c.date.toISOString(),
          has_variants: c.has_variants,
          sent: t.counts.sent,
          delivered: t.counts.delivered,
          delivery_rate: roundRate(rateOf(t, "delivery_rate", c.channel)),
          open_rate: roundRate(rateOf(t, "open_rate", c.channel)),
          click_rate: roundRate(rateOf(t, "click_rate", c.channel)),
          conversion_rate: roundRate(rateOf(t, "conversion_rate", c.channel)),
          revenue: money(t.revenue.total, ctx.org.reportingCurrency),
        };
      }),
      next_cursor: page.next_cursor,
    };
  },
  render: (o) =>
    lines(
      o.range
        ? `Campaigns dated ${at(o.range.from)} → ${at(o.range.to)}${o.range.preset ? ` (${o.range.preset})` : ""} (previous period from ${at(o.range.previous_from)}), newest first:`
        : o.campaigns.length ? "Campaigns, newest first:" : "",
      o.campaigns.length ? "" : "No campaigns match.",
      o.campaigns.map(
        (c) =>
          `- ${c.name} (id ${c.id}) ${c.channel} ${c.status} ${at(c.date)}${c.has_variants ? " A/B" : ""}: sent ${c.sent}, delivered ${c.delivered} ` +
          `(${pct(c.delivery_rate)}), open ${pct(c.open_rate)}, click ${pct(c.click_rate)}, conversion ${pct(c.conversion_rate)}, revenue ${fmt(c.revenue)}`,
      ),
      pageNote(o.next_cursor),
    ),
});
