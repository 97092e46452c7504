// contact_facts and contact_counts (migration contact_facts) are kept by triggers on contacts and
// message_events. Each change below goes through one trigger path, then both tables are compared
// with an independent computation from contacts and message_events (not the migration's functions).
import { describe, expect, it } from "vitest";
import { ORG_A, ORG_B, useCustomerData } from "./setup.ts";

const cd = useCustomerData();

const CHANNELS = ["EMAIL", "SMS", "WHATSAPP"];
const TYPES = ["SENT", "DELIVERED", "FAILED", "OPENED", "CLICKED", "REPLIED", "BOUNCED", "UNSUBSCRIBED"];
const LATEST = CHANNELS.flatMap((ch) => TYPES.map((t) => ({ col: `${ch}_${t}_at`.toLowerCase(), ch, t })));

/** Contacts whose facts row is missing or differs in any column, plus facts rows without a contact. */
const FACTS_DRIFT = `
  with l as (
    select e.contact_id, e.organization_id,
           ${LATEST.map((x) => `max(e.occurred_at) filter (where e.channel = '${x.ch}' and e.type = '${x.t}') as ${x.col}`).join(",\n           ")}
      from message_events e where e.contact_id is not null
     group by e.contact_id, e.organization_id)
  select ((select count(*) from contacts c
             left join contact_facts f on f.id = c.id
             left join l on l.contact_id = c.id and l.organization_id = c.organization_id
            where f.id is null
               or f.organization_id is distinct from c.organization_id
               or f.created_at is distinct from c.created_at
               or f.status is distinct from c.status
               or f.has_email is distinct from (c.email is not null)
               or f.has_phone is distinct from (c.phone is not null)
               or f.country is distinct from c.country
               or f.city is distinct from c.city
               or f.consent_email is distinct from c.consent_email
               or f.consent_sms is distinct from c.consent_sms
               or f.consent_whatsapp is distinct from c.consent_whatsapp
               or f.reach is distinct from (case when c.status = 'ACTIVE' and c.email is not null and c.consent_email = 'SUBSCRIBED' then 1 else 0 end
                                          + case when c.status = 'ACTIVE' and c.phone is not null and c.consent_sms = 'SUBSCRIBED' then 2 else 0 end
                                          + case when c.status = 'ACTIVE' and c.phone is not null and c.consent_whatsapp = 'SUBSCRIBED' then 4 else 0 end)
               ${LATEST.map((x) => `or f.${x.col} is distinct from l.${x.col}`).join("\n               ")})
        + (select count(*) from contact_facts f where not exists (select 1 from contacts c where c.id = f.id)))::int as differ`;

/** Organizations whose counted contacts differ from their contacts (no counts rows: counted 0). */
const COUNT_DRIFT = `
  select count(*)::int as differ from organizations o
   where (select count(*) from contacts c where c.organization_id = o.id)
      <> (select coalesce(sum(k.n), 0) from contact_counts k where k.organization_id = o.id)`;

/** Contacts whose last_delivered_at / last_engaged_at differ from their own organization's events. */
const ENGAGEMENT_DRIFT = `
  select count(*)::int as differ from contacts c
    left join (select contact_id, organization_id, max(occurred_at) filter (where type = 'DELIVERED') d,
                      max(occurred_at) filter (where type in ('OPENED', 'CLICKED', 'REPLIED')) g
                 from message_events where contact_id is not null group by 1, 2) e on e.contact_id = c.id and e.organization_id = c.organization_id
   where c.last_delivered_at is distinct from e.d or c.last_engaged_at is distinct from e.g`;

/** (organization, tag, contact) rows in contact_tags but not in contacts.tags, and the other way round. */
const TAGS_DRIFT = `
  with want as (select distinct c.organization_id, t.tag, c.id as contact_id from contacts c, unnest(c.tags) t(tag) where t.tag is not null),
       have as (select organization_id, tag, contact_id from contact_tags)
  select ((select count(*) from (select * from want except select * from have) a) + (select count(*) from (select * from have except select * from want) b))::int as differ`;

const drift = async () => {
  const [facts, counts, engagement, tags] = await Promise.all([FACTS_DRIFT, COUNT_DRIFT, ENGAGEMENT_DRIFT, TAGS_DRIFT].map(async (q) => (await cd.q(q))[0].differ));
  expect({ engagement, tags }).toEqual({ engagement: 0, tags: 0 });
  return { facts, counts };
};
const facts = async (id: string) => (await cd.q(`select * from contact_facts where id = $1`, [id]))[0];
const counted = async (org = ORG_A.id) => Number((await cd.q(`select coalesce(sum(n), 0)::int n from contact_counts where organization_id = $1`, [org]))[0].n);
const someContact = async (where: string, skip: string[] = []) =>
  (await cd.q(`select id::text from contacts c where organization_id = $1 and not (id::text = any($2)) and ${where} order by id limit 1`, [ORG_A.id, skip]))[0].id as string;
