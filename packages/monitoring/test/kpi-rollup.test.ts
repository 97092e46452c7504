// message_kpi_slots (migration monitoring_rollups) equals the raw data: after the seed's rebuild,
// and after every kind of write its triggers follow — messages inserted with and without a cost,
// events one by one and many per statement, a message and its events in one statement (the
// send path's writable CTE), a cost recorded later, a message moved to another slot, events
// updated and deleted, a message deleted, inbound messages (never counted), and concurrent writers
// adding the same kind of event to the same messages. The reference is hand SQL over messages and
// message_events (per-message EXISTS), grouped by the slot written out here (15-minute floor).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
let sql: pg.Client;
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await sql.query(text, params)).rows as T[];

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url, options: "-c timezone=UTC" });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
});

type Row = { slot: string; channel: string; currency: string; sent: number; delivered: number; opened: number; clicked: number; costed: number; cost: string };

/** By hand: per slot (epoch seconds floored to 900), channel and currency, from messages and their events; slots with nothing to count left out. */
async function hand(orgId: string): Promise<Row[]> {
  return q<Row>(
    `select to_char(to_timestamp(floor(extract(epoch from m.created_at) / 900) * 900) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') slot, m.channel::text channel,
            coalesce(trim(m.currency), '') currency,
            count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type::text not in ('QUEUED', 'FAILED')))::int sent,
            count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type::text in ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED')))::int delivered,
            count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type::text in ('OPENED', 'CLICKED')))::int opened,
            count(*) filter (where exists (select 1 from message_events e where e.message_id = m.id and e.type::text = 'CLICKED'))::int clicked,
            count(m.cost)::int costed, coalesce(sum(m.cost), 0)::numeric(18,4)::text cost
       from messages m where m.organization_id = $1 and m.direction::text = 'OUTBOUND'
      group by 1, 2, 3
      -- A slot with only unsent, uncosted messages has nothing to count.
      having count(*) filter (where m.cost is not null or exists (select 1 from message_events e where e.message_id = m.id and e.type::text not in ('QUEUED', 'FAILED'))) > 0
      order by 1, 2, 3`,
    [orgId],
  );
}

/** The rollup, shards summed; slots whose counts all cancelled to zero are left out. */
async function rollup(orgId: string): Promise<Row[]> {
  return q<Row>(
    `select * from (
       select to_char(slot at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') slot, channel::text channel, currency,
              sum(sent)::int sent, sum(delivered)::int delivered, sum(opened)::int opened, sum(clicked)::int clicked, sum(costed)::int costed, sum(cost)::numeric(18,4)::text cost
         from message_kpi_slots where organization_id = $1 group by 1, 2, 3) x
      where (sent, delivered, opened, clicked, costed) <> (0, 0, 0, 0, 0) or cost::numeric <> 0
      order by 1, 2, 3`,
    [orgId],
  );
}

const expectEqual = async (orgId: string, step: string) => expect(await rollup(orgId), step).toEqual(await hand(orgId));

async function contactOf(orgId: string): Promise<string> {
  return (await q<{ id: string }>(`select id::text from contacts where organization_id = $1 order by id limit 1`, [orgId]))[0]!.id;
}

async function message(orgId: string, o: { at: string; channel?: string; cost?: number | null; currency?: string | null; direction?: string }): Promise<string> {
  const id = randomUUID();
  await q(
    `insert into messages (id, organization_id, contact_id, channel, direction, recipient, status, created_at, cost, currency)
     values ($1, $2, $3, $4::"Channel", $5::"MessageDirection", 'kpi@test.example', 'QUEUED', $6, $7, $8)`,
    [id, orgId, await contactOf(orgId), o.channel ?? "SMS", o.direction ?? "OUTBOUND", o.at, o.cost ?? null, o.currency ?? (o.cost == null ? null : "NGN")],
  );
  return id;
}

async function events(orgId: string, list: Array<[string, string, string]>): Promise<void> {
  // One statement for the whole list.
  await q(
    `insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at)
     select $1, m.id, m.contact_id, m.channel, x.t::"MessageEventType", x.at::timestamptz
       from unnest($2::uuid[], $3::text[], $4::text[]) x(mid, t, at) join messages m on m.id = x.mid`,
    [orgId, list.map((e) => e[0]), list.map((e) => e[1]), list.map((e) => e[2])],
  );
}

