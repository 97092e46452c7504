import { Prisma } from "@marketsage/db";
import { decodeCursor, defineTool, pageOf, piiPolicy } from "@marketsage/core";
import { CONTACT_COLUMNS, resolveRange, ResolvedRange, type ContactRow } from "@marketsage/domain";
import { z } from "zod";
import { summarize } from "../queries/contacts.ts";
import { growth, segmentFigures } from "../queries/segment-stats.ts";
import { CustomerSummary } from "../schemas.ts";
import { loadSegment } from "../segments/membership.ts";
import { Cursor, limitInput, MaxAgeInput, rangeInput } from "../schemas.ts";
import { at, customerLine, lines, maskedNote, pageNote, signed } from "../render.ts";

const Position = z.object({ t: z.string(), id: z.uuid() });

export const getSegment = defineTool({
  name: "get_segment",
  title: "Segment details",
  description:
    "One saved segment: members, reachable per channel now (address present, ACTIVE, subscribed), growth and engagement " +
    "(share of members delivered a message who opened, clicked or replied) over the range, optionally a page of members " +
    "(newest first). Rule segments: members as of ≤ max_age_seconds ago; growth without removed.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid().describe("From list_segments."),
    range: rangeInput("30d"),
    include_members: z.boolean().default(false),
    members_limit: limitInput(10, 50),
    members_cursor: Cursor,
    max_age_seconds: MaxAgeInput,
  }),
  output: z.object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(["rules", "static"]),
    description: z.string(),
    rules: z.unknown().nullable(),
    members_evaluated_at: z.string().nullable(),
    range: ResolvedRange,
    member_count: z.number().int(),
    reachability: z.object({ email: z.number().int(), sms: z.number().int(), whatsapp: z.number().int() }),
    growth: z.object({
      start_count: z.number().int(),
      end_count: z.number().int(),
      added: z.number().int(),
      removed: z.number().int().nullable().describe("null for rule segments: leaving is not recorded."),
      net: z.number().int(),
      growth_rate: z.number().nullable(),
      basis: z.enum(["membership_history", "contact_created_at"]),
    }),
    engagement: z.object({ members_messaged: z.number().int(), members_engaged: z.number().int(), engagement_rate: z.number().nullable() }),
    members: z.object({ items: z.array(CustomerSummary), next_cursor: z.string().nullable() }).nullable(),
    pii_masked: z.boolean(),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const range = resolveRange(input.range, now);
    const seg = await loadSegment(ctx.db, ctx.org, input.id, now, input.max_age_seconds);
    const figures = await segmentFigures(ctx.db, ctx.org, seg.row.id, { range, engagement: { now } });
    const reach = figures.reach;
    const e = figures.engagement!;
    const g = await growth(ctx.db, ctx.org, seg, range, figures.byCreatedAt!);
    const pii = piiPolicy(ctx.hasScope("contacts:pii"));
    let members = null;
    if (input.include_members) {
      const after = decodeCursor(input.members_cursor, Position);
      const rows = await ctx.db.$queryRaw<ContactRow[]>`
        select ${CONTACT_COLUMNS} from contacts c
         where c.organization_id = ${ctx.org.id}::uuid and ${seg.member}
           ${after ? Prisma.sql`and (c.created_at, c.id) < (${new Date(after.t)}, ${after.id}::uuid)` : Prisma.empty}
         order by c.created_at desc, c.id desc limit ${input.members_limit + 1}`;
      const page = pageOf(rows, input.members_limit, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
      members = { items: page.items.map((r) => summarize(r, pii)), next_cursor: page.next_cursor };
    }
    return {
      id: seg.row.id,
      name: seg.row.name,
      kind: seg.kind,
      description: seg.description,
      rules: seg.rule,
      members_evaluated_at: seg.evaluatedAt?.toISOString() ?? null,
      range: range.json,
      member_count: reach.members,
      reachability: { email: reach.email, sms: reach.sms, whatsapp: reach.whatsapp },
      growth: g,
      engagement: e,
      members,
      pii_masked: pii.masked,
    };
  },
  render: (o) => {
    const g = o.growth;
    const e = o.engagement;
    return lines(
      `${o.name} (${o.kind}, id ${o.id}): ${o.member_count} members — ${o.description}`,
      o.rules !== null && o.rules !== undefined ? `Rules: ${JSON.stringify(o.rules)}` : "",
      o.members_evaluated_at ? `Member list evaluated from the rules at ${at(o.members_evaluated_at)}.` : "",
      `Reachable now: email ${o.reachability.email}, SMS ${o.reachability.sms}, WhatsApp ${o.reachability.whatsapp}`,
      `Growth ${at(o.range.from)} → ${at(o.range.to)}${o.range.preset ? ` (${o.range.preset})` : ""}, previous period from ${at(o.range.previous_from)}: ` +
        `${g.start_count} → ${g.end_count} (${signed(g.net)}: ${g.added} added${g.removed !== null ? `, ${g.removed} removed` : ""}; ` +
        `rate ${g.growth_rate ?? "n/a"}; basis ${g.basis})`,
      `Engagement: ${e.members_engaged} of ${e.members_messaged} messaged members engaged (rate ${e.engagement_rate ?? "n/a"})`,
      o.members ? (o.members.items.length ? "Members, newest first:" : "Members: none.") : "",
      o.members?.items.map((c) => `- ${customerLine(c)}`),
      o.members ? pageNote(o.members.next_cursor, "members_cursor") : "",
      o.members ? maskedNote(o.pii_masked) : "",
    );
  },
});
