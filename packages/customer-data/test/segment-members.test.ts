// Stored member lists: rule segments evaluated into segment_members (max_age_seconds), and the
// contact state copied onto member rows by triggers — checked against the contacts and the rules.
import { describe, expect, it } from "vitest";
import { openDb } from "@marketsage/db";
import { compileRule } from "../src/segments/compile.ts";
import { parseRule } from "../src/segments/rules.ts";
import { ORG_A, useCustomerData } from "./setup.ts";

const cd = useCustomerData();

/** Every current member row whose copied state differs from its contact's (expected: none). */
const STATE_DRIFT = `
  select count(*)::int as differ
    from segment_members m join contacts c on c.id = m.contact_id
   where m.removed_at is null and (
         m.contact_created_at is distinct from c.created_at
      or m.last_delivered_at is distinct from c.last_delivered_at
      or m.last_engaged_at is distinct from c.last_engaged_at
      or m.reach <> (case when c.status = 'ACTIVE' and c.email is not null and c.consent_email = 'SUBSCRIBED' then 1 else 0 end
                   + case when c.status = 'ACTIVE' and c.phone is not null and c.consent_sms = 'SUBSCRIBED' then 2 else 0 end
                   + case when c.status = 'ACTIVE' and c.phone is not null and c.consent_whatsapp = 'SUBSCRIBED' then 4 else 0 end))`;

/** Contacts matching the segment's rules now, evaluated live (independently of segment_members). */
async function liveMembers(rules: unknown): Promise<Set<string>> {
  const db = openDb(cd.url, { max: 1 });
  try {
    const rows = await db.$queryRaw<Array<{ id: string }>>`select c.id::text from contacts c where c.organization_id = ${ORG_A.id}::uuid
      and ${compileRule(parseRule(rules), { orgId: ORG_A.id, currency: ORG_A.reportingCurrency, now: cd.now })}`;
    return new Set(rows.map((r) => r.id));
  } finally {
    await db.$disconnect();
  }
}

const storedMembers = async (segmentId: string) =>
  new Set((await cd.q<{ id: string }>(`select contact_id::text id from segment_members where segment_id = $1 and removed_at is null`, [segmentId])).map((r) => r.id));

describe("member rows carry their contact's state", () => {
  it("for every current member, after the seed (reach bits, sign-up time, latest delivery and engagement)", async () => {
    const [{ n }] = await cd.q(`select count(*)::int n from segment_members where removed_at is null`);
    const [{ differ }] = await cd.q(STATE_DRIFT);
    expect(n).toBeGreaterThan(100);
    expect(differ).toBe(0);
  });

  it("a consent change reaches the member rows and get_segment's reachability at once", async () => {
    const [m] = await cd.q(
      `select m.segment_id::text, m.contact_id::text from segment_members m join contacts c on c.id = m.contact_id join segments s on s.id = m.segment_id
        where s.organization_id = $1 and s.rules is null and m.removed_at is null and c.status = 'ACTIVE' and c.email is not null and c.consent_email = 'SUBSCRIBED'
        order by m.contact_id limit 1`,
      [ORG_A.id],
    );
    const before = await cd.call("ADMIN", "get_segment", { id: m.segment_id });
    await cd.call("AI_AGENT", "update_customer_consent", { id: m.contact_id, channel: "EMAIL", action: "unsubscribe", source: "test", reason: "member state" });
    const after = await cd.call("ADMIN", "get_segment", { id: m.segment_id });
    expect(after.reachability.email).toBe(before.reachability.email - 1);
    expect(after.reachability.sms).toBe(before.reachability.sms);
    const [{ differ }] = await cd.q(STATE_DRIFT);
    expect(differ).toBe(0);
  });

  it("a new message event reaches the member rows (latest delivery), through the contacts trigger", async () => {
    const [m] = await cd.q(
      `select m.contact_id::text, msg.id::text as message_id, msg.channel::text as channel from segment_members m
         join messages msg on msg.contact_id = m.contact_id where m.organization_id = $1 and m.removed_at is null order by m.contact_id limit 1`,
      [ORG_A.id],
    );
    const at = new Date(cd.now.getTime() - 1000);
    await cd.q(`insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values ($1, $2, $3, $4::"Channel", 'DELIVERED', $5)`, [
      ORG_A.id, m.message_id, m.contact_id, m.channel, at,
    ]);
    const rows = await cd.q(`select last_delivered_at from segment_members where contact_id = $1 and removed_at is null`, [m.contact_id]);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.last_delivered_at.getTime()).toBe(at.getTime());
  });
});