describe("message_kpi_slots", () => {
  it("equals the raw data after the seed's rebuild (every organization)", async () => {
    for (const org of DEMO_ORGS) {
      const h = await hand(org.id);
      expect(h.length).toBeGreaterThan(100);
      expect(await rollup(org.id)).toEqual(h);
    }
  });

  it("follows every kind of write, and a rebuild agrees", async () => {
    const T = "2026-11-20T10:07:00Z";
    const m1 = await message(A.id, { at: T, cost: 4.5 });
    const m2 = await message(A.id, { at: "2026-11-20T10:14:59.999Z", channel: "EMAIL" });
    const m3 = await message(A.id, { at: "2026-11-20T10:15:00Z", channel: "WHATSAPP", cost: 12, currency: "USD" });
    const inbound = await message(A.id, { at: T, direction: "INBOUND", cost: 1 });
    await expectEqual(A.id, "messages inserted");

    await events(A.id, [[m1, "QUEUED", T]]);
    await events(A.id, [[m1, "SENT", T], [m1, "DELIVERED", T], [m2, "SENT", T], [m2, "OPENED", T], [m2, "OPENED", T], [m2, "CLICKED", T], [inbound, "REPLIED", T]]);
    await events(A.id, [[m3, "FAILED", T]]);
    await expectEqual(A.id, "events, several per message in one statement");

    // The send path: a message and an event that gives flags, in one statement.
    const m4 = randomUUID();
    await q(
      `with m as (insert into messages (id, organization_id, contact_id, channel, direction, recipient, status, created_at, cost, currency)
                  values ($1, $2, $3, 'SMS', 'OUTBOUND', 'kpi@test.example', 'SENT', $4, 2.25, 'NGN') returning id, organization_id, contact_id, channel)
       insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) select organization_id, id, contact_id, channel, 'SENT', $4 from m`,
      [m4, A.id, await contactOf(A.id), T],
    );
    await expectEqual(A.id, "a message and its event in one statement");

    await q(`update messages set cost = 3.75, currency = 'NGN' where id = $1`, [m2]);
    await q(`update messages set status = 'DELIVERED', status_at = now() where id = any($1::uuid[])`, [[m1, m2, m3, m4]]);
    await expectEqual(A.id, "a cost recorded later; status updates");

    await q(`update messages set created_at = '2026-11-21T08:00:00Z' where id = $1`, [m1]);
    await q(`update messages set channel = 'SMS', currency = 'USD' where id = $1`, [m2]);
    await expectEqual(A.id, "messages moved to another slot, channel and currency");

    await q(`delete from message_events where message_id = $1 and type = 'CLICKED'`, [m2]);
    await expectEqual(A.id, "the click deleted (still opened)");
    await q(`update message_events set type = 'CLICKED' where id = (select min(id) from message_events where message_id = $1 and type = 'OPENED')`, [m2]);
    await expectEqual(A.id, "an open turned into a click");
    await q(`update message_events set type = 'QUEUED' where message_id = $1`, [m2]);
    await expectEqual(A.id, "every event of a message turned QUEUED");

    await q(`delete from message_events where message_id = $1`, [m1]);
    await q(`delete from messages where id = $1`, [m1]);
    await q(`delete from messages where id = $1`, [m3]); // its events stay (no foreign key): flags and cost go with the message
    await q(`delete from message_events where message_id = $1`, [m3]);
    await expectEqual(A.id, "messages deleted, before and after their events");

    await q(`select marketsage_rebuild_message_kpis($1)`, [A.id]);
    await expectEqual(A.id, "rebuilt");
  });

  it("concurrent writers adding the same kinds of event to the same messages count each message once", async () => {
    const at = "2026-11-22T12:00:00Z";
    const ids = await Promise.all(Array.from({ length: 20 }, () => message(A.id, { at, cost: 1 })));
    const pool = new pg.Pool({ connectionString: tdb.url, max: 8 });
    try {
      await Promise.all(
        Array.from({ length: 8 }, (_, w) =>
          (async () => {
            const c = await pool.connect();
            try {
              for (let k = 0; k < 5; k++) {
                await c.query("begin");
                const mine = w % 2 ? [...ids].reverse() : ids;
                await c.query(
                  `insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at)
                   select organization_id, id, contact_id, channel, t::"MessageEventType", $2 from messages, unnest(array['DELIVERED', 'OPENED']) t where id = any($1::uuid[])`,
                  [mine, at],
                );
                await c.query("commit");
              }
            } finally {
              c.release();
            }
          })(),
        ),
      );
    } finally {
      await pool.end();
    }
    const [s] = await q<{ shards: number }>(`select count(distinct shard)::int shards from message_kpi_slots where organization_id = $1 and slot = $2`, [A.id, at]);
    expect(s!.shards).toBeGreaterThan(1);
    await expectEqual(A.id, "after 8 concurrent writers");
  });
});
