// campaign_stats and campaign_costs (migration campaign_stats) are kept by statement-level triggers on
// message_events and messages. Each write below goes through one trigger path, then both tables are
// compared with an independent computation from the raw rows: per message an EXISTS for each kind of
// event, written from the words of metrics/definitions.ts (not from the migration's rebuild), and the
// outbound campaign messages grouped by currency and UTC day. The key includes the organization, since
// readers select rollup rows by organization.
//
// The events written here have no contact: the engagement trigger on contacts (a row update per
// contact) would otherwise make concurrent writers of one contact wait for each other and hide a
// missing advisory lock in the concurrency tests.
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { ORG_A, ORG_B, useCampaignAnalytics } from "./setup.ts";

const ca = useCampaignAnalytics();
const q = ca.q;
const Z = "00000000-0000-0000-0000-000000000000";

/**
 * When a message has a kind (definitions.ts): "sent" is any event other than QUEUED and FAILED; an
 * open, click, reply or unsubscribe proves delivery, and a click an open. "engaged" (opened, clicked or
 * replied) is checked when campaign_stats has that column.
 */
const FLAGS = {
  sent: `e.type not in ('QUEUED', 'FAILED')`,
  delivered: `e.type in ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED')`,
  failed: `e.type = 'FAILED'`,
  bounced: `e.type = 'BOUNCED'`,
  opened: `e.type in ('OPENED', 'CLICKED')`,
  clicked: `e.type = 'CLICKED'`,
  replied: `e.type = 'REPLIED'`,
  unsubscribed: `e.type = 'UNSUBSCRIBED'`,
  engaged: `e.type in ('OPENED', 'CLICKED', 'REPLIED')`,
} as const;
type Flag = keyof typeof FLAGS;
type Counts = Record<Flag, number>;
/** The kinds campaign_stats has (read in beforeAll). */
let FLAG_NAMES: Flag[] = [];
/** The expected change, with "engaged" when the table has it. */
const change = (c: Partial<Counts>, engaged = 0): Partial<Counts> => (FLAG_NAMES.includes("engaged") && engaged ? { ...c, engaged } : c);

/** (organization, campaign, variant) keys whose rollup differs from the raw events: raw − rollup per kind. */
const statsDrift = () => `
  with k as (select distinct organization_id o, campaign_id c, coalesce(variant_id, '${Z}'::uuid) v, message_id m
               from message_events where campaign_id is not null),
       raw as (select o, c, v,
                      ${FLAG_NAMES.map(
                        (f) => `count(*) filter (where exists (select 1 from message_events e
                                 where e.message_id = k.m and e.organization_id = k.o and e.campaign_id = k.c
                                   and coalesce(e.variant_id, '${Z}'::uuid) = k.v and ${FLAGS[f]}))::int ${f}`,
                      ).join(",\n                      ")}
                 from k group by o, c, v),
       roll as (select organization_id o, campaign_id c, variant_key v, ${FLAG_NAMES.map((f) => `sum(${f})::int ${f}`).join(", ")}
                  from campaign_stats group by 1, 2, 3)
  select o::text org, c::text campaign, v::text variant,
         ${FLAG_NAMES.map((f) => `coalesce(raw.${f}, 0) - coalesce(roll.${f}, 0) ${f}`).join(", ")}
    from raw full join roll using (o, c, v)
   where (${FLAG_NAMES.map((f) => `coalesce(raw.${f}, 0)`).join(", ")}) is distinct from (${FLAG_NAMES.map((f) => `coalesce(roll.${f}, 0)`).join(", ")})
   order by 1, 2, 3`;

/** (organization, campaign, variant, currency, UTC day) keys whose messages or cost differ: raw − rollup. */
const COSTS_DRIFT = `
  with raw as (select organization_id o, campaign_id c, coalesce(variant_id, '${Z}'::uuid) v,
                      case when cost is null or currency is null then '' else currency::text end cur,
                      date(created_at at time zone 'UTC') d, count(*)::int n, coalesce(sum(cost), 0) amt
                 from messages where campaign_id is not null and direction = 'OUTBOUND' group by 1, 2, 3, 4, 5),
       roll as (select organization_id o, campaign_id c, variant_key v, currency cur, day d, sum(messages)::int n, sum(amount) amt
                  from campaign_costs group by 1, 2, 3, 4, 5)
  select o::text org, c::text campaign, v::text variant, cur as currency, d::text as day,
         coalesce(raw.n, 0) - coalesce(roll.n, 0) messages, (coalesce(raw.amt, 0) - coalesce(roll.amt, 0))::text amount
    from raw full join roll using (o, c, v, cur, d)
   where (coalesce(raw.n, 0), coalesce(raw.amt, 0)) is distinct from (coalesce(roll.n, 0), coalesce(roll.amt, 0))
   order by 1, 2, 3, 4, 5`;

