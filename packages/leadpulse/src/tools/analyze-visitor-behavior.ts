import { at, defineTool, lines, pct, UserError } from "@marketsage/core";
import { ratio, resolveRange, ResolvedRange, roundTo } from "@marketsage/domain";
import { rangeInput } from "./inputs.ts";
import { z } from "zod";
import { behavior } from "../queries/behavior.ts";
import { FilterEcho, filterEcho, filtersText, VisitorFilterShape } from "../queries/filters.ts";
import { loadVisitor } from "../queries/visitor.ts";

const r1 = (x: number | null) => roundTo(x, 1);
const per = (a: number, b: number) => (b ? roundTo(a / b, 2) : null);

export const analyzeVisitorBehavior = defineTool({
  name: "analyze_visitor_behavior",
  title: "Visitor behaviour",
  description:
    "Behaviour of one visitor (id; all history, range null) or of the sessions started in the range, filtered by " +
    "session device, country, source, new/returning, identified; no bots.",
  scopes: ["leadpulse:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().optional(),
    range: rangeInput(),
    ...VisitorFilterShape,
    top: z.number().int().min(1).max(50).default(10),
  }),
  output: z.object({
    range: ResolvedRange.nullable(),
    visitor_id: z.string().nullable(),
    filters: FilterEcho,
    visitors: z.number().int(),
    sessions: z.number().int(),
    page_views: z.number().int(),
    sessions_per_visitor: z.number().nullable(),
    pages_per_session: z.number().nullable(),
    session_duration_sec: z.object({ median: z.number().nullable(), mean: z.number().nullable(), sessions: z.number().int() }),
    scroll_depth_pct: z.object({ median: z.number().nullable(), mean: z.number().nullable(), page_views: z.number().int() }),
    returning_visitors: z.number().int(),
    return_rate: z.number().nullable(),
    identified_visitors: z.number().int(),
    identified_share: z.number().nullable(),
    top_paths: z.array(z.object({ path: z.string(), views: z.number().int(), visitors: z.number().int() })),
    top_entry_paths: z.array(z.object({ path: z.string(), sessions: z.number().int() })),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    if (input.id) {
      const v = await loadVisitor(ctx.db, ctx.org, input.id);
      if (v.is_bot) throw new UserError(`Visitor ${v.id} is a bot (an automated client by its user agent); bots are excluded from behaviour figures.`);
    }
    const range = input.id && !input.range ? null : resolveRange(input.range, now);
    const { id: _id, range: _range, top, ...filters } = input;
    const { totals: t, paths, entries } = await behavior(ctx.db, ctx.org, { from: range?.from ?? null, to: range?.to ?? now, visitorId: input.id ?? null, filters, top });
    return {
      range: range?.json ?? null,
      visitor_id: input.id ?? null,
      filters: filterEcho(filters),
      visitors: t.visitors,
      sessions: t.sessions,
      page_views: t.page_views,
      sessions_per_visitor: per(t.sessions, t.visitors),
      pages_per_session: per(t.page_views, t.sessions),
      session_duration_sec: { median: r1(t.median_duration), mean: r1(t.mean_duration), sessions: t.measured_sessions },
      scroll_depth_pct: { median: r1(t.median_scroll), mean: r1(t.mean_scroll), page_views: t.scrolled_views },
      returning_visitors: t.returning_visitors,
      return_rate: ratio(t.returning_visitors, t.visitors),
      identified_visitors: t.identified_visitors,
      identified_share: ratio(t.identified_visitors, t.visitors),
      top_paths: paths,
      top_entry_paths: entries,
    };
  },
  render: (o) => {
    const d = o.session_duration_sec;
    const s = o.scroll_depth_pct;
    return lines(
      `${o.visitor_id ? `Visitor ${o.visitor_id}` : "Visitors"}, sessions started ${o.range ? `${at(o.range.from)} → ${at(o.range.to)}${o.range.preset ? ` (${o.range.preset})` : ""} (previous period from ${at(o.range.previous_from)})` : "at any time"}, ${filtersText(o.filters)}; bots excluded:`,
      `${o.visitors} visitors, ${o.sessions} sessions (${o.sessions_per_visitor ?? "n/a"} per visitor), ${o.page_views} page views (${o.pages_per_session ?? "n/a"} per session)`,
      `Session duration: median ${d.median ?? "n/a"} s, mean ${d.mean ?? "n/a"} s over ${d.sessions} sessions with touchpoints`,
      `Scroll depth: median ${s.median ?? "n/a"}%, mean ${s.mean ?? "n/a"}% over ${s.page_views} page views`,
      `Return rate ${pct(o.return_rate)} (${o.returning_visitors} visitors with 2+ sessions); identified ${pct(o.identified_share)} (${o.identified_visitors} visitors)`,
      `Top paths (views, visitors): ${o.top_paths.map((p) => `${p.path} ${p.views}/${p.visitors}`).join("; ") || "none"}`,
      `Top entry paths (sessions): ${o.top_entry_paths.map((p) => `${p.path} ${p.sessions}`).join("; ") || "none"}`,
    );
  },
});
