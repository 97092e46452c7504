import { at, decodeCursor, defineTool, encodeCursor, lines, pageNote, pct } from "@marketsage/core";
import { formatMoney, money, Money, ratio, resolveRange, PeriodOut, periodOut } from "@marketsage/domain";
import { Cursor, rangeInput } from "./inputs.ts";
import { z } from "zod";
import { sourceTally, type SourceTally } from "../queries/sources.ts";

const Int = z.number().int();
const Figures = {
  sessions: Int,
  visitors: Int,
  conversions: Int,
  converted_sessions: Int,
  conversion_rate: z.number().nullable().describe("converted_sessions / sessions"),
  revenue: Money,
};
const Position = z.object({ o: z.number().int().min(0) });

const ATTRIBUTION =
  "a website conversion belongs to its visitor's latest session started at or before it; counted when that session started in the range and the conversion happened before the range's end";

export const getTrafficSources = defineTool({
  name: "get_traffic_sources",
  title: "Traffic sources",
  description:
    "Sessions started in the range by source (UTM, else referrer host, else direct), source/medium or campaign: " +
    "sessions, visitors, conversions, conversion rate, revenue (reporting currency), with totals. No bots.",
  scopes: ["leadpulse:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    range: rangeInput(),
    group_by: z.enum(["source", "source_medium", "campaign"]).default("source"),
    limit: z.number().int().min(1).max(50).default(10),
    cursor: Cursor,
  }),
  output: z.object({
    range: PeriodOut,
    group_by: z.string(),
    attribution: z.string(),
    rows: z.array(
      z.object({
        source: z.string().nullable(),
        medium: z.string().nullable(),
        campaign: z.string().nullable().describe("null: no UTM campaign (the row is its source)"),
        ...Figures,
      }),
    ),
    totals: z.object(Figures),
    groups_total: Int,
    fx_incomplete: z.boolean().describe("Revenue leaves out conversions without an FX rate."),
    next_cursor: z.string().nullable(),
  }),
  handler: async (input, ctx) => {
    const range = resolveRange(input.range, ctx.now(), "30d");
    const offset = decodeCursor(input.cursor, Position)?.o ?? 0;
    const r = await sourceTally(ctx.db, ctx.org, { from: range.from, to: range.to, groupBy: input.group_by, offset, limit: input.limit });
    const rc = ctx.org.reportingCurrency;
    const figures = (t: SourceTally) => ({
      sessions: t.sessions,
      visitors: t.visitors,
      conversions: t.conversions,
      converted_sessions: t.convertedSessions,
      conversion_rate: ratio(t.convertedSessions, t.sessions),
      revenue: money(t.revenue, rc),
    });
    const more = r.rows.length > input.limit;
    return {
      range: periodOut(range),
      group_by: input.group_by,
      attribution: ATTRIBUTION,
      rows: r.rows.slice(0, input.limit).map((t) => ({ source: t.source, medium: t.medium, campaign: t.campaign, ...figures(t) })),
      totals: figures(r.total),
      groups_total: r.groups,
      fx_incomplete: r.total.noFx > 0,
      next_cursor: more ? encodeCursor({ o: offset + input.limit }) : null,
    };
  },
  render: (o) => {
    type F = Omit<(typeof o)["totals"], never>;
    const figures = (f: F) =>
      `${f.sessions} sessions, ${f.visitors} visitors, ${f.conversions} conversions in ${f.converted_sessions} sessions (${pct(f.conversion_rate)}), revenue ${formatMoney(f.revenue)}`;
    const label = (x: (typeof o)["rows"][number]) =>
      x.campaign !== null ? `campaign ${x.campaign}` : [x.source, x.medium].filter((v) => v !== null).join(" / ") + (o.group_by === "campaign" ? " (no campaign)" : "");
    const r = o.range;
    return lines(
      `Traffic by ${o.group_by}, sessions started ${at(r.from)} → ${at(r.to)}${r.preset ? ` (${r.preset})` : ""} (${o.groups_total} groups); attribution: ${o.attribution}.`,
      o.rows.length ? "" : "No sessions in the range.",
      o.rows.map((x) => `- ${label(x)}: ${figures(x)}`),
      `Total: ${figures(o.totals)}.`,
      o.fx_incomplete ? "Some conversions had no FX rate and are left out of revenue." : "",
      pageNote(o.next_cursor),
    );
  },
});