const NO_DRIFT = { stats: [], costs: [] };
const drift = async () => ({ stats: await q(statsDrift()), costs: await q(COSTS_DRIFT) });

/** The rollup's counts of one campaign and variant (its shards summed). */
async function stats(c: string, v: string | null): Promise<Counts> {
  const [r] = await q<Counts>(
    `select ${FLAG_NAMES.map((f) => `coalesce(sum(${f}), 0)::int ${f}`).join(", ")} from campaign_stats where campaign_id = $1 and variant_key = $2`,
    [c, v ?? Z],
  );
  return r!;
}
/** The kinds whose count changed, with the change. */
function delta(before: Counts, after: Counts): Partial<Counts> {
  const out: Partial<Counts> = {};
  for (const f of FLAG_NAMES) if (after[f] !== before[f]) out[f] = after[f] - before[f];
  return out;
}
/** The rollup's messages and cost of one (campaign, variant, currency, UTC day). */
async function costs(c: string, v: string | null, currency: string, day: string) {
  const [r] = await q<{ messages: number; amount: string }>(
    `select coalesce(sum(messages), 0)::int messages, coalesce(sum(amount), 0)::numeric(18, 4)::text amount
       from campaign_costs where campaign_id = $1 and variant_key = $2 and currency = $3 and day = $4::date`,
    [c, v ?? Z, currency, day],
  );
  return r!;
}
/** Every row version of a rollup table: unchanged means the statement wrote nothing there (not even +0). */
async function versions(table: "campaign_stats" | "campaign_costs", where = "true", params: unknown[] = []) {
  const [r] = await q(`select count(*)::int n, coalesce(string_agg(ctid::text || '@' || xmin::text, ',' order by ctid), '') v from ${table} where ${where}`, params);
  return r as { n: number; v: string };
}
/** Runs a check that may leave the rollup wrong, then rebuilds it so the next test starts equal. */
async function restoring(fn: () => Promise<void>) {
  try {
    await fn();
  } finally {
    await q(`select marketsage_rebuild_campaign_stats(null)`);
  }
}
const rollupVersions = async () => ({ stats: await versions("campaign_stats"), costs: await versions("campaign_costs") });

// ---------- fixtures ----------
let C: string; // an ORG_A email campaign with two variants
let V1: string;
let V2: string;
let C2: string; // another ORG_A email campaign
const DAY1 = "2026-11-10";

interface Msg { id: string; c: string | null; v: string | null }
interface MsgOpts { cost?: string | null; currency?: string | null; at?: string; direction?: "OUTBOUND" | "INBOUND"; org?: string }
async function messages(rows: Array<{ c: string | null; v: string | null } & MsgOpts>): Promise<Msg[]> {
  const params: unknown[] = [];
  const values = rows.map((r) => {
    const p = [r.org ?? ORG_A.id, r.c, r.v, r.direction ?? "OUTBOUND", r.cost === undefined ? "0.0100" : r.cost, r.currency === undefined ? "USD" : r.currency, r.at ?? `${DAY1}T10:00:00.000Z`];
    const at = params.length;
    params.push(...p);
    return `(gen_random_uuid(), $${at + 1}::uuid, $${at + 2}::uuid, $${at + 3}::uuid, 'EMAIL', $${at + 4}::"MessageDirection", 'rollup@example.test', $${at + 5}::numeric, $${at + 6}, 'SENT', $${at + 7}::timestamptz)`;
  });
  const out = await q<{ id: string; c: string | null; v: string | null }>(
    `insert into messages (id, organization_id, campaign_id, variant_id, channel, direction, recipient, cost, currency, status, created_at)
     values ${values.join(", ")} returning id::text, campaign_id::text c, variant_id::text v`,
    params,
  );
  return out;
}
const message = async (c: string | null, v: string | null, o: MsgOpts = {}) => (await messages([{ c, v, ...o }]))[0]!;

/** An event on a message; its campaign and variant are the message's unless given. */
interface Ev { m: Msg; type: string; c?: string | null; v?: string | null; detail?: unknown }
let clock = Date.parse(`${DAY1}T11:00:00.000Z`);
function eventsSql(evs: Ev[]): { text: string; params: unknown[] } {
  const params: unknown[] = [ORG_A.id];
  const values = evs.map((e) => {
    const at = params.length;
    params.push(e.m.id, e.c === undefined ? e.m.c : e.c, e.v === undefined ? e.m.v : e.v, e.type, new Date(clock++), e.detail === undefined ? null : JSON.stringify(e.detail));
    return `($1::uuid, $${at + 1}::uuid, $${at + 2}::uuid, $${at + 3}::uuid, null, 'EMAIL', $${at + 4}::"MessageEventType", $${at + 5}::timestamptz, $${at + 6}::jsonb)`;
  });
  return {
    text: `insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
           values ${values.join(", ")} returning id::text`,
    params,
  };
}
async function events(evs: Ev[]): Promise<string[]> {
  const s = eventsSql(evs);
  return (await q<{ id: string }>(s.text, s.params)).map((r) => r.id);
}
const eventCount = async (m: Msg, type: string) =>
  (await q<{ n: number }>(`select count(*)::int n from message_events where message_id = $1 and type = $2::"MessageEventType"`, [m.id, type]))[0]!.n;

