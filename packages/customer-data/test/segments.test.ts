import { describe, expect, it } from "vitest";
import { openDb } from "@marketsage/db";
import { compileRule } from "../src/segments/compile.ts";
import { parseRule } from "../src/segments/rules.ts";
import { ORG_A, useCustomerData } from "./setup.ts";

const cd = useCustomerData();

// Current consent from the append-only history, independently of the contacts.consent_* columns.
const REACH_SQL = (channel: string, address: string) => `
  count(*) filter (where c.status = 'ACTIVE' and c.${address} is not null and
    (select ce.action from consent_events ce where ce.contact_id = c.id and ce.channel = '${channel}'
      order by ce.occurred_at desc, ce.id desc limit 1) = 'SUBSCRIBED')::int`;

describe("segments", () => {
  it("list_segments counts members like independent SQL", async () => {
    const r = await cd.call("ADMIN", "list_segments", { limit: 50 });
    expect(r.segments.length).toBeGreaterThan(0);
    const statics = r.segments.filter((s: { kind: string }) => s.kind === "static");
    expect(statics.length).toBeGreaterThan(0);
    for (const s of statics) {
      const [{ n }] = await cd.q(`select count(*)::int n from segment_members where segment_id = $1 and removed_at is null`, [s.id]);
      expect(s.member_count).toBe(n);
    }
    const names = r.segments.map((s: { name: string }) => s.name);
    expect([...names].sort()).toEqual(names);
  });

  it("get_segment: size, reachability, growth and engagement of a static list match hand-written SQL", async () => {
    const [seg] = await cd.q(
      `select s.id::text from segments s where s.organization_id = $1 and s.rules is null
        order by (select count(*) from segment_members m where m.segment_id = s.id) desc limit 1`,
      [ORG_A.id],
    );
    const now = cd.now;
    const from = new Date(now.getTime() - 90 * 86_400_000);
    const r = await cd.call("ADMIN", "get_segment", { id: seg.id, range: { preset: "90d" } });
    const [exp] = await cd.q(
      `select count(*)::int as members, ${REACH_SQL("EMAIL", "email")} as email, ${REACH_SQL("SMS", "phone")} as sms, ${REACH_SQL("WHATSAPP", "phone")} as whatsapp
         from contacts c join segment_members m on m.contact_id = c.id and m.segment_id = $1 and m.removed_at is null`,
      [seg.id],
    );
    expect(r.member_count).toBe(exp.members);
    expect(r.reachability).toEqual({ email: exp.email, sms: exp.sms, whatsapp: exp.whatsapp });
    const [g] = await cd.q(
      `select count(*) filter (where added_at < $2 and (removed_at is null or removed_at >= $2))::int s,
              count(*) filter (where added_at < $3 and (removed_at is null or removed_at >= $3))::int e,
              count(*) filter (where added_at >= $2 and added_at < $3)::int a,
              count(*) filter (where removed_at >= $2 and removed_at < $3)::int r
         from segment_members where segment_id = $1`,
      [seg.id, from, now],
    );
    expect(r.growth).toMatchObject({ start_count: g.s, end_count: g.e, added: g.a, removed: g.r, net: g.e - g.s });
    const [e] = await cd.q(
      `with m as (select contact_id from segment_members where segment_id = $1 and removed_at is null),
            d as (select distinct contact_id from message_events where type = 'DELIVERED' and occurred_at >= $2 and occurred_at < $3 and contact_id in (select contact_id from m)),
            x as (select distinct contact_id from message_events where type in ('OPENED','CLICKED','REPLIED') and occurred_at >= $2 and occurred_at < $3 and contact_id in (select contact_id from d))
       select (select count(*) from d)::int messaged, (select count(*) from x)::int engaged`,
      [seg.id, from, now],
    );
    expect(r.engagement.members_messaged).toBe(e.messaged);
    expect(r.engagement.members_engaged).toBe(e.engaged);
    expect(r.range.preset).toBe("90d");
  });

  it("get_segment of a rule segment equals preview_segment of its rules", async () => {
    const [seg] = await cd.q(`select id::text, rules from segments where organization_id = $1 and rules is not null order by name limit 1`, [ORG_A.id]);
    const got = await cd.call("ADMIN", "get_segment", { id: seg.id, include_members: true, members_limit: 5 });
    const preview = await cd.call("ADMIN", "preview_segment", { rules: seg.rules, sample_size: 5 });
    expect(got.kind).toBe("rules");
    expect(got.member_count).toBe(preview.count);
    expect(got.reachability).toEqual(preview.reachability);
    expect(preview.sample.length).toBe(Math.min(5, preview.count));
    expect(preview.sample.length).toBeGreaterThan(0);
    expect(got.members.items.map((m: { id: string }) => m.id)).toEqual(preview.sample.map((m: { id: string }) => m.id));
  });

  it("a profile lists exactly the segments that hold the customer (static lists and rules, checked set-wise)", async () => {
    const db = openDb(cd.url, { max: 1 });
    try {
      const segs = await cd.q(`select id::text, name, rules from segments where organization_id = $1`, [ORG_A.id]);
      const holders = new Map<string, Set<string>>();
      for (const seg of segs) {
        const rows = seg.rules
          ? await db.$queryRaw<Array<{ id: string }>>`select c.id::text from contacts c where c.organization_id = ${ORG_A.id}::uuid
              and ${compileRule(parseRule(seg.rules), { orgId: ORG_A.id, currency: ORG_A.reportingCurrency, now: cd.now })}`
          : await cd.q<{ id: string }>(`select contact_id::text id from segment_members where segment_id = $1 and removed_at is null`, [seg.id]);
        holders.set(seg.id, new Set(rows.map((r) => r.id)));
      }
      const picks = await cd.q(`select id::text from contacts where organization_id = $1 order by hashtext(id::text) limit 25`, [ORG_A.id]);
      let memberships = 0;
      for (const { id } of picks) {
        const p = await cd.call("ADMIN", "get_customer_profile", { id, timeline_limit: 1 });
        const expected = segs.filter((s) => holders.get(s.id)!.has(id)).map((s) => s.id).sort();
        expect(p.segments.map((s: { id: string }) => s.id).sort()).toEqual(expected);
        memberships += expected.length;
      }
      expect(memberships).toBeGreaterThan(0);
    } finally {
      await db.$disconnect();
    }
  });

  it("refuses an unknown segment id, and another organization's segment", async () => {
    const r = await cd.callRaw("ADMIN", "get_segment", { id: "00000000-0000-4000-8000-000000000000" });
    expect(r.isError).toBe(true);
    const [other] = await cd.q(`select id::text from segments where organization_id <> $1 limit 1`, [ORG_A.id]);
    const r2 = await cd.callRaw("SUPER_ADMIN", "get_segment", { id: other.id });
    expect(r2.isError).toBe(true);
    expect(JSON.stringify(r2.content)).toMatch(/NOT_FOUND/);
  });

  describe("engagement over a range, from the latest-event columns or from the events", () => {
    const ENGAGEMENT_SQL = `
      with m as (select contact_id from segment_members where segment_id = $1 and removed_at is null),
           d as (select distinct contact_id from message_events where type = 'DELIVERED' and occurred_at >= $2 and occurred_at < $3 and contact_id in (select contact_id from m)),
           x as (select distinct contact_id from message_events where type in ('OPENED','CLICKED','REPLIED') and occurred_at >= $2 and occurred_at < $3 and contact_id in (select contact_id from d))
      select (select count(*) from d)::int messaged, (select count(*) from x)::int engaged`;
    const biggestStatic = async () =>
      (
        await cd.q(
          `select s.id::text from segments s where s.organization_id = $1 and s.rules is null
            order by (select count(*) from segment_members m where m.segment_id = s.id) desc limit 1`,
          [ORG_A.id],
        )
      )[0].id as string;

    it("the trigger-kept columns equal the maxima over the events for every contact", async () => {
      const [{ differ, with_events }] = await cd.q(
        `with agg as (select contact_id, max(occurred_at) filter (where type = 'DELIVERED') d,
                             max(occurred_at) filter (where type in ('OPENED','CLICKED','REPLIED')) g
                        from message_events where contact_id is not null group by contact_id)
         select count(*) filter (where c.last_delivered_at is distinct from agg.d or c.last_engaged_at is distinct from agg.g)::int differ,
                count(agg.contact_id)::int with_events
           from contacts c left join agg on agg.contact_id = c.id`,
      );
      expect(with_events).toBeGreaterThan(0);
      expect(differ).toBe(0);
    });

    it("a range that ended in the past is computed from the events, like SQL", async () => {
      const id = await biggestStatic();
      const from = new Date(cd.now.getTime() - 120 * 86_400_000);
      const to = new Date(cd.now.getTime() - 60 * 86_400_000);
      const r = await cd.call("ADMIN", "get_segment", { id, range: { from: from.toISOString(), to: to.toISOString() } });
      const [e] = await cd.q(ENGAGEMENT_SQL, [id, from, to]);
      expect(e.messaged).toBeGreaterThan(0);
      expect(r.engagement).toMatchObject({ members_messaged: e.messaged, members_engaged: e.engaged });
    });

    it("stays exact when a member delivered in the range also has events after it (kept by the trigger)", async () => {
      const id = await biggestStatic();
      const [m] = await cd.q(
        `select m.contact_id::text, msg.id::text as message_id, msg.channel::text as channel from segment_members m
           join messages msg on msg.contact_id = m.contact_id
          where m.segment_id = $1 and m.removed_at is null and m.contact_id in (
            select contact_id from message_events where contact_id is not null and type = 'DELIVERED'
               and occurred_at >= $2::timestamptz - interval '29 days' and occurred_at < $2)
          limit 1`,
        [id, cd.now],
      );
      const later = new Date(cd.now.getTime() + 60_000);
      await cd.q(
        `insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at)
         values ($1, $2, $3, $4::"Channel", 'DELIVERED', $5), ($1, $2, $3, $4::"Channel", 'OPENED', $5)`,
        [ORG_A.id, m.message_id, m.contact_id, m.channel, later],
      );
      const [c] = await cd.q(`select last_delivered_at, last_engaged_at from contacts where id = $1`, [m.contact_id]);
      expect(c.last_delivered_at.getTime()).toBe(later.getTime());
      expect(c.last_engaged_at.getTime()).toBe(later.getTime());
      const r = await cd.call("ADMIN", "get_segment", { id, range: { preset: "30d" } });
      const [e] = await cd.q(ENGAGEMENT_SQL, [id, new Date(r.range.from), new Date(r.range.to)]);
      expect(r.engagement).toMatchObject({ members_messaged: e.messaged, members_engaged: e.engaged });
    });
  });
});
