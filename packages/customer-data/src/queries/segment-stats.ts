// Figures about a set of contacts given as a SQL boolean over `c`: size, reachability per
// channel, growth and engagement over a range. Each is one statement scoped to the organization.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo, Range } from "@marketsage/core";
import type { LoadedSegment } from "../segments/membership.ts";

export interface Reach {
  members: number;
  email: number;
  sms: number;
  whatsapp: number;
}

/** Members now, and how many of them each channel can legally reach (address + ACTIVE + subscribed). */
export async function sizeAndReach(db: DbHandle, org: OrgInfo, member: Prisma.Sql): Promise<Reach> {
  const rows = await db.$queryRaw<Array<Reach>>`
    select count(*)::int as members,
           count(*) filter (where c.status = 'ACTIVE' and c.email is not null and c.consent_email = 'SUBSCRIBED')::int as email,
           count(*) filter (where c.status = 'ACTIVE' and c.phone is not null and c.consent_sms = 'SUBSCRIBED')::int as sms,
           count(*) filter (where c.status = 'ACTIVE' and c.phone is not null and c.consent_whatsapp = 'SUBSCRIBED')::int as whatsapp
      from contacts c where c.organization_id = ${org.id}::uuid and ${member}`;
  return rows[0]!;
}

export interface Growth {
  start_count: number;
  end_count: number;
  added: number;
  removed: number | null;
  net: number;
  growth_rate: number | null;
  basis: "membership_history" | "contact_created_at";
}

export async function growth(db: DbHandle, org: OrgInfo, seg: LoadedSegment, range: Range): Promise<Growth> {
  if (seg.kind === "static") {
    const r = (
      await db.$queryRaw<Array<{ s: number; e: number; a: number; r: number }>>`
        select count(*) filter (where m.added_at < ${range.from} and (m.removed_at is null or m.removed_at >= ${range.from}))::int as s,
               count(*) filter (where m.added_at < ${range.to} and (m.removed_at is null or m.removed_at >= ${range.to}))::int as e,
               count(*) filter (where m.added_at >= ${range.from} and m.added_at < ${range.to})::int as a,
               count(*) filter (where m.removed_at >= ${range.from} and m.removed_at < ${range.to})::int as r
          from segment_members m where m.segment_id = ${seg.row.id}::uuid and m.organization_id = ${org.id}::uuid`
    )[0]!;
    return { start_count: r.s, end_count: r.e, added: r.a, removed: r.r, net: r.e - r.s, growth_rate: r.s ? round(r.e / r.s - 1) : null, basis: "membership_history" };
  }
  // Rule segments are evaluated live; their history is that of today's members by sign-up date.
  const r = (
    await db.$queryRaw<Array<{ s: number; e: number; a: number }>>`
      select count(*) filter (where c.created_at < ${range.from})::int as s,
             count(*) filter (where c.created_at < ${range.to})::int as e,
             count(*) filter (where c.created_at >= ${range.from} and c.created_at < ${range.to})::int as a
        from contacts c where c.organization_id = ${org.id}::uuid and ${seg.member}`
  )[0]!;
  return { start_count: r.s, end_count: r.e, added: r.a, removed: null, net: r.e - r.s, growth_rate: r.s ? round(r.e / r.s - 1) : null, basis: "contact_created_at" };
}

export interface Engagement {
  members_messaged: number;
  members_engaged: number;
  engagement_rate: number | null;
}

/** Of the members who had a message delivered in the range, the share who opened, clicked or replied in it. */
export async function engagement(db: DbHandle, org: OrgInfo, member: Prisma.Sql, range: Range): Promise<Engagement> {
  const r = (
    await db.$queryRaw<Array<{ messaged: number; engaged: number }>>`
      with ev as (
        select e.contact_id, bool_or(e.type = 'DELIVERED') as delivered, bool_or(e.type in ('OPENED','CLICKED','REPLIED')) as engaged
          from message_events e
         where e.organization_id = ${org.id}::uuid and e.occurred_at >= ${range.from} and e.occurred_at < ${range.to}
           and e.type in ('DELIVERED','OPENED','CLICKED','REPLIED') and e.contact_id is not null
         group by e.contact_id)
      select count(*) filter (where ev.delivered)::int as messaged, count(*) filter (where ev.delivered and ev.engaged)::int as engaged
        from ev join contacts c on c.id = ev.contact_id
       where c.organization_id = ${org.id}::uuid and ${member}`
  )[0]!;
  return { members_messaged: r.messaged, members_engaged: r.engaged, engagement_rate: r.messaged ? round(r.engaged / r.messaged) : null };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
