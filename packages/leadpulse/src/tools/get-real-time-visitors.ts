import { at, defineTool, lines, pct } from "@marketsage/core";
import { roundRate } from "@marketsage/domain";
import { z } from "zod";
import { realtimeCounts, type Dimension, type RealtimeRow } from "../queries/realtime.ts";

const Change = z.object({
  current: z.number().int(),
  previous: z.number().int(),
  change: z.number().int(),
  change_rate: z.number().nullable().describe("change / previous; null when previous is 0."),
});
const Item = Change.extend({ key: z.string() });
const Page = Change.extend({ path: z.string(), views: z.number().int(), previous_views: z.number().int() });

const change = (current: number, previous: number) => ({ current, previous, change: current - previous, change_rate: previous ? roundRate((current - previous) / previous) : null });
const changeText = (c: z.infer<typeof Change>) => `${c.current} (previous ${c.previous}, ${c.change >= 0 ? "+" : ""}${c.change}${c.change_rate !== null ? `, ${c.change_rate >= 0 ? "+" : ""}${pct(c.change_rate)}` : ""})`;

export const getRealTimeVisitors = defineTool({
  name: "get_real_time_visitors",
  title: "Real-time visitors",
  description:
    "Visitors with a touchpoint in the last `minutes` (no bots) and their pages, countries, devices and sources (UTM, " +
    "else referrer host, else direct), each beside the previous window.",
  scopes: ["leadpulse:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    minutes: z.number().int().min(1).max(60).default(5),
    top: z.number().int().min(1).max(20).default(5).describe("Items per list."),
  }),
  output: z.object({
    window: z.object({ minutes: z.number().int(), from: z.string(), to: z.string(), previous_from: z.string() }),
    active_visitors: Change,
    page_views: Change,
    top_pages: z.array(Page),
    countries: z.array(Item),
    devices: z.array(Item),
    sources: z.array(Item),
    truncated: z.object({ pages: z.number().int(), countries: z.number().int(), devices: z.number().int(), sources: z.number().int() }).describe("Items left out per list."),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const rows = await realtimeCounts(ctx.db, ctx.org, now, input.minutes);
    const of = (dim: Dimension) =>
      rows.filter((r) => r.dim === dim).sort((a, b) => b.current - a.current || b.previous - a.previous || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const top = (list: RealtimeRow[]) => list.slice(0, input.top);
    const one = (dim: Dimension) => rows.find((r) => r.dim === dim) ?? { current: 0, previous: 0 };
    const items = (dim: Dimension) => top(of(dim)).map((r) => ({ key: r.key, ...change(r.current, r.previous) }));
    const pages = of("page");
    const ms = input.minutes * 60_000;
    return {
      window: {
        minutes: input.minutes,
        from: new Date(now.getTime() - ms).toISOString(),
        to: now.toISOString(),
        previous_from: new Date(now.getTime() - 2 * ms).toISOString(),
      },
      active_visitors: change(one("total").current, one("total").previous),
      page_views: change(one("page_views").current, one("page_views").previous),
      top_pages: top(pages).map((r) => ({ path: r.key, ...change(r.current, r.previous), views: r.views, previous_views: r.previous_views })),
      countries: items("country"),
      devices: items("device"),
      sources: items("source"),
      truncated: {
        pages: Math.max(0, pages.length - input.top),
        countries: Math.max(0, of("country").length - input.top),
        devices: Math.max(0, of("device").length - input.top),
        sources: Math.max(0, of("source").length - input.top),
      },
    };
  },
  render: (o) => {
    const list = (label: string, xs: Array<z.infer<typeof Item>>, left: number) =>
      `${label}: ${xs.map((x) => `${x.key} ${changeText(x)}`).join("; ") || "none"}${left ? ` (+${left} more)` : ""}`;
    return lines(
      `Active in the last ${o.window.minutes} min (${at(o.window.from)} → ${at(o.window.to)}; previous window from ${at(o.window.previous_from)}), bots excluded:`,
      `Visitors: ${changeText(o.active_visitors)}; page views: ${changeText(o.page_views)}`,
      `Top pages (visitors): ${o.top_pages.map((p) => `${p.path} ${changeText(p)}, views ${p.views} (previous ${p.previous_views})`).join("; ") || "none"}${o.truncated.pages ? ` (+${o.truncated.pages} more)` : ""}`,
      list("Countries", o.countries, o.truncated.countries),
      list("Devices", o.devices, o.truncated.devices),
      list("Sources", o.sources, o.truncated.sources),
    );
  },
});
