// Who is in a saved segment. Static lists are their segment_members rows that have not been
// removed. Rule segments keep their members there too: the rules are evaluated when the stored
// membership is older than the caller allows (max age), and each evaluation adds the contacts that
// now match and marks removed the ones that no longer do, in one statement. A single contact's
// segments (the profile) are checked against the rules live.
import { Prisma } from "@marketsage/db";
import { NotFoundError, UserError, type DbHandle, type OrgInfo } from "@marketsage/core";
import { compileRule } from "./compile.ts";
import { describeRule } from "./describe.ts";
import { parseRule, type Rule } from "./rules.ts";
import { compileOverFacts, LAST_DELIVERED, LAST_ENGAGED } from "./facts.ts";

/** How old a rule segment's stored membership may be before a read evaluates the rules again. */
export const DEFAULT_MAX_AGE_SECONDS = 300;

export interface SegmentRow {
  id: string;
  name: string;
  description: string | null;
  rules: unknown;
  members_evaluated_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const SEGMENT_COLUMNS = Prisma.sql`id::text, name, description, rules, members_evaluated_at, created_at, updated_at`;

export interface LoadedSegment {
  row: SegmentRow;
  kind: "rules" | "static";
  rule: Rule | null;
  /** SQL boolean over contacts `c`: is c a member. */
  member: Prisma.Sql;
  description: string;
  /** Rule segments: when `member` (the stored membership) was evaluated; null for static lists and live rules. */
  evaluatedAt: Date | null;
}

const stored = (segmentId: string) =>
  Prisma.sql`exists (select 1 from segment_members m where m.segment_id = ${segmentId}::uuid and m.contact_id = c.id and m.removed_at is null)`;

/**
 * The segment with its rules compiled live (`member` evaluates the rules as of `now`).
 * `plan`: "one" when the segment is checked for a single known contact (see CompileContext).
 */
export function segmentFromRow(row: SegmentRow, org: OrgInfo, now: Date, plan: "set" | "one" = "set"): LoadedSegment {
  if (row.rules === null || row.rules === undefined) {
    return {
      row,
      kind: "static",
      rule: null,
      member: stored(row.id),
      description: row.description ?? "A static list of contacts.",
      evaluatedAt: null,
    };
  }
  let rule: Rule;
  try {
    rule = parseRule(row.rules);
  } catch (e) {
    throw new UserError(`Segment "${row.name}" has stored rules that are no longer valid (${(e as Error).message}). Re-save it with valid rules.`);
  }
  const member = compileRule(rule, { orgId: org.id, currency: org.reportingCurrency, now, plan });
  return { row, kind: "rules", rule, member, description: describeRule(rule), evaluatedAt: null };
}

export interface Evaluation {
  members: number;
  added: number;
  removed: number;
}

/**
 * Bring a rule segment's stored membership up to date with its rules as of `now`, in one
 * statement: contacts that match and are not members are added (added_at = now; a former member
 * comes back with a new added_at), members that no longer match get removed_at = now.
 * Concurrent evaluations of the same segment converge (row locks and ON CONFLICT).
 */
export async function evaluateMembers(db: DbHandle, org: OrgInfo, seg: LoadedSegment, now: Date): Promise<Evaluation> {
  if (seg.kind !== "rules") throw new Error("only rule segments are evaluated");
  const id = seg.row.id;
  // The rules over contact_facts (narrow rows, latest events per contact): the members' state is
  // read from there too; latest delivery and engagement are the newest of the per-channel columns.
  const member = await compileOverFacts(db, org, seg.rule!, now);
  // The diff is a FULL JOIN of the matching contacts and the current members: PostgreSQL runs a
  // full join only as a hash or merge join, so a stale estimate of the member rows (a list that
  // was empty at the last ANALYZE) cannot turn it into a nested loop over two large sets. The
  // removals then address member rows by primary key (= any of an id array).
  const [r] = await db.$queryRaw<Array<Evaluation>>`
    with target as materialized (
           select c.id, c.created_at, ${LAST_DELIVERED} as last_delivered_at, ${LAST_ENGAGED} as last_engaged_at, c.reach
             from contact_facts c where c.organization_id = ${org.id}::uuid and ${member}),
         cur as materialized (
           select m.contact_id from segment_members m where m.segment_id = ${id}::uuid and m.removed_at is null),
         diff as materialized (
           select t.*, cur.contact_id as member_id from target t full join cur on cur.contact_id = t.id
            where t.id is null or cur.contact_id is null),
         gone as (
           update segment_members m set removed_at = ${now}
            where m.segment_id = ${id}::uuid and m.removed_at is null
              and m.contact_id = any(array(select member_id from diff where id is null))
           returning 1),
         came as (
           insert into segment_members (segment_id, contact_id, organization_id, added_at, contact_created_at, reach, last_delivered_at, last_engaged_at)
           select ${id}::uuid, d.id, ${org.id}::uuid, ${now}, d.created_at, d.reach, d.last_delivered_at, d.last_engaged_at
             from diff d where d.member_id is null
           on conflict (segment_id, contact_id) do update set added_at = excluded.added_at, removed_at = null,
             contact_created_at = excluded.contact_created_at, reach = excluded.reach,
             last_delivered_at = excluded.last_delivered_at, last_engaged_at = excluded.last_engaged_at
           returning 1),
         stamp as (update segments set members_evaluated_at = ${now} where id = ${id}::uuid and organization_id = ${org.id}::uuid returning 1)
    select (select count(*) from target)::int as members, (select count(*) from came)::int as added,
           (select count(*) from gone)::int as removed, (select count(*) from stamp)::int as stamped`;
  return { members: r!.members, added: r!.added, removed: r!.removed };
}

/**
 * The segment with `member` reading its stored membership; a rule segment's rules are evaluated
 * first when that membership is missing, older than `maxAgeSeconds` (0: always) or older than
 * the rules themselves.
 */
export async function resolveSegment(db: DbHandle, org: OrgInfo, row: SegmentRow, now: Date, maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS): Promise<LoadedSegment> {
  const live = segmentFromRow(row, org, now);
  if (live.kind === "static") return live;
  let at = row.members_evaluated_at;
  const stale = maxAgeSeconds === 0 || at === null || at < row.updated_at || now.getTime() - at.getTime() > maxAgeSeconds * 1000;
  if (stale) {
    await evaluateMembers(db, org, live, now);
    at = now;
  }
  return { ...live, member: stored(row.id), evaluatedAt: at };
}

export async function loadSegment(db: DbHandle, org: OrgInfo, id: string, now: Date, maxAgeSeconds = DEFAULT_MAX_AGE_SECONDS): Promise<LoadedSegment> {
  const rows = await db.$queryRaw<SegmentRow[]>`
    select ${SEGMENT_COLUMNS} from segments where id = ${id}::uuid and organization_id = ${org.id}::uuid`;
  if (!rows[0]) throw new NotFoundError(`Segment ${id}`);
  return resolveSegment(db, org, rows[0], now, maxAgeSeconds);
}

/** Evaluate every rule segment of the organization (after seeding, so first reads are fast). */
export async function evaluateAllRuleSegments(db: DbHandle, org: OrgInfo, now: Date): Promise<number> {
  const rows = await db.$queryRaw<SegmentRow[]>`
    select ${SEGMENT_COLUMNS} from segments where organization_id = ${org.id}::uuid and rules is not null order by name`;
  for (const row of rows) await evaluateMembers(db, org, segmentFromRow(row, org, now), now);
  return rows.length;
}