const anyMessage = async () => (await cd.q(`select id::text from messages where organization_id = $1 order by id limit 1`, [ORG_A.id]))[0].id as string;
const at = (ms: number) => new Date(cd.now.getTime() + ms);
const DAY = 86_400_000;

// Shared by the event tests (5, 6) and the deletions (7): the contact the events were added to.
let x: string;
let newer: Date;
let clicked: Date;
let previousOpened: Date | null;
let inserted: string[] = [];

describe("contact_facts and contact_counts equal contacts and message_events", () => {
  it("after the seed (bulk load, then the rebuild)", async () => {
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
    const [{ n }] = await cd.q(`select count(*)::int n from contact_facts where email_opened_at is not null`);
    expect(n).toBeGreaterThan(100);
  });

  it("a consent change through update_customer_consent (contacts row trigger, via consent_events)", async () => {
    const id = await someContact(`status = 'ACTIVE' and email is not null and consent_email = 'SUBSCRIBED'`);
    expect((await facts(id)).reach & 1).toBe(1);
    await cd.call("AI_AGENT", "update_customer_consent", { id, channel: "EMAIL", action: "unsubscribe", source: "test", reason: "facts" });
    const f = await facts(id);
    expect(f.reach & 1).toBe(0);
    expect(f.consent_email).toBe("UNSUBSCRIBED");
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });

  it("profile updates by SQL (country, city, status, email, tags)", async () => {
    const id = await someContact(`status = 'ACTIVE' and email is not null and country <> 'KE' and cardinality(tags) > 0`);
    await cd.q(`update contacts set country = 'KE', city = 'Mombasa' where id = $1`, [id]);
    await cd.q(`update contacts set status = 'ARCHIVED', email = null, tags = array['vip', 'vip', null, 'lagos-store'] where id = $1`, [id]);
    const f = await facts(id);
    expect(f).toMatchObject({ country: "KE", city: "Mombasa", status: "ARCHIVED", has_email: false, reach: 0 });
    const tags = (await cd.q(`select tag from contact_tags where contact_id = $1 order by tag`, [id])).map((r) => r.tag);
    expect(tags).toEqual(["lagos-store", "vip"]);
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });

  it("new contacts in one multi-row insert, one of them with events recorded before it existed", async () => {
    const before = await counted();
    const [{ early }] = await cd.q(`select gen_random_uuid()::text early`);
    // message_events.contact_id has no foreign key: an event may name a contact created later.
    await cd.q(`insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values ($1, $2, $3, 'SMS', 'DELIVERED', $4)`, [
      ORG_A.id, await anyMessage(), early, at(-DAY),
    ]);
    const rows = await cd.q(
      `insert into contacts (id, organization_id, email, phone, country, time_zone, consent_email, consent_sms, tags)
       values ($2, $1, 'facts-1@example.test', '+2348000000001', 'NG', 'Africa/Lagos', 'SUBSCRIBED', 'SUBSCRIBED', array['vip', 'b2b']),
              (gen_random_uuid(), $1, 'facts-2@example.test', null, 'GH', 'Africa/Accra', 'SUBSCRIBED', null, default),
              (gen_random_uuid(), $1, null, '+254700000003', 'KE', 'Africa/Nairobi', null, 'UNSUBSCRIBED', default)
       returning id::text`,
      [ORG_A.id, early],
    );
    inserted = rows.map((r) => r.id);
    const [{ n }] = await cd.q(`select count(*)::int n from contact_facts where id::text = any($1)`, [inserted]);
    expect(n).toBe(3);
    expect((await facts(early)).reach).toBe(3);
    expect((await cd.q(`select tag from contact_tags where contact_id = $1 order by tag`, [early])).map((r) => r.tag)).toEqual(["b2b", "vip"]);
    expect((await facts(early)).sms_delivered_at.getTime()).toBe(at(-DAY).getTime());
    expect(await counted()).toBe(before + 3);
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });

  it("new message events in one multi-row insert move the latest columns forward, never back", async () => {
    x = await someContact(`exists (select 1 from message_events e where e.contact_id = c.id and e.channel = 'EMAIL' and e.type = 'OPENED')`);
    const f = await facts(x);
    previousOpened = f.email_opened_at;
    expect(previousOpened).not.toBeNull();
    const [{ latest }] = await cd.q(`select max(occurred_at) latest from message_events where contact_id = $1`, [x]);
    newer = new Date(Math.max(latest.getTime(), cd.now.getTime()) + 60_000);
    clicked = new Date(newer.getTime() - 1000);
    const older = new Date(previousOpened!.getTime() - DAY);
    const m = await anyMessage();
    await cd.q(
      `insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values
         ($1, $2, $3, 'EMAIL', 'OPENED', $4), ($1, $2, $3, 'EMAIL', 'OPENED', $5), ($1, $2, $3, 'WHATSAPP', 'CLICKED', $6),
         ($1, $2, $3, 'EMAIL', 'QUEUED', $7), ($1, $2, null, 'EMAIL', 'OPENED', $7)`,
      [ORG_A.id, m, x, newer, older, clicked, new Date(newer.getTime() + 60_000)],
    );
    // Neither an older event in a later statement nor another organization's event naming x counts.
    const one = `insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values ($1, $2, $3, $4, $5, $6)`;
    await cd.q(one, [ORG_A.id, m, x, "EMAIL", "OPENED", older]);
    await cd.q(one, [ORG_B.id, m, x, "EMAIL", "REPLIED", newer]);
    const g = await facts(x);
    expect(g.email_opened_at.getTime()).toBe(newer.getTime());
    expect(g.whatsapp_clicked_at.getTime()).toBe(clicked.getTime());
    expect(g.email_sent_at?.getTime()).toBe(f.email_sent_at?.getTime()); // QUEUED is not SENT
    expect(g.email_replied_at?.getTime()).toBe(f.email_replied_at?.getTime());
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });

  it("deleting an event falls back to the previous one; moving an event recomputes both contacts", async () => {
    await cd.q(`delete from message_events where contact_id = $1 and type = 'OPENED' and channel = 'EMAIL' and occurred_at = $2`, [x, newer]);
    expect((await facts(x)).email_opened_at.getTime()).toBe(previousOpened!.getTime());
    expect(await drift()).toEqual({ facts: 0, counts: 0 });

    const y = await someContact(`not exists (select 1 from message_events e where e.contact_id = c.id and e.channel = 'WHATSAPP' and e.type = 'CLICKED')`, [x]);
    const [{ prior }] = await cd.q(
      `select max(occurred_at) prior from message_events where contact_id = $1 and channel = 'WHATSAPP' and type = 'CLICKED' and occurred_at <> $2`, [x, clicked],
    );
    await cd.q(`update message_events set contact_id = $2 where contact_id = $1 and channel = 'WHATSAPP' and type = 'CLICKED' and occurred_at = $3`, [x, y, clicked]);
    expect((await facts(x)).whatsapp_clicked_at?.getTime() ?? null).toBe(prior?.getTime() ?? null);
    expect((await facts(y)).whatsapp_clicked_at.getTime()).toBe(clicked.getTime());
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });

  it("deleting contacts (one statement) removes their facts rows and their count", async () => {
    // Only contact_facts references contacts (cascade), so seeded contacts with history can go.
    // The seeded contact is never one of the inserted ones (a random id may sort first).
    const gone = [await someContact(`true`, [x, ...inserted]), inserted[1]!];
    const before = await counted();
    await cd.q(`delete from contacts where id::text = any($1)`, [gone]);
    const [{ n }] = await cd.q(`select count(*)::int n from contact_facts where id::text = any($1)`, [gone]);
    expect(n).toBe(0);
    expect(await counted()).toBe(before - 2);
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });

  it("a contact moved to another organization, or given a new id, keeps only the events it now owns", async () => {
    // Its ORG_A events stay ORG_A's: in ORG_B the contact has no latest email open.
    const moved = await someContact(`exists (select 1 from message_events e where e.contact_id = c.id and e.channel = 'EMAIL' and e.type = 'OPENED')`, [x]);
    const [a, b] = [await counted(ORG_A.id), await counted(ORG_B.id)];
    await cd.q(`update contacts set organization_id = $2 where id = $1`, [moved, ORG_B.id]);
    expect((await facts(moved)).email_opened_at).toBeNull();
    expect([await counted(ORG_A.id), await counted(ORG_B.id)]).toEqual([a - 1, b + 1]);
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
    // A new id (the events still name the old one) reaches the facts row with the profile change.
    const renamed = await someContact(`exists (select 1 from message_events e where e.contact_id = c.id and e.channel = 'EMAIL' and e.type = 'OPENED')`, [x, moved]);
    const [{ id: fresh }] = await cd.q(`update contacts set id = gen_random_uuid(), country = 'ZA' where id = $1 returning id::text`, [renamed]);
    expect(await facts(renamed)).toBeUndefined();
    expect(await facts(fresh)).toMatchObject({ country: "ZA", email_opened_at: null });
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });

  it("the bulk rebuild gives the same rows and count as the triggers did", async () => {
    const snapshot = async () =>
      (await cd.q(`select count(*)::int n, md5(string_agg(f::text, ',' order by id)) h from contact_facts f where organization_id = $1`, [ORG_A.id]))[0];
    const before = await snapshot();
    const n = await counted();
    expect(before.n).toBeGreaterThan(100);
    await cd.q(`select marketsage_rebuild_contact_facts($1)`, [ORG_A.id]);
    expect(await snapshot()).toEqual(before);
    expect(await counted()).toBe(n);
    expect(await drift()).toEqual({ facts: 0, counts: 0 });
  });
});
