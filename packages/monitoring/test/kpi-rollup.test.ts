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
import { testRuntime, useTestDatabase } from "@marketsage/core/testing";
import { kpiSeries } from "../src/kpi/index.ts";

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

/** By hand: each organization's (local day, contact) pairs with an engagement, and the counts per day. */
async function handActive(orgId: string): Promise<{ pairs: number; days: Array<{ day: string; n: number }> }> {
  const src = `select distinct to_char(a.occurred_at at time zone g.time_zone, 'YYYY-MM-DD') as day, a.contact_id
       from (select organization_id, contact_id, occurred_at from message_events where type::text in ('OPENED', 'CLICKED', 'REPLIED') and contact_id is not null
             union all select organization_id, contact_id, occurred_at from touchpoints where contact_id is not null
             union all select organization_id, contact_id, occurred_at from conversions where contact_id is not null) a
       join organizations g on g.id = a.organization_id where a.organization_id = $1`;
  const days = await q<{ day: string; n: number }>(`select day, count(*)::int n from (${src}) p group by day order by day`, [orgId]);
  const [p] = await q<{ n: number }>(`select count(*)::int n from (${src}) p`, [orgId]);
  return { pairs: p!.n, days };
}
async function storedActive(orgId: string): Promise<{ pairs: number; days: Array<{ day: string; n: number }> }> {
  const days = await q<{ day: string; n: number }>(
    `select to_char(day, 'YYYY-MM-DD') as day, sum(n)::int n from contact_active_day_counts where organization_id = $1 group by day having sum(n) <> 0 order by day`, [orgId]);
  const [p] = await q<{ n: number }>(`select count(*)::int n from contact_active_days where organization_id = $1`, [orgId]);
  // Every stored pair is one the sources give (the counts above agree with the pairs by day).
  const [bad] = await q<{ n: number }>(
    `select count(*)::int n from contact_active_days a join organizations g on g.id = a.organization_id
      where a.organization_id = $1 and not marketsage_contact_active_on(a.organization_id, a.contact_id, a.day, g.time_zone)`, [orgId]);
  expect(bad!.n).toBe(0);
  return { pairs: p!.n, days };
}
const expectActive = async (orgId: string, step: string) => expect(await storedActive(orgId), step).toEqual(await handActive(orgId));

