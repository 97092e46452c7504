import type { DbHandle, OrgInfo } from "@marketsage/core";
import { segmentFromRow, type SegmentRow } from "../segments/membership.ts";

/** The saved segments this contact belongs to now (static lists and live rule segments). */
export async function segmentsOf(db: DbHandle, org: OrgInfo, contactId: string, now: Date) {
  const segments = await db.$queryRaw<SegmentRow[]>`
    select id::text, name, description, rules, created_at, updated_at from segments where organization_id = ${org.id}::uuid order by name`;
  const out: Array<{ id: string; name: string; kind: "rules" | "static" }> = [];
  for (const row of segments) {
    let seg;
    try {
      seg = segmentFromRow(row, org, now, "one");
    } catch {
      continue; // a segment with invalid stored rules is reported by get_segment, not here
    }
    const hit = await db.$queryRaw<Array<{ ok: boolean }>>`
      select ${seg.member} as ok from contacts c where c.id = ${contactId}::uuid and c.organization_id = ${org.id}::uuid`;
    if (hit[0]?.ok) out.push({ id: row.id, name: row.name, kind: seg.kind });
  }
  return out;
}
