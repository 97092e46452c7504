import { at, defineTool, lines, pct } from "@marketsage/core";
import { ratio, resolveRange, PeriodOut, periodOut, roundTo } from "@marketsage/domain";
import { rangeInput } from "./inputs.ts";
import { z } from "zod";
import { FunnelStep } from "../funnel/steps.ts";
import { pageTally, SCROLL_BUCKETS } from "../queries/pages.ts";

const Int = z.number().int();
const Rate = z.number().nullable();

export const getPageAnalytics = defineTool({
  name: "get_page_analytics",
  title: "Page analytics",
  description:
    "Views of a URL path or pattern (`*` = any run in the path) in the range, no bots, with time on page, scroll, " +
    "referrers, UTM sources; bounce rate = landings with no other view / landings; exit rate = last views / views.",
  scopes: ["leadpulse:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    url: FunnelStep.shape.url.unwrap().describe("Path or pattern: /pricing, /blog/*"),
    range: rangeInput(),
    limit: z.number().int().min(1).max(20).default(5).describe("Items per list"),
  }),
  output: z.object({
    range: PeriodOut,
    url: z.string(),
    views: Int,
    unique_visitors: Int,
    sessions: Int,
    pages: z.array(z.object({ path: z.string(), views: Int })),
    paths_total: Int,
    time_on_page: z.object({ median_seconds: z.number().nullable(), mean_seconds: z.number().nullable(), views_timed: Int, views_without_duration: Int }),
    landings: Int,
    bounces: Int,
    bounce_rate: Rate,
    exits: Int,
    exit_rate: Rate,
    scroll_depth: z.array(z.object({ bucket: z.string(), views: Int, share: Rate })),
    views_without_scroll: Int,
    referrers: z.array(z.object({ host: z.string(), sessions: Int })),
    sessions_without_referrer: Int,
    utm_sources: z.array(z.object({ source: z.string(), sessions: Int })),
    sessions_without_utm: Int,
  }),
  handler: async (input, ctx) => {
    const range = resolveRange(input.range, ctx.now(), "30d");
    const t = await pageTally(ctx.db, ctx.org, { from: range.from, to: range.to, pattern: input.url, limit: input.limit });
    return {
      range: periodOut(range),
      url: input.url,
      views: t.views,
      unique_visitors: t.visitors,
      sessions: t.sessions,
      pages: t.pages,
      paths_total: t.paths,
      time_on_page: {
        median_seconds: roundTo(t.medianSec, 2),
        mean_seconds: roundTo(t.meanSec, 2),
        views_timed: t.timed,
        views_without_duration: t.views - t.timed,
      },
      landings: t.landings,
      bounces: t.bounces,
      bounce_rate: ratio(t.bounces, t.landings),
      exits: t.exits,
      exit_rate: ratio(t.exits, t.views),
      scroll_depth: SCROLL_BUCKETS.map((bucket, k) => ({ bucket, views: t.scroll[k]!, share: ratio(t.scroll[k]!, t.scrolled) })),
      views_without_scroll: t.views - t.scrolled,
      referrers: t.referrers,
      sessions_without_referrer: t.noReferrer,
      utm_sources: t.sources,
      sessions_without_utm: t.noSource,
    };
  },
  render: (o) => {
    const r = o.range;
    const tp = o.time_on_page;
    const secs = (s: number | null) => (s === null ? "n/a" : `${s}s`);
    return lines(
      `Page views matching ${o.url}, ${at(r.from)} → ${at(r.to)}${r.preset ? ` (${r.preset})` : ""}: ${o.views} views by ${o.unique_visitors} visitors in ${o.sessions} sessions.`,
      o.pages.length ? `Paths (${o.paths_total} matched): ${o.pages.map((p) => `${p.path} ${p.views}`).join(", ")}` : "",
      `Time on page: median ${secs(tp.median_seconds)}, mean ${secs(tp.mean_seconds)} over ${tp.views_timed} timed views (${tp.views_without_duration} without duration).`,
      `Bounce ${pct(o.bounce_rate)} (${o.bounces} of ${o.landings} sessions landing here viewed no other page); exit ${pct(o.exit_rate)} (${o.exits} of ${o.views} views were their session's last).`,
      `Scroll depth %: ${o.scroll_depth.map((b) => `${b.bucket} ${b.views} (${pct(b.share)})`).join(", ")}; ${o.views_without_scroll} views without scroll depth.`,
      `Referrers (sessions): ${o.referrers.map((x) => `${x.host} ${x.sessions}`).join(", ") || "none"}; ${o.sessions_without_referrer} without a referrer.`,
      `UTM sources (sessions): ${o.utm_sources.map((x) => `${x.source} ${x.sessions}`).join(", ") || "none"}; ${o.sessions_without_utm} without UTM.`,
    );
  },
});
