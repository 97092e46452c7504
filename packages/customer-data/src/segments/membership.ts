// Who is in a saved segment: rule segments are evaluated live (always current); static lists
// are their segment_members rows that have not been removed.
import { Prisma } from "@marketsage/db";
import { NotFoundError, UserError, type DbHandle, type OrgInfo } from "@marketsage/core";
import { compileRule } from "./compile.ts";
import { describeRule } from "./describe.ts";
import { parseRule, type Rule } from "./rules.ts";

export interface SegmentRow {
  id: string;
  name: string;
  description: string | null;
  rules: unknown;
  created_at: Date;
  updated_at: Date;
}

export interface LoadedSegment {
  row: SegmentRow;
  kind: "rules" | "static";
  rule: Rule | null;
  /** SQL boolean over contacts `c`: is c a member now. */
  member: Prisma.Sql;
  description: string;
}

/** `plan`: "one" when the segment is checked for a single known contact (see CompileContext). */
export function segmentFromRow(row: SegmentRow, org: OrgInfo, now: Date, plan: "set" | "one" = "set"): LoadedSegment {
  if (row.rules === null || row.rules === undefined) {
    return {
      row,
      kind: "static",
      rule: null,
      member: Prisma.sql`exists (select 1 from segment_members m where m.segment_id = ${row.id}::uuid and m.contact_id = c.id and m.removed_at is null)`,
      description: row.description ?? "A static list of contacts.",
    };
  }
  let rule: Rule;
  try {
    rule = parseRule(row.rules);
  } catch (e) {
    throw new UserError(`Segment "${row.name}" has stored rules that are no longer valid (${(e as Error).message}). Re-save it with valid rules.`);
  }
  return { row, kind: "rules", rule, member: compileRule(rule, { orgId: org.id, currency: org.reportingCurrency, now, plan }), description: describeRule(rule) };
}

export async function loadSegment(db: DbHandle, org: OrgInfo, id: string, now: Date): Promise<LoadedSegment> {
  const rows = await db.$queryRaw<SegmentRow[]>`
    select id::text, name, description, rules, created_at, updated_at from segments where id = ${id}::uuid and organization_id = ${org.id}::uuid`;
  if (!rows[0]) throw new NotFoundError(`Segment ${id}`);
  return segmentFromRow(rows[0], org, now);
}