describe("rule segments keep their members", () => {
  const segmentByName = async (name: string) =>
    (await cd.q(`select id::text, rules from segments where organization_id = $1 and name = $2`, [ORG_A.id, name]))[0] as { id: string; rules: unknown };

  it("every rule segment's stored list equals its rules evaluated live (the seed evaluated them)", async () => {
    const segs = await cd.q<{ id: string; rules: unknown; members_evaluated_at: Date | null }>(
      `select id::text, rules, members_evaluated_at from segments where organization_id = $1 and rules is not null`,
      [ORG_A.id],
    );
    expect(segs.length).toBeGreaterThan(2);
    for (const s of segs) {
      expect(s.members_evaluated_at?.getTime()).toBe(cd.now.getTime());
      expect([...(await storedMembers(s.id))].sort()).toEqual([...(await liveMembers(s.rules))].sort());
    }
  });

  it("a change leaves the stored list alone within max_age_seconds, and max_age_seconds 0 brings it up to date (removed, then back)", async () => {
    const seg = await segmentByName("WhatsApp-first Nigeria & Ghana");
    const start = await cd.call("ADMIN", "get_segment", { id: seg.id, max_age_seconds: 0 });
    expect(start.kind).toBe("rules");
    expect(start.members_evaluated_at).toBe(cd.now.toISOString());
    expect(start.member_count).toBe((await liveMembers(seg.rules)).size);
    const [x] = [...(await storedMembers(seg.id))].sort();

    await cd.call("AI_AGENT", "update_customer_consent", { id: x, channel: "WHATSAPP", action: "unsubscribe", source: "test" });
    // Within the default max age the stored list stands (it was evaluated at this same clock)...
    const cached = await cd.call("ADMIN", "get_segment", { id: seg.id });
    expect(cached.member_count).toBe(start.member_count);
    // ...though the member's reachability is current.
    expect(cached.reachability.whatsapp).toBe(start.reachability.whatsapp - 1);

    const fresh = await cd.call("ADMIN", "get_segment", { id: seg.id, max_age_seconds: 0 });
    expect(fresh.member_count).toBe(start.member_count - 1);
    expect(fresh.member_count).toBe((await liveMembers(seg.rules)).size);
    const [gone] = await cd.q(`select removed_at from segment_members where segment_id = $1 and contact_id = $2`, [seg.id, x]);
    expect(gone.removed_at.getTime()).toBe(cd.now.getTime());

    await cd.call("AI_AGENT", "update_customer_consent", { id: x, channel: "WHATSAPP", action: "subscribe", source: "test" });
    const back = await cd.call("ADMIN", "list_segments", { max_age_seconds: 0, limit: 50 });
    expect(back.segments.find((s: { id: string }) => s.id === seg.id).member_count).toBe(start.member_count);
    const [row] = await cd.q(`select removed_at, added_at, reach from segment_members where segment_id = $1 and contact_id = $2`, [seg.id, x]);
    expect(row.removed_at).toBeNull();
    expect(row.reach & 4).toBe(4);
    expect([...(await storedMembers(seg.id))].sort()).toEqual([...(await liveMembers(seg.rules))].sort());
  });

  it("rules saved after the last evaluation are evaluated on the next read, whatever the max age", async () => {
    const seg = await segmentByName("Pricing page returners");
    const rules = { behavior: "visited", url_pattern: "/pricing", min_count: 1, within_days: 90 };
    await cd.q(`update segments set rules = $2::jsonb, updated_at = $3 where id = $1`, [seg.id, JSON.stringify(rules), new Date(cd.now.getTime() + 1)]);
    const r = await cd.call("ADMIN", "get_segment", { id: seg.id, max_age_seconds: 86_400 });
    expect(r.member_count).toBe((await liveMembers(rules)).size);
    expect(r.member_count).toBeGreaterThan(0);
  });
});
