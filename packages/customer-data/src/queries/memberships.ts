import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { SEGMENT_COLUMNS, segmentFromRow, type LoadedSegment, type SegmentRow } from "../segments/membership.ts";

/** The saved segments this contact belongs to now (static lists; rule segments checked live against the rules), in one statement. */
export async function segmentsOf(db: DbHandle, org: OrgInfo, contactId: string, now: Date) {
  const rows = await db.$queryRaw<SegmentRow[]>`
    select ${SEGMENT_COLUMNS} from segments where organization_id = ${org.id}::uuid order by name`;
  const segments: LoadedSegment[] = [];
  for (const row of rows) {
    try {
      segments.push(segmentFromRow(row, org, now, "one"));
    } catch {
      // a segment with invalid stored rules is reported by get_segment, not here
    }
  }
  if (segments.length === 0) return [];
  const [hit] = await db.$queryRaw<Array<{ hits: boolean[] }>>`
    select array[${Prisma.join(segments.map((s) => Prisma.sql`coalesce(${s.member}, false)`))}] as hits
      from contacts c where c.id = ${contactId}::uuid and c.organization_id = ${org.id}::uuid`;
  return segments.filter((_, i) => hit?.hits[i] === true).map((s) => ({ id: s.row.id, name: s.row.name, kind: s.kind }));
}