beforeAll(async () => {
  const columns = (await q(`select column_name from information_schema.columns where table_name = 'campaign_stats'`)).map((r) => r.column_name as string);
  FLAG_NAMES = (Object.keys(FLAGS) as Flag[]).filter((f) => columns.includes(f));
  expect(FLAG_NAMES.length).toBeGreaterThanOrEqual(8);
  const [c] = await q(
    `select m.campaign_id::text id from messages m join campaigns c on c.id = m.campaign_id
      where c.organization_id = $1 and c.channel = 'EMAIL' and m.variant_id is not null
      group by 1 having count(distinct m.variant_id) = 2 order by count(*) desc, 1 limit 1`,
    [ORG_A.id],
  );
  C = c.id;
  [V1, V2] = (await q(`select id::text from campaign_variants where campaign_id = $1 order by name`, [C])).map((r) => r.id);
  C2 = (
    await q(
      `select m.campaign_id::text id from messages m join campaigns c on c.id = m.campaign_id
        where c.organization_id = $1 and c.channel = 'EMAIL' and c.id <> $2 group by 1 order by count(*) desc, 1 limit 1`,
      [ORG_A.id, C],
    )
  )[0].id;
  expect([V1, V2, C2].every(Boolean)).toBe(true);
});

describe("campaign_stats and campaign_costs equal message_events and messages", () => {
  it("after the seed (bulk load, then the rebuild), and the drift check sees a difference of one", async () => {
    expect(await drift()).toEqual(NO_DRIFT);
    const [{ keys, opened, msgs }] = await q(
      `select (select count(*) from campaign_stats)::int keys, (select sum(opened) from campaign_stats)::int opened,
              (select sum(messages) from campaign_costs)::int msgs`,
    );
    expect(keys).toBeGreaterThan(20);
    expect(opened).toBeGreaterThan(100);
    expect(msgs).toBeGreaterThan(1000);
    // One count or one cost off by the smallest amount is one drift row (the check can fail).
    await q("begin");
    try {
      await q(`update campaign_stats set opened = opened + 1 where (campaign_id, variant_key, shard) = (select campaign_id, variant_key, shard from campaign_stats order by 1, 2, 3 limit 1)`);
      await q(`update campaign_costs set amount = amount + 0.0001 where ctid = (select ctid from campaign_costs order by campaign_id, variant_key, currency, day limit 1)`);
      const d = await drift();
      expect(d.stats.map((r) => r.opened)).toEqual([-1]);
      expect(d.costs.map((r) => [r.messages, r.amount])).toEqual([[0, "-0.0001"]]);
    } finally {
      await q("rollback");
    }
    expect(await drift()).toEqual(NO_DRIFT);
  });

  describe("event writes", () => {
    it("a single-row insert", async () => {
      const m = await message(C, V1);
      const before = await stats(C, V1);
      await events([{ m, type: "DELIVERED" }]);
      expect(delta(before, await stats(C, V1))).toEqual({ sent: 1, delivered: 1 });
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("a multi-row insert: several messages, an open three times, QUEUED only, FAILED only, events without a campaign", async () => {
      const [m2, m3, m4, m5] = await messages([{ c: C, v: V1 }, { c: C, v: V1 }, { c: C, v: null }, { c: C, v: V2 }]);
      const before = { v1: await stats(C, V1), none: await stats(C, null), v2: await stats(C, V2) };
      await events([
        { m: m2!, type: "SENT" }, { m: m2!, type: "DELIVERED" }, { m: m2!, type: "OPENED" }, { m: m2!, type: "OPENED" }, { m: m2!, type: "OPENED" },
        { m: m3!, type: "QUEUED" },
        { m: m4!, type: "FAILED" },
        { m: m5!, type: "DELIVERED" }, { m: m5!, type: "CLICKED" },
        { m: m2!, type: "REPLIED", c: null, v: null }, { m: m5!, type: "UNSUBSCRIBED", c: null, v: null },
      ]);
      expect(delta(before.v1, await stats(C, V1))).toEqual(change({ sent: 1, delivered: 1, opened: 1 }, 1));
      expect(delta(before.none, await stats(C, null))).toEqual({ failed: 1 });
      expect(delta(before.v2, await stats(C, V2))).toEqual(change({ sent: 1, delivered: 1, opened: 1, clicked: 1 }, 1)); // a click proves an open
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("an event of a kind the message already has writes nothing", async () => {
      const m = await message(C, V1);
      await events([{ m, type: "DELIVERED" }, { m, type: "OPENED" }]);
      const before = await rollupVersions();
      await events([{ m, type: "OPENED" }, { m, type: "SENT" }]); // SENT: DELIVERED already gave it
      expect(await eventCount(m, "OPENED")).toBe(2);
      expect(await rollupVersions()).toEqual(before);
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("deleting one of two duplicate events changes nothing; deleting the last is −1 (for sent too, when it gave it)", async () => {
      const m = await message(C, V1);
      const before = await stats(C, V1);
      const [e1, e2] = await events([{ m, type: "CLICKED" }, { m, type: "CLICKED" }]);
      expect(delta(before, await stats(C, V1))).toEqual(change({ sent: 1, delivered: 1, opened: 1, clicked: 1 }, 1));
      const kept = await rollupVersions();
      await q(`delete from message_events where id = $1`, [e1]);
      expect(await rollupVersions()).toEqual(kept);
      expect(await drift()).toEqual(NO_DRIFT);
      await q(`delete from message_events where id = $1`, [e2]);
      expect(delta(before, await stats(C, V1))).toEqual({});
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("deleting many events in one statement", async () => {
      const [m1, m2] = await messages([{ c: C, v: V1 }, { c: C, v: V2 }]);
      await events([{ m: m1!, type: "OPENED" }, { m: m1!, type: "OPENED" }, { m: m2!, type: "DELIVERED" }, { m: m2!, type: "BOUNCED" }]);
      const [{ n }] = await q(
        `with d as (delete from message_events
                     where message_id = any($1::uuid[])
                        or (campaign_id = $2 and type = 'OPENED' and message_id in (select message_id from message_events where campaign_id = $2 and type = 'OPENED' order by message_id limit 10))
                        or (campaign_id = $3 and type = 'DELIVERED')
                    returning 1)
         select count(*)::int n from d`,
        [[m1!.id, m2!.id], C, C2],
      );
      expect(n).toBeGreaterThan(10);
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("an update moving an event to another message, then changing its type", async () => {
      const [from, to] = await messages([{ c: C, v: V1 }, { c: C, v: V1 }]);
      const [, opened] = await events([{ m: from!, type: "SENT" }, { m: from!, type: "OPENED" }, { m: to!, type: "QUEUED" }]);
      let before = await stats(C, V1);
      await q(`update message_events set message_id = $2 where id = $1`, [opened, to!.id]);
      expect(delta(before, await stats(C, V1))).toEqual({ sent: 1 }); // `from` keeps SENT; `to` gains all the open proves, `from` loses it
      expect(await drift()).toEqual(NO_DRIFT);
      before = await stats(C, V1);
      await q(`update message_events set type = 'CLICKED' where id = $1`, [opened]);
      expect(delta(before, await stats(C, V1))).toEqual({ clicked: 1 }); // the click still proves the open
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("an update changing an event's variant, then its campaign", async () => {
      const m = await message(C, V1);
      const before = { v1: await stats(C, V1), v2: await stats(C, V2), c2: await stats(C2, null) };
      const [sent, delivered] = await events([{ m, type: "SENT" }, { m, type: "DELIVERED" }]);
      await q(`update message_events set variant_id = $2 where id = $1`, [delivered, V2]);
      expect(delta(before.v1, await stats(C, V1))).toEqual({ sent: 1 });
      expect(delta(before.v2, await stats(C, V2))).toEqual({ sent: 1, delivered: 1 });
      expect(await drift()).toEqual(NO_DRIFT);
      await q(`update message_events set campaign_id = $2, variant_id = null where id = $1`, [sent, C2]);
      expect(delta(before.v1, await stats(C, V1))).toEqual({});
      expect(delta(before.c2, await stats(C2, null))).toEqual({ sent: 1 });
      expect(await drift()).toEqual(NO_DRIFT);
      await q(`update message_events set campaign_id = null where id = $1`, [sent]);
      expect(delta(before.c2, await stats(C2, null))).toEqual({});
      expect(await drift()).toEqual(NO_DRIFT);
    });

    // KNOWN BUG (reported; remove `.fails` once fixed): PostgreSQL fires the AFTER STATEMENT triggers of
    // every part of a query at its end, so the DELETE trigger sees the inserted row (no −1) and the
    // INSERT trigger sees only its own row (+1): the pair is counted twice.
    it.fails("one statement deleting an event and inserting the same kind on the same message (writable CTE) counts it once", async () => {
      await restoring(async () => {
        const m = await message(C, V1);
        const before = await stats(C, V1);
        const [e] = await events([{ m, type: "OPENED" }]);
        const s = eventsSql([{ m, type: "OPENED" }]);
        await q(`with d as (delete from message_events where id = $${s.params.length + 1}) ${s.text}`, [...s.params, e]);
        expect(await eventCount(m, "OPENED")).toBe(1);
        expect(delta(before, await stats(C, V1))).toEqual(change({ sent: 1, delivered: 1, opened: 1 }, 1));
        expect(await drift()).toEqual(NO_DRIFT);
      });
    });

    it("an update of `detail` only writes nothing", async () => {
      const m = await message(C, V2);
      await events([{ m, type: "DELIVERED" }, { m, type: "CLICKED" }]);
      const before = await rollupVersions();
      await q(`update message_events set detail = '{"url": "https://example.test/a"}' where message_id = $1`, [m.id]);
      expect(await rollupVersions()).toEqual(before);
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("updates of many rows in one statement: kinds swapped, variants swapped, events moved between messages", async () => {
      const swapTypes = await q(
        `update message_events set type = case type when 'OPENED' then 'CLICKED'::"MessageEventType" else 'OPENED'::"MessageEventType" end
          where campaign_id = $1 and type in ('OPENED', 'CLICKED') returning 1`,
        [C],
      );
      expect(swapTypes.length).toBeGreaterThan(20);
      expect(await drift()).toEqual(NO_DRIFT);
      const swapVariants = await q(`update message_events set variant_id = case when variant_id = $2 then $3::uuid else $2::uuid end where campaign_id = $1 and variant_id in ($2, $3) returning 1`, [C, V1, V2]);
      expect(swapVariants.length).toBeGreaterThan(50);
      expect(await drift()).toEqual(NO_DRIFT);
      // The DELIVERED events of ten messages all moved onto one message of another variant.
      const target = await message(C, V2);
      const moved = await q(
        `update message_events set message_id = $2, variant_id = $3
          where type = 'DELIVERED' and message_id in (select distinct message_id from message_events where campaign_id = $1 and variant_id = $4 order by message_id limit 10)
          returning 1`,
        [C, target.id, V2, V1],
      );
      expect(moved.length).toBeGreaterThanOrEqual(10);
      expect(await drift()).toEqual(NO_DRIFT);
    });
  });

  describe("message writes", () => {
    it("an insert of one message", async () => {
      const before = await costs(C, V1, "KES", DAY1);
      await message(C, V1, { cost: "1.2345", currency: "KES" });
      expect(await costs(C, V1, "KES", DAY1)).toEqual({ messages: before.messages + 1, amount: (Number(before.amount) + 1.2345).toFixed(4) });
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("an insert of many: variants, no variant, null cost, cost without currency, inbound, no campaign, a session far from UTC", async () => {
      const before = { noCost: await costs(C2, null, "", DAY1), late: await costs(C, V2, "NGN", DAY1) };
      await q(`set time zone 'Pacific/Kiritimati'`); // UTC+14: the local date is a day after the UTC one
      try {
        await messages([
          { c: C, v: V2, cost: "2.5000", currency: "NGN", at: `${DAY1}T23:30:00.000Z` },
          { c: C, v: null, cost: "0.0100", currency: "USD" },
          { c: C2, v: null, cost: null, currency: "USD" },
          { c: C2, v: null, cost: null, currency: null },
          { c: C, v: V1, cost: "3.0000", currency: null },
          { c: C, v: V1, direction: "INBOUND" },
          { c: null, v: null },
        ]);
      } finally {
        await q(`reset time zone`);
      }
      expect(await costs(C2, null, "", DAY1)).toEqual({ messages: before.noCost.messages + 2, amount: before.noCost.amount });
      expect((await costs(C, V2, "NGN", DAY1)).messages).toBe(before.late.messages + 1);
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("an update of status (and provider id) only writes nothing", async () => {
      const before = await versions("campaign_costs");
      const r = await q(`update messages set status = 'DELIVERED', provider_message_id = 'prov-' || id where campaign_id = any($1::uuid[]) returning 1`, [[C, C2]]);
      expect(r.length).toBeGreaterThan(100);
      expect(await versions("campaign_costs")).toEqual(before);
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("updates of cost and currency (one, and many in one statement), and a null cost given one", async () => {
      const m = await message(C, V1, { cost: "1.0000", currency: "USD" });
      const before = { usd: await costs(C, V1, "USD", DAY1), ghs: await costs(C, V1, "GHS", DAY1) };
      await q(`update messages set cost = 9.99, currency = 'GHS' where id = $1`, [m.id]);
      expect(await costs(C, V1, "USD", DAY1)).toEqual({ messages: before.usd.messages - 1, amount: (Number(before.usd.amount) - 1).toFixed(4) });
      expect(await costs(C, V1, "GHS", DAY1)).toEqual({ messages: before.ghs.messages + 1, amount: (Number(before.ghs.amount) + 9.99).toFixed(4) });
      expect(await drift()).toEqual(NO_DRIFT);
      const many = await q(`update messages set cost = cost * 2 + 0.0001 where campaign_id = $1 and cost is not null returning 1`, [C2]);
      expect(many.length).toBeGreaterThan(10);
      expect(await drift()).toEqual(NO_DRIFT);
      await q(`update messages set cost = 0.5 where campaign_id = $1 and cost is null`, [C2]);
      // The one without a currency stays in '' (with its cost); the other joins USD.
      expect(await costs(C2, null, "", DAY1)).toEqual({ messages: 1, amount: "0.5000" });
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("an update of variant_id, and of created_at across a UTC day boundary", async () => {
      const m = await message(C, V1, { cost: "0.2000", currency: "ZAR", at: `${DAY1}T23:59:59.999Z` });
      await q(`update messages set variant_id = $2 where id = $1`, [m.id, V2]);
      expect(await costs(C, V1, "ZAR", DAY1)).toEqual({ messages: 0, amount: "0.0000" });
      expect(await costs(C, V2, "ZAR", DAY1)).toEqual({ messages: 1, amount: "0.2000" });
      expect(await drift()).toEqual(NO_DRIFT);
      await q(`update messages set created_at = created_at + interval '1 millisecond' where id = $1`, [m.id]);
      expect(await costs(C, V2, "ZAR", DAY1)).toEqual({ messages: 0, amount: "0.0000" });
      expect(await costs(C, V2, "ZAR", "2026-11-11")).toEqual({ messages: 1, amount: "0.2000" });
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("an update of direction to INBOUND, then deletes (one, and many in one statement)", async () => {
      const [a, b] = await messages([{ c: C, v: V2, cost: "0.3000", currency: "RWF" }, { c: C, v: V2, cost: "0.4000", currency: "RWF" }]);
      await q(`update messages set direction = 'INBOUND' where id = $1`, [a!.id]);
      expect(await costs(C, V2, "RWF", DAY1)).toEqual({ messages: 1, amount: "0.4000" });
      expect(await drift()).toEqual(NO_DRIFT);
      await q(`delete from messages where id = $1`, [b!.id]);
      expect(await costs(C, V2, "RWF", DAY1)).toEqual({ messages: 0, amount: "0.0000" });
      expect(await drift()).toEqual(NO_DRIFT);
      const gone = await q(`delete from messages where id in (select id from messages where campaign_id = $1 order by id limit 25) returning 1`, [C2]);
      expect(gone.length).toBe(25);
      expect(await drift()).toEqual(NO_DRIFT);
    });
  });

  it("the rebuild on the modified database gives the same sums (one organization: the other's rows untouched)", async () => {
    const sums = async () => ({
      stats: await q(
        `select organization_id::text, campaign_id::text, variant_key::text, ${FLAG_NAMES.map((f) => `sum(${f})::int ${f}`).join(", ")}
           from campaign_stats group by 1, 2, 3 having ${FLAG_NAMES.map((f) => `sum(${f}) <> 0`).join(" or ")} order by 1, 2, 3`,
      ),
      costs: await q(
        `select organization_id::text, campaign_id::text, variant_key::text, currency, day::text, sum(messages)::int messages, sum(amount)::text amount
           from campaign_costs group by 1, 2, 3, 4, 5 having sum(messages) <> 0 or sum(amount) <> 0 order by 1, 2, 3, 4, 5`,
      ),
    });
    const before = await sums();
    expect(before.stats.length).toBeGreaterThan(20);
    const orgB = { stats: await versions("campaign_stats", "organization_id = $1", [ORG_B.id]), costs: await versions("campaign_costs", "organization_id = $1", [ORG_B.id]) };
    await q(`select marketsage_rebuild_campaign_stats($1)`, [ORG_A.id]);
    expect(await sums()).toEqual(before);
    expect({ stats: await versions("campaign_stats", "organization_id = $1", [ORG_B.id]), costs: await versions("campaign_costs", "organization_id = $1", [ORG_B.id]) }).toEqual(orgB);
    await q(`select marketsage_rebuild_campaign_stats(null)`);
    expect(await sums()).toEqual(before);
    // A rebuild leaves one shard per key (the triggers wrote to the shard of their backend).
    const [{ odd }] = await q(
      `select ((select count(*) from campaign_stats where shard <> 0) + (select count(*) from campaign_costs where shard <> 0 or messages = 0))::int odd`,
    );
    expect(odd).toBe(0);
    expect(await drift()).toEqual(NO_DRIFT);
  });

  it("with marketsage.bulk_load on the triggers skip (rollup unchanged, raw rows drift); the rebuild fixes it", async () => {
    const before = await rollupVersions();
    const [seeded] = await q(`select id::text from messages where campaign_id = $1 and cost > 0 order by id desc limit 1`, [C2]);
    await q(`set marketsage.bulk_load = 'on'`);
    try {
      const m = await message(C, V1, { cost: "5.0000", currency: "KES" });
      await events([{ m, type: "DELIVERED" }, { m, type: "OPENED" }]);
      await q(`update message_events set type = 'CLICKED' where message_id = $1 and type = 'OPENED'`, [m.id]);
      await q(`update messages set cost = 6 where id = $1`, [m.id]);
      await q(`delete from message_events where campaign_id = $1 and type = 'OPENED'`, [C2]);
      await q(`delete from messages where id = $1`, [seeded.id]);
    } finally {
      await q(`reset marketsage.bulk_load`);
    }
    expect(await rollupVersions()).toEqual(before);
    const d = await drift();
    expect(d.stats.length).toBeGreaterThan(0);
    expect(d.costs.length).toBeGreaterThan(0);
    await q(`select marketsage_rebuild_campaign_stats(null)`);
    expect(await drift()).toEqual(NO_DRIFT);
  });

  describe("concurrent writers of one (message, kind)", () => {
    type Stmt = { text: string; params: unknown[] };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    /** Until the backend waits on a lock (returns the lock's kind), or its statement returned ("ran"). */
    async function settle(pid: number, done: () => boolean): Promise<string> {
      for (let i = 0; i < 250; i++) {
        if (done()) return "ran";
        const [r] = await q(`select wait_event_type, wait_event from pg_stat_activity where pid = $1`, [pid]);
        if (r?.wait_event_type === "Lock") return r.wait_event as string;
        await sleep(20);
      }
      return "timeout";
    }

    /**
     * One transaction per statement, all open at once: the first runs its statement and stays open;
     * the others run theirs (each waits for the first's advisory lock, if the trigger takes one); once
     * each other is waiting or done, the first commits, then each other commits when its statement
     * returns. Returns how each other writer was found (its lock's kind, or "ran") and its error code.
     */
    async function race(stmts: Stmt[], isolation = "read committed") {
      const cs = stmts.map(() => new pg.Client({ connectionString: ca.url }));
      await Promise.all(cs.map((c) => c.connect()));
      try {
        const pids = await Promise.all(cs.map(async (c) => (await c.query(`select pg_backend_pid() pid`)).rows[0].pid as number));
        for (const c of cs) await c.query(`begin isolation level ${isolation}`);
        await cs[0]!.query(stmts[0]!.text, stmts[0]!.params);
        const done = cs.map(() => false);
        const others = cs.slice(1).map((c, i) =>
          c.query(stmts[i + 1]!.text, stmts[i + 1]!.params).then(
            () => ((done[i + 1] = true), null),
            (e: { code?: string }) => ((done[i + 1] = true), e.code ?? "error"),
          ),
        );
        const found = await Promise.all(pids.slice(1).map((pid, i) => settle(pid, () => done[i + 1]!)));
        await cs[0]!.query("commit");
        const errors = await Promise.all(others.map(async (p, i) => {
          const err = await p;
          await cs[i + 1]!.query(err ? "rollback" : "commit");
          return err;
        }));
        return { found, errors };
      } finally {
        await Promise.all(cs.map((c) => c.end()));
      }
    }

    async function racingInserts(writers: number, isolation?: string) {
      const m = await message(C, V1);
      await events([{ m, type: "SENT" }]);
      const before = await stats(C, V1);
      const r = await race(Array.from({ length: writers }, () => eventsSql([{ m, type: "OPENED" }])), isolation);
      return { ...r, m, change: delta(before, await stats(C, V1)) };
    }
    async function racingDeletes() {
      const m = await message(C, V1);
      const [, e1, e2] = await events([{ m, type: "SENT" }, { m, type: "CLICKED" }, { m, type: "CLICKED" }]);
      const before = await stats(C, V1);
      const r = await race([e1, e2].map((id) => ({ text: `delete from message_events where id = $1`, params: [id] })));
      return { ...r, m, change: delta(before, await stats(C, V1)) };
    }

    async function racingUpdates() {
      const m = await message(C, V1);
      const [, e1, e2] = await events([{ m, type: "SENT" }, { m, type: "OPENED" }, { m, type: "OPENED" }]);
      const before = await stats(C, V1);
      const r = await race([e1, e2].map((id) => ({ text: `update message_events set type = 'CLICKED' where id = $1`, params: [id] })));
      return { ...r, m, change: delta(before, await stats(C, V1)) };
    }

    it("three transactions inserting the same kind on one message: the later ones wait for the first's lock; counted once", async () => {
      const r = await racingInserts(3);
      expect(r.found).toEqual(["advisory", "advisory"]);
      expect(r.errors).toEqual([null, null]);
      expect(await eventCount(r.m, "OPENED")).toBe(3);
      expect(r.change).toEqual(change({ delivered: 1, opened: 1 }, 1));
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("two transactions deleting the two duplicate events of one pair: the pair is gone, −1", async () => {
      const r = await racingDeletes();
      expect(r.found).toEqual(["advisory"]);
      expect(await eventCount(r.m, "CLICKED")).toBe(0);
      expect(r.change).toEqual(change({ delivered: -1, opened: -1, clicked: -1 }, -1));
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("two transactions changing the two OPENED events of one message to CLICKED: clicked +1", async () => {
      const r = await racingUpdates();
      expect(r.found).toEqual(["advisory"]);
      expect(r.change).toEqual({ clicked: 1 });
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("serializable: the later writers fail with a serialization error (the caller retries) or count nothing", async () => {
      await restoring(async () => {
        const r = await racingInserts(3, "serializable");
        for (const e of r.errors) expect([null, "40001"]).toContain(e);
        expect(r.change).toEqual(change({ delivered: 1, opened: 1 }, 1));
        expect(await drift()).toEqual(NO_DRIFT);
      });
    });

    // A repeatable read snapshot, taken before the lock was granted, would miss the other writers'
    // rows and count the pair again: the trigger refuses such writers with a clear error instead.
    it("repeatable read: writers are refused (feature_not_supported), nothing is counted", async () => {
      const m = await message(C, V1);
      const before = await stats(C, V1);
      const s = eventsSql([{ m, type: "OPENED" }]);
      const c = new pg.Client({ connectionString: ca.url });
      await c.connect();
      try {
        await c.query("begin isolation level repeatable read");
        const err = await c.query(s.text, s.params).then(() => null, (e: { code?: string; message?: string }) => e);
        await c.query("rollback");
        expect(err?.code).toBe("0A000");
        expect(err?.message).toMatch(/READ COMMITTED or SERIALIZABLE/);
      } finally {
        await c.end();
      }
      expect(delta(before, await stats(C, V1))).toEqual({});
      expect(await drift()).toEqual(NO_DRIFT);
    });

    it("without the lock lines (the trigger function replaced in this test's database) the same races drift", async () => {
      const [{ def }] = await q(`select pg_get_functiondef('marketsage_campaign_events_changed()'::regprocedure) def`);
      let removed = 0;
      const unlocked = (def as string).replace(/PERFORM pg_advisory_xact_lock\(7301,[^;]*;/g, () => (removed++, ""));
      expect(removed).toBe(3); // insert, delete and update branches
      await q(unlocked);
      // monitoring's message_kpi_slots trigger runs first on the same statements and takes its own
      // per-message locks, which would keep these writers apart too: off here as well.
      const [{ kdef }] = await q(`select pg_get_functiondef('marketsage_kpi_events_changed()'::regprocedure) kdef`);
      let kremoved = 0;
      await q((kdef as string).replace(/PERFORM pg_advisory_xact_lock\(7303,[^;]*;/g, () => (kremoved++, "")));
      expect(kremoved).toBe(3);
      try {
        const ins = await racingInserts(2);
        expect(ins.found).not.toContain("advisory");
        expect(ins.change).toEqual(change({ delivered: 2, opened: 2 }, 2)); // each writer saw only its own row: counted twice
        expect((await drift()).stats.map((r) => r.opened)).toEqual([-1]);
        await q(`select marketsage_rebuild_campaign_stats(null)`);
        const del = await racingDeletes();
        expect(del.found).not.toContain("advisory");
        expect(del.change).toEqual({}); // each writer saw the other's row still there: never decremented
        expect((await drift()).stats.map((r) => r.clicked)).toEqual([-1]);
        await q(`select marketsage_rebuild_campaign_stats(null)`);
        const upd = await racingUpdates();
        expect(upd.found).not.toContain("advisory");
        expect(upd.change).toEqual({ clicked: 2 }); // neither saw the other's click: counted twice
        expect((await drift()).stats.map((r) => r.clicked)).toEqual([-1]);
      } finally {
        await q(def);
        await q(kdef);
        await q(`select marketsage_rebuild_campaign_stats(null)`);
        await q(`select marketsage_rebuild_message_kpis(null)`);
      }
      expect(await drift()).toEqual(NO_DRIFT);
    });
  });
});
