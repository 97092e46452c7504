// What the bulk-send tests share: n subscribed contacts with sandbox numbers that are delivered,
// in a new static segment of the organization.
import { randomUUID } from "node:crypto";
import type pg from "pg";

let serial = 1000 + Math.floor(Math.random() * 1000) * 10_000;

export async function bulkSegment(
  sql: pg.Client, orgId: string, o: { n: number; now: Date; zone?: string; country?: string; optedOut?: number; email?: boolean },
): Promise<{ id: string; contacts: string[] }> {
  const seg = randomUUID();
  await sql.query(`insert into segments (id, organization_id, name, created_at, updated_at) values ($1, $2, $3, now(), now())`, [seg, orgId, `bulk test ${seg.slice(0, 8)}`]);
  const rows: Array<Record<string, string | null>> = [];
  for (let i = 0; i < o.n; i++) {
    const s = serial++;
    // Never a special sandbox suffix (0002–0007): the last four digits are 1000–8999.
    rows.push({ id: randomUUID(), org: orgId, phone: `+2547${String(Math.floor(s / 8000)).padStart(4, "0")}${1000 + (s % 8000)}`, email: o.email ? `delivered+${s}@sandbox.marketsage.test` : null, country: o.country ?? "KE", zone: o.zone ?? "Africa/Nairobi" });
  }
  const ids = rows.map((r) => r.id!);
  await sql.query(
    `insert into contacts (id, organization_id, phone, email, first_name, country, time_zone)
     select x.id, x.org, x.phone, x.email, 'Amina', x.country, x.zone from json_to_recordset($1::json) as x(id uuid, org uuid, phone text, email text, country text, zone text)`,
    [JSON.stringify(rows)],
  );
  const at = new Date(o.now.getTime() - 86_400_000);
  await sql.query(
    `insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at)
     select $1, c, ch::"Channel", 'SUBSCRIBED', 'test', $3 from unnest($2::uuid[]) c, unnest(array['SMS', 'EMAIL', 'WHATSAPP']) ch`,
    [orgId, ids, at],
  );
  if (o.optedOut) {
    await sql.query(
      `insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at) select $1, c, 'SMS', 'UNSUBSCRIBED', 'test', $3 from unnest($2::uuid[]) c`,
      [orgId, ids.slice(0, o.optedOut), new Date(at.getTime() + 1000)],
    );
  }
  await sql.query(`insert into segment_members (segment_id, contact_id, organization_id, added_at) select $1, c, $2, now() from unnest($3::uuid[]) c`, [seg, orgId, ids]);
  return { id: seg, contacts: ids };
}

/** Polls `check` until it holds, or fails naming `what` after `ms`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, ms: number, everyMs = 100): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
