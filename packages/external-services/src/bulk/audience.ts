// Who a bulk send goes to: a saved segment's members (as customer-data last evaluated them) or a
// list of the organization's contacts — the contact ids in a fixed order, and a hash of that list
// that binds a confirmation token to it (a changed segment needs a new dry run).
import { createHash } from "node:crypto";
import { UserError, type DbHandle } from "@marketsage/core";

/** A rule segment's stored membership may be this old before a send refuses it as stale. */
export const MAX_MEMBERSHIP_AGE_MS = 24 * 3600_000;
/** Largest audience of one bulk send. */
export const MAX_AUDIENCE = 1_000_000;

export interface Audience {
  kind: "segment" | "contacts";
  segmentId: string | null;
  segmentName: string | null;
  /** Rule segments: when customer-data last evaluated the membership. */
  evaluatedAt: Date | null;
  contactIds: string[];
  /** Contact ids asked for that are not the organization's (contact lists). */
  unknown: string[];
  hash: string;
}

const hashOf = (ids: readonly string[]) => {
  const h = createHash("sha256");
  for (const id of ids) h.update(id).update(",");
  return h.digest("hex");
};

export async function snapshotAudience(db: DbHandle, orgId: string, q: { segmentId?: string | undefined; contactIds?: readonly string[] | undefined; now: Date }): Promise<Audience> {
  if (!!q.segmentId === !!q.contactIds) throw new UserError("Give either segment_id (a saved segment) or contact_ids (a list of contacts), not both.");
  if (q.segmentId) {
    const [s] = await db.$queryRaw<Array<{ id: string; name: string; rules: unknown; members_evaluated_at: Date | null }>>`
      select id::text, name, rules, members_evaluated_at from segments where id = ${q.segmentId}::uuid and organization_id = ${orgId}::uuid`;
    if (!s) throw new UserError(`no segment ${q.segmentId} in this organization: list_segments (customer-data) shows them.`);
    const rules = s.rules !== null && s.rules !== undefined;
    if (rules && (!s.members_evaluated_at || q.now.getTime() - s.members_evaluated_at.getTime() > MAX_MEMBERSHIP_AGE_MS)) {
      throw new UserError(
        `segment "${s.name}" is a rule segment whose members were ${s.members_evaluated_at ? `last evaluated at ${s.members_evaluated_at.toISOString()}` : "never evaluated"}: call get_segment (customer-data) on it to bring its members up to date, then send.`,
        { reason: "stale_segment" },
      );
    }
    const rows = await db.$queryRaw<Array<{ contact_id: string }>>`
      select m.contact_id::text as contact_id from segment_members m join contacts c on c.id = m.contact_id and c.organization_id = ${orgId}::uuid
       where m.segment_id = ${s.id}::uuid and m.organization_id = ${orgId}::uuid and m.removed_at is null
       order by m.contact_id
       limit ${MAX_AUDIENCE + 1}`;
    if (rows.length > MAX_AUDIENCE) throw new UserError(`segment "${s.name}" has more than ${MAX_AUDIENCE.toLocaleString("en")} members: split it.`);
    const ids = rows.map((r) => r.contact_id);
    return { kind: "segment", segmentId: s.id, segmentName: s.name, evaluatedAt: rules ? s.members_evaluated_at : null, contactIds: ids, unknown: [], hash: hashOf(ids) };
  }
  const asked = [...new Set(q.contactIds!.map((s) => s.toLowerCase()))].sort();
  const rows = await db.$queryRaw<Array<{ id: string }>>`select id::text from contacts where organization_id = ${orgId}::uuid and id = any(${asked}::uuid[]) order by id`;
  const ids = rows.map((r) => r.id);
  const known = new Set(ids);
  return { kind: "contacts", segmentId: null, segmentName: null, evaluatedAt: null, contactIds: ids, unknown: asked.filter((a) => !known.has(a)), hash: hashOf(ids) };
}
