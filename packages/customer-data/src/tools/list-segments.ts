import { Prisma } from "@marketsage/db";
import { decodeCursor, defineTool, pageOf } from "@marketsage/core";
import { resolveRange, ResolvedRange } from "@marketsage/domain";
import { z } from "zod";
import { growthOf, historyCounts, type RangeCounts } from "../queries/segment-stats.ts";
import { DEFAULT_MAX_AGE_SECONDS, resolveSegment, SEGMENT_COLUMNS, type SegmentRow } from "../segments/membership.ts";
import { Cursor, limitInput, MaxAgeInput, rangeInput } from "../schemas.ts";
import { at, lines, pageNote, signed } from "../render.ts";

const Position = z.object({ n: z.string(), id: z.uuid() });

export const listSegments = defineTool({
  name: "list_segments",
  title: "List segments",
  description:
    "Saved segments, alphabetically: what each selects (in words), members now, net growth over the range. " +
    "Reachability and engagement: get_segment.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ range: rangeInput("30d"), limit: limitInput(20, 50), cursor: Cursor, max_age_seconds: MaxAgeInput }),
  output: z.object({
    range: ResolvedRange,
    segments: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        kind: z.enum(["rules", "static"]),
        description: z.string(),
        member_count: z.number().int(),
        net_growth: z.number().int(),
        added: z.number().int(),
        members_evaluated_at: z.string().nullable().describe("null for static lists."),
        created_at: z.string(),
      }),
    ),
    next_cursor: z.string().nullable(),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const range = resolveRange(input.range, now);
    const after = decodeCursor(input.cursor, Position);
    const rows = await ctx.db.$queryRaw<SegmentRow[]>`
      select ${SEGMENT_COLUMNS} from segments
       where organization_id = ${ctx.org.id}::uuid ${after ? Prisma.sql`and (name, id) > (${after.n}, ${after.id}::uuid)` : Prisma.empty}
       order by name, id limit ${input.limit + 1}`;
    const page = pageOf(rows, input.limit, (r) => ({ n: r.name, id: r.id }));
    const loaded = [];
    for (const row of page.items) loaded.push(await resolveSegment(ctx.db, ctx.org, row, now, input.max_age_seconds));
    // Every segment on the page reads its stored member list: one pass over their member rows.
    type Counts = RangeCounts & { id: string; members: number; cs: number; ce: number; ca: number };
    const counts = new Map(
      (loaded.length
        ? await ctx.db.$queryRaw<Counts[]>`
            select m.segment_id::text as id, count(*) filter (where m.removed_at is null)::int as members, ${historyCounts(range)},
                   count(*) filter (where m.removed_at is null and m.contact_created_at < ${range.from})::int as cs,
                   count(*) filter (where m.removed_at is null and m.contact_created_at < ${range.to})::int as ce,
                   count(*) filter (where m.removed_at is null and m.contact_created_at >= ${range.from} and m.contact_created_at < ${range.to})::int as ca
              from segment_members m
             where m.organization_id = ${ctx.org.id}::uuid and m.segment_id = any(${loaded.map((s) => s.row.id)}::uuid[])
             group by m.segment_id`
        : []
      ).map((c) => [c.id, c]),
    );
    const none: Counts = { id: "", members: 0, s: 0, e: 0, a: 0, r: 0, cs: 0, ce: 0, ca: 0 };
    const segments = [];
    for (const seg of loaded) {
      const row = seg.row;
      const c = counts.get(row.id) ?? none;
      const g = growthOf(seg.kind, seg.kind === "static" ? c : { s: c.cs, e: c.ce, a: c.ca, r: null });
      segments.push({
        id: row.id,
        name: row.name,
        kind: seg.kind,
        description: seg.description,
        member_count: c.members,
        net_growth: g.net,
        added: g.added,
        members_evaluated_at: seg.evaluatedAt?.toISOString() ?? null,
        created_at: row.created_at.toISOString(),
      });
    }
    return { range: range.json, segments, next_cursor: page.next_cursor };
  },
  render: (o) =>
    lines(
      `Growth over ${at(o.range.from)} → ${at(o.range.to)}${o.range.preset ? ` (${o.range.preset})` : ""}; previous period from ${at(o.range.previous_from)}.`,
      o.segments.length ? "Segments, alphabetically:" : "No segments yet.",
      o.segments.map(
        (s) =>
          `- ${s.name} (${s.kind}, id ${s.id}): ${s.member_count} members, ${signed(s.net_growth)} net (${s.added} added)` +
          `${s.members_evaluated_at ? `, rules evaluated ${at(s.members_evaluated_at)}` : ""}, created ${at(s.created_at)} — ${s.description}`,
      ),
      pageNote(o.next_cursor),
    ),
});