describe("contact_active_days", () => {
  it("equals the sources after the seed's rebuild (every organization, each in its time zone)", async () => {
    for (const org of DEMO_ORGS) {
      const h = await handActive(org.id);
      expect(h.days.length).toBeGreaterThan(30);
      expect(await storedActive(org.id)).toEqual(h);
    }
  });

  it("follows inserts, identification, moves and deletes of events, touchpoints and conversions, and a change of time zone", async () => {
    const [c1, c2] = (await q<{ id: string }>(`select id::text from contacts where organization_id = $1 order by id limit 2`, [A.id])).map((r) => r.id);
    const [v] = await q<{ id: string }>(`select id::text from visitors where organization_id = $1 order by id limit 1`, [A.id]);
    // Late in the UTC day: another local day in Lagos (UTC+1).
    const late = "2026-11-25T23:30:00Z";
    const m = await message(A.id, { at: "2026-11-25T08:00:00Z" });
    await events(A.id, [[m, "DELIVERED", late], [m, "OPENED", late], [m, "OPENED", "2026-11-25T23:40:00Z"]]);
    await expectActive(A.id, "an open (twice) late in the UTC day");
    const tp = await q<{ id: string }>(
      `insert into touchpoints (organization_id, visitor_id, type, url, occurred_at) values ($1, $2, 'PAGEVIEW', 'https://shop.example.com/', '2026-11-26T09:00:00Z'),
              ($1, $2, 'PAGEVIEW', 'https://shop.example.com/sale', '2026-11-26T09:05:00Z') returning id::text`, [A.id, v!.id]);
    await expectActive(A.id, "anonymous touchpoints (nothing)");
    await q(`update touchpoints set contact_id = $2 where id = any($1::bigint[])`, [tp.map((t) => t.id), c1]);
    await expectActive(A.id, "the visitor identified: its touchpoints make the contact active");
    await q(`insert into conversions (id, organization_id, contact_id, type, value, currency, occurred_at) values ($1, $2, $3, 'PURCHASE', 10, 'NGN', '2026-11-26T10:00:00Z')`, [randomUUID(), A.id, c2]);
    await expectActive(A.id, "a conversion");
    await q(`update conversions set occurred_at = '2026-11-27T10:00:00Z' where contact_id = $1 and occurred_at = '2026-11-26T10:00:00Z'`, [c2]);
    await expectActive(A.id, "the conversion moved to another day");
    await q(`delete from message_events where message_id = $1 and type = 'OPENED' and occurred_at = $2`, [m, late]);
    await expectActive(A.id, "one of two opens deleted (still active)");
    await q(`delete from message_events where message_id = $1`, [m]);
    await q(`delete from touchpoints where id = any($1::bigint[])`, [tp.map((t) => t.id)]);
    await expectActive(A.id, "the rest deleted");
    await q(`update organizations set time_zone = 'Asia/Kolkata' where id = $1`, [A.id]);
    await expectActive(A.id, "the organization's time zone changed (UTC+5:30)");
    await q(`update organizations set time_zone = 'Africa/Lagos' where id = $1`, [A.id]);
    await expectActive(A.id, "and back");
  });

  it("a daily series over whole local days reads the counts and equals the sources; a window that is not whole days reads the sources", async () => {
    const runtime = testRuntime(tdb.url, { now: () => tdb.now });
    try {
      const tz = (await q<{ tz: string }>(`select time_zone tz from organizations where id = $1`, [A.id]))[0]!.tz;
      const org = { id: A.id, reportingCurrency: A.reportingCurrency, timeZone: tz } as Parameters<typeof kpiSeries>[1];
      const [w] = await q<{ from: Date; to: Date }>(
        `select ((now()::timestamptz at time zone $1)::date - 60)::timestamp at time zone $1 as from, ((now()::timestamptz at time zone $1)::date)::timestamp at time zone $1 as to`, [tz]);
      const hand = new Map((await handActive(A.id)).days.map((d) => [d.day, d.n]));
      const whole = (await kpiSeries(runtime.db, org, { kpis: ["active_contacts"], from: w!.from, to: w!.to, granularity: "day" })).get("active_contacts")!;
      expect(whole).toHaveLength(60);
      expect(whole.some((p) => (p.value ?? 0) > 0)).toBe(true);
      expect(whole.map((p) => p.value)).toEqual(whole.map((p) => hand.get(p.start) ?? 0));
      // Ending mid-day: the last day counts only what happened before the window's end.
      const cut = new Date(w!.to.getTime() - 3 * 3_600_000);
      const part = (await kpiSeries(runtime.db, org, { kpis: ["active_contacts"], from: w!.from, to: cut, granularity: "day" })).get("active_contacts")!;
      const [lastDay] = await q<{ n: number }>(
        `select count(distinct contact_id)::int n from (
           select contact_id, occurred_at from message_events where organization_id = $1 and type::text in ('OPENED', 'CLICKED', 'REPLIED') and contact_id is not null
           union all select contact_id, occurred_at from touchpoints where organization_id = $1 and contact_id is not null
           union all select contact_id, occurred_at from conversions where organization_id = $1 and contact_id is not null) a
         where occurred_at >= $2::timestamptz - interval '21 hours' and occurred_at < $2`, [A.id, cut]);
      expect(part.at(-1)!.value).toBe(lastDay!.n);
      expect(part.slice(0, -1).map((p) => p.value)).toEqual(whole.slice(0, -1).map((p) => p.value));
    } finally {
      await runtime.close();
    }
  });
});
