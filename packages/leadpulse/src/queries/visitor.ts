// One visitor's profile, sessions and journey, always within the caller's organization.
import { Prisma } from "@marketsage/db";
import { decodeCursor, NotFoundError, pageOf, type DbHandle, type OrgInfo } from "@marketsage/core";
import { z } from "zod";

export interface VisitorRow {
  id: string;
  contact_id: string | null;
  device: string;
  os: string | null;
  browser: string | null;
  country: string | null;
  city: string | null;
  first_seen_at: Date;
  last_seen_at: Date;
  is_bot: boolean;
}

/** The visitor, or NOT_FOUND (unknown id, or another organization's visitor: the same answer). */
export async function loadVisitor(db: DbHandle, org: Pick<OrgInfo, "id">, id: string): Promise<VisitorRow> {
  const [v] = await db.$queryRaw<VisitorRow[]>`
    select id::text, contact_id::text, device::text, os, browser, trim(country) as country, city, first_seen_at, last_seen_at, is_bot
      from visitors where organization_id = ${org.id}::uuid and id = ${id}::uuid`;
  if (!v) {
    throw new NotFoundError(`Visitor ${id}`, {
      hint: "Visitor ids come from get_real_time_visitors, identify_high_intent_visitors or the website collector.",
    });
  }
  return v;
}

export interface SessionRow {
  id: string;
  started_at: Date;
  ended_at: Date | null;
  source: string;
  landing_path: string | null;
  referrer: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  page_views: number;
}

const SESSION_COLUMNS = Prisma.sql`s.id::text, s.started_at, s.ended_at, s.source,
  case when s.landing_url is null then null else marketsage_url_path(s.landing_url) end as landing_path, s.referrer, s.utm_source, s.utm_medium, s.utm_campaign,
  (select count(*)::int from touchpoints t where t.organization_id = s.organization_id and t.visitor_id = s.visitor_id and t.session_id = s.id and t.type = 'PAGEVIEW') as page_views`;

export async function sessionsOf(db: DbHandle, org: Pick<OrgInfo, "id">, visitorId: string, latest: number) {
  const [count, first, recent] = await Promise.all([
    db.$queryRaw<Array<{ n: number }>>`select count(*)::int as n from visitor_sessions where organization_id = ${org.id}::uuid and visitor_id = ${visitorId}::uuid`,
    db.$queryRaw<SessionRow[]>`select ${SESSION_COLUMNS} from visitor_sessions s
      where s.organization_id = ${org.id}::uuid and s.visitor_id = ${visitorId}::uuid order by s.started_at, s.id limit 1`,
    db.$queryRaw<SessionRow[]>`select ${SESSION_COLUMNS} from visitor_sessions s
      where s.organization_id = ${org.id}::uuid and s.visitor_id = ${visitorId}::uuid order by s.started_at desc, s.id desc limit ${latest}`,
  ]);
  return { count: count[0]?.n ?? 0, first: first[0] ?? null, latest: recent };
}

export interface JourneyRow {
  id: string;
  type: string;
  url: string;
  path: string;
  title: string | null;
  occurred_at: Date;
  duration_sec: number | null;
  scroll_depth: number | null;
  session_id: string | null;
}

const JourneyPosition = z.object({ t: z.string(), id: z.string().regex(/^\d+$/) });

/** The visitor's touchpoints oldest first (time, then id), a page at a time. */
export async function journeyPage(db: DbHandle, org: Pick<OrgInfo, "id">, visitorId: string, limit: number, cursor: string | undefined) {
  const after = decodeCursor(cursor, JourneyPosition);
  const rows = await db.$queryRaw<JourneyRow[]>`
    select t.id::text, t.type::text, t.url, marketsage_url_path(t.url) as path, t.title, t.occurred_at, t.duration_sec, t.scroll_depth, t.session_id::text
      from touchpoints t
     where t.organization_id = ${org.id}::uuid and t.visitor_id = ${visitorId}::uuid
       ${after ? Prisma.sql`and (t.occurred_at, t.id) > (${new Date(after.t)}::timestamptz, ${after.id}::bigint)` : Prisma.empty}
     order by t.occurred_at, t.id limit ${limit + 1}`;
  return pageOf(rows, limit, (r) => ({ t: r.occurred_at.toISOString(), id: r.id }));
}
