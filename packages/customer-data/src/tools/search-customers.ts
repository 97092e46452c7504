import { Prisma } from "@marketsage/db";
import { decodeCursor, defineTool, pageOf, piiPolicy, UserError } from "@marketsage/core";
import { z } from "zod";
import { ChannelEnum, CONTACT_COLUMNS, ContactStatusEnum, likeEscape, looksLikePhone, toE164, type ContactRow } from "@marketsage/domain";
import { summarize } from "../queries/contacts.ts";
import { Cursor, CustomerSummary, limitInput } from "../schemas.ts";
import { loadSegment } from "../segments/membership.ts";
import { customerLine, lines, maskedNote, pageNote } from "../render.ts";

const Position = z.object({ t: z.string(), id: z.uuid() });

export const searchCustomers = defineTool({
  name: "search_customers",
  title: "Search customers",
  description:
    "Customers matching free text and filters, newest first, paged: contact details, status and tags (phone E.164; " +
    "email/phone masked without PII access). Full record: get_customer_profile.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    query: z.string().trim().max(100).optional().describe("Name, email, phone (any format) or company."),
    status: z.array(ContactStatusEnum).max(4).optional(),
    country: z.array(z.string().regex(/^[A-Za-z]{2}$/)).max(20).optional().describe("ISO codes, e.g. NG."),
    segment_id: z.uuid().optional(),
    consent: z
      .object({ channel: ChannelEnum, state: z.enum(["subscribed", "unsubscribed", "unknown"]) })
      .optional(),
    limit: limitInput(20, 100),
    cursor: Cursor,
  }),
  output: z.object({
    customers: z.array(CustomerSummary),
    next_cursor: z.string().nullable(),
    pii_masked: z.boolean(),
    matched_as: z.enum(["phone", "email", "text", "none"]),
  }),
  handler: async (input, ctx) => {
    const where: Prisma.Sql[] = [Prisma.sql`c.organization_id = ${ctx.org.id}::uuid`];
    let matchedAs: "phone" | "email" | "text" | "none" = "none";
    const q = input.query ?? "";
    if (q) {
      if (looksLikePhone(q)) {
        const e164 = toE164(q, ctx.org.defaultCountry);
        if (!e164) throw new UserError(`"${q}" looks like a phone number but is not a valid one for ${ctx.org.defaultCountry}. Try international format, e.g. +234 803 123 4567.`);
        where.push(Prisma.sql`c.phone = ${e164}`);
        matchedAs = "phone";
      } else if (q.includes("@")) {
        where.push(Prisma.sql`c.email ilike ${`%${likeEscape(q.toLowerCase())}%`}`);
        matchedAs = "email";
      } else {
        for (const token of q.split(/\s+/).filter(Boolean).slice(0, 5)) {
          const p = `%${likeEscape(token)}%`;
          where.push(Prisma.sql`(c.first_name ilike ${p} or c.last_name ilike ${p} or c.email ilike ${p} or c.company ilike ${p})`);
        }
        matchedAs = "text";
      }
    }
    if (input.status?.length) where.push(Prisma.sql`c.status::text = any(${input.status}::text[])`);
    if (input.country?.length) where.push(Prisma.sql`c.country = any(${input.country.map((s) => s.toUpperCase())}::text[])`);
    if (input.segment_id) where.push((await loadSegment(ctx.db, ctx.org, input.segment_id, ctx.now())).member);
    if (input.consent) {
      const column = { EMAIL: "consent_email", SMS: "consent_sms", WHATSAPP: "consent_whatsapp" }[input.consent.channel];
      const state = input.consent.state;
      where.push(
        state === "unknown"
          ? Prisma.sql`${Prisma.raw(`c.${column}`)} is null`
          : Prisma.sql`${Prisma.raw(`c.${column}`)} = ${state === "subscribed" ? "SUBSCRIBED" : "UNSUBSCRIBED"}::"ConsentAction"`,
      );
    }
    const after = decodeCursor(input.cursor, Position);
    if (after) where.push(Prisma.sql`(c.created_at, c.id) < (${new Date(after.t)}, ${after.id}::uuid)`);

    const rows = await ctx.db.$queryRaw<ContactRow[]>`
      select ${CONTACT_COLUMNS} from contacts c
       where ${Prisma.join(where, " and ")}
       order by c.created_at desc, c.id desc
       limit ${input.limit + 1}`;
    const pii = piiPolicy(ctx.hasScope("contacts:pii"));
    const page = pageOf(rows, input.limit, (r) => ({ t: r.created_at.toISOString(), id: r.id }));
    return { customers: page.items.map((r) => summarize(r, pii)), next_cursor: page.next_cursor, pii_masked: pii.masked, matched_as: matchedAs };
  },
  render: (o) =>
    lines(
      `${o.customers.length ? `${o.customers.length} customers, newest first` : "No customers match"} (free text ${o.matched_as === "none" ? "none" : `read as ${o.matched_as}`}).`,
      o.customers.map((c) => `- ${customerLine(c)}`),
      pageNote(o.next_cursor),
      maskedNote(o.pii_masked),
    ),
});
