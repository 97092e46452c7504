// A customer's recent activity, newest first: message events, website visits, conversions.
import { Prisma } from "@marketsage/db";
import { decodeCursor, pageOf, type DbHandle, type OrgInfo } from "@marketsage/core";
import { z } from "zod";

export const TimelineItem = z.object({
  at: z.string(),
  kind: z.enum(["message", "visit", "conversion"]),
  channel: z.enum(["EMAIL", "SMS", "WHATSAPP"]).nullable(),
  event: z.string().describe("Message event (SENT, DELIVERED, OPENED, …), visit landing page, or conversion type."),
  campaign: z.string().nullable(),
  value: z.number().nullable().describe("Conversion value in currency."),
  currency: z.string().nullable(),
});

const Position = z.object({ t: z.string(), k: z.string(), id: z.string() });

interface Row {
  at: Date;
  kind: "message" | "visit" | "conversion";
  id: string;
  channel: "EMAIL" | "SMS" | "WHATSAPP" | null;
  event: string;
  campaign: string | null;
  value: string | null;
  currency: string | null;
}

export async function timeline(db: DbHandle, org: OrgInfo, contactId: string, limit: number, cursor: string | undefined) {
  const after = decodeCursor(cursor, Position);
  const before = after ? Prisma.sql`where (x.at, x.kind, x.id) < (${new Date(after.t)}, ${after.k}, ${after.id})` : Prisma.empty;
  // Each branch takes its own newest limit+1 rows through its (contact, time) index before the merge.
  const cap = limit + 1;
  const bound = (col: Prisma.Sql) => (after ? Prisma.sql`and ${col} <= ${new Date(after.t)}` : Prisma.empty);
  const rows = await db.$queryRaw<Row[]>`
    select * from (
      (select e.occurred_at as at, 'message' as kind, e.id::text as id, e.channel::text as channel, e.type::text as event,
              cp.name as campaign, null::text as value, null::text as currency
         from message_events e left join campaigns cp on cp.id = e.campaign_id
        where e.contact_id = ${contactId}::uuid and e.organization_id = ${org.id}::uuid ${bound(Prisma.sql`e.occurred_at`)}
        order by e.occurred_at desc limit ${cap})
      union all
      (select s.started_at, 'visit', s.id::text, null, coalesce(s.landing_url, '(unknown page)'), s.utm_campaign, null, null
         from visitors v join visitor_sessions s on s.visitor_id = v.id
        where v.contact_id = ${contactId}::uuid and v.organization_id = ${org.id}::uuid ${bound(Prisma.sql`s.started_at`)}
        order by s.started_at desc limit ${cap})
      union all
      (select x.occurred_at, 'conversion', x.id::text, null, x.type, cp.name, x.value::text, trim(x.currency)
         from conversions x left join campaigns cp on cp.id = x.campaign_id
        where x.contact_id = ${contactId}::uuid and x.organization_id = ${org.id}::uuid ${bound(Prisma.sql`x.occurred_at`)}
        order by x.occurred_at desc limit ${cap})
    ) x ${before}
    order by x.at desc, x.kind desc, x.id desc
    limit ${cap}`;
  const page = pageOf(rows, limit, (r) => ({ t: r.at.toISOString(), k: r.kind, id: r.id }));
  return {
    items: page.items.map((r) => ({
      at: r.at.toISOString(),
      kind: r.kind,
      channel: r.channel,
      event: r.event,
      campaign: r.campaign,
      value: r.value === null ? null : Number(r.value),
      currency: r.currency,
    })),
    next_cursor: page.next_cursor,
  };
}
