// The visitor order of migration leadpulse_rollups (visitor_sessions.prev_started_at,
// prev_source_at, prev_medium_at, prev_campaign_at: the start of the same visitor's previous
// session by (started_at, id), overall and with the same source, (source, medium) and campaign
// key), kept by statement triggers on visitor_sessions, is checked after every kind of write —
// track_events sessions (several in one batch, out of order), raw INSERTs earlier than the stored
// sessions and tied on started_at, UPDATEs of the time and of every field a key is made of,
// DELETEs, two transactions writing one visitor at once, bulk loads and the rebuild — against an
// independent computation from the base table: for each session, max(started_at) over the
// visitor's sessions before it by (started_at, id) with the same key (correlated subqueries, not
// the migration's lag() windows). Writes that change no key must not rewrite any session. The
// stored generated keys medium and campaign are checked against literal values and against their
// definition for every row, and get_traffic_sources' visitors per group against count(distinct).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { getTrafficSources } from "../src/tools/get-traffic-sources.ts";
import { trackEvents } from "../src/tools/track-events.ts";
import { ORG_A, ORG_B, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([trackEvents, getTrafficSources]);
const ROLE = "SUPER_ADMIN";
const CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
type Org = typeof ORG_A;

let n = 0;
const eid = (tag: string) => `so_${tag}_${String(++n).padStart(6, "0")}`;

// ---------- the reference ----------

/**
 * For each session in scope (by visitor and/or organization), the start of its visitor's previous
 * session by (started_at, id) — overall, with the same source, the same (source, medium), and the
 * same campaign key (a UTM campaign; without one, the source) — by correlated subqueries; returns
 * how many sessions were checked and every one whose stored columns differ.
 */
async function drift(scope: { visitors?: string[]; orgs?: string[] }) {
  const [r] = await lp.q(
    `with scope as (
       select s.* from visitor_sessions s
        where ($1::uuid[] is null or s.visitor_id = any($1::uuid[])) and ($2::uuid[] is null or s.organization_id = any($2::uuid[]))
     ), ref as (
       select s.id,
              (select max(p.started_at) from visitor_sessions p
                where p.visitor_id = s.visitor_id and (p.started_at, p.id) < (s.started_at, s.id)) as prev_started_at,
              (select max(p.started_at) from visitor_sessions p
                where p.visitor_id = s.visitor_id and (p.started_at, p.id) < (s.started_at, s.id) and p.source = s.source) as prev_source_at,
              (select max(p.started_at) from visitor_sessions p
                where p.visitor_id = s.visitor_id and (p.started_at, p.id) < (s.started_at, s.id) and p.source = s.source and p.medium = s.medium) as prev_medium_at,
              (select max(p.started_at) from visitor_sessions p
                where p.visitor_id = s.visitor_id and (p.started_at, p.id) < (s.started_at, s.id)
                  and p.campaign = s.campaign and (s.campaign <> '' or p.source = s.source)) as prev_campaign_at
         from scope s
     ), bad as (
       select s.id, s.visitor_id, s.started_at, s.source, s.medium, s.campaign,
              s.prev_started_at, s.prev_source_at, s.prev_medium_at, s.prev_campaign_at,
              r.prev_started_at as ref_started, r.prev_source_at as ref_source, r.prev_medium_at as ref_medium, r.prev_campaign_at as ref_campaign
         from scope s join ref r using (id)
        where (s.prev_started_at, s.prev_source_at, s.prev_medium_at, s.prev_campaign_at)
              is distinct from (r.prev_started_at, r.prev_source_at, r.prev_medium_at, r.prev_campaign_at)
     )
     select (select count(*)::int from scope) as checked, coalesce((select json_agg(bad order by bad.started_at, bad.id) from bad), '[]'::json) as mismatches`,
    [scope.visitors ?? null, scope.orgs ?? null],
  );
  return r as { checked: number; mismatches: unknown[] };
}
async function expectNoDrift(visitors: string[], sessions?: number) {
  const d = await drift({ visitors });
  expect(d.mismatches).toEqual([]);
  if (sessions !== undefined) expect(d.checked).toBe(sessions);
  else expect(d.checked).toBeGreaterThan(0);
}

/** A visitor's sessions in (started_at, id) order, times as minutes from `base`; prev = [any, source, source+medium, campaign]. */
async function chain(visitor: string, base: number) {
  const m = (d: Date | null) => (d === null ? null : (d.getTime() - base) / MIN);
  const rows = await lp.q(
    `select id::text, started_at, source, medium, campaign, prev_started_at, prev_source_at, prev_medium_at, prev_campaign_at
       from visitor_sessions where visitor_id = $1 order by started_at, id`,
    [visitor],
  );
  return rows.map((r) => ({
    at: m(r.started_at),
    key: `${r.source}/${r.medium}/${r.campaign}`,
    prev: [m(r.prev_started_at), m(r.prev_source_at), m(r.prev_medium_at), m(r.prev_campaign_at)],
  }));
}
/** The stored previous-session columns and row versions of a visitor's sessions, by id. */
async function rowsOf(visitor: string) {
  const rows = await lp.q(
    `select id::text, xmin::text, prev_started_at, prev_source_at, prev_medium_at, prev_campaign_at from visitor_sessions where visitor_id = $1 order by id`,
    [visitor],
  );
  return new Map(rows.map((r) => [r.id as string, r]));
}
const prevsOf = async (visitor: string) => [...(await rowsOf(visitor)).values()].map((r) => [r.id, r.prev_started_at, r.prev_source_at, r.prev_medium_at, r.prev_campaign_at]);

// ---------- writers ----------

type Ev = { type: string; id: string; ts: number; visitor_id: string; url: string } & Record<string, unknown>;
const pv = (vid: string, ts: number, extra: Record<string, unknown> = {}): Ev => ({ type: "pageview", id: eid("pv"), ts, visitor_id: vid, url: "https://shop.test/", ...extra });
const track = (events: unknown[], org: Org = ORG_A) =>
  lp.call<{ stored: number; sessions_opened: number; rejected: unknown[] }>(ROLE, "track_events", { events, context: { user_agent: CHROME_ANDROID, tz: "Africa/Lagos" } }, org);

async function visitorId(fp: string, org: Org = ORG_A): Promise<string> {
  const [r] = await lp.q(`select id::text from visitors where organization_id = $1 and fingerprint = $2`, [org.id, fp]);
  return r.id;
}
/** A visitor row of its own (no sessions). */
async function newVisitor(fp: string, org: Org = ORG_A): Promise<string> {
  const [r] = await lp.q(
    `insert into visitors (id, organization_id, fingerprint, device, first_seen_at, last_seen_at) values (gen_random_uuid(), $1, $2, 'MOBILE', $3, $3) returning id::text`,
    [org.id, fp, lp.now],
  );
  return r.id;
}

type Stmt = { text: string; params: unknown[] };
type RawSession = { id?: string; at: number; src?: string | null; med?: string | null; camp?: string | null; ref?: string | null };
/** Raw sessions of one visitor in one statement (in the order given); their ids. */
const insertSql = (visitor: string, rows: RawSession[], org: Org = ORG_A): Stmt & { ids: string[] } => {
  const ids = rows.map((r) => r.id ?? randomUUID());
  return {
    ids,
    text: `insert into visitor_sessions (id, organization_id, visitor_id, started_at, ended_at, referrer, utm_source, utm_medium, utm_campaign, device)
           select x.id, $1, $2, x.at, x.at, x.ref, x.src, x.med, x.camp, 'MOBILE'
             from unnest($3::uuid[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[]) with ordinality as x(id, at, ref, src, med, camp, i)
            order by x.i`,
    params: [org.id, visitor, ids, rows.map((r) => new Date(r.at)), rows.map((r) => r.ref ?? null), rows.map((r) => r.src ?? null), rows.map((r) => r.med ?? null), rows.map((r) => r.camp ?? null)],
  };
};
const exec = (s: Stmt) => lp.q(s.text, s.params);
const insert = async (visitor: string, rows: RawSession[], org: Org = ORG_A) => {
  const s = insertSql(visitor, rows, org);
  await exec(s);
  return s.ids;
};
/** Session ids that sort in the order of `k` (same random prefix, k in the last group). */
const idSeq = () => {
  const p = randomUUID().slice(0, 8);
  return (k: number) => `${p}-0000-4000-8000-${k.toString(16).padStart(12, "0")}`;
};

/** Runs statements on a connection of its own with marketsage.bulk_load on (the triggers skip). */
async function bulk(stmts: Stmt[]) {
  const c = new pg.Client({ connectionString: lp.url });
  await c.connect();
  try {
    await c.query(`set marketsage.bulk_load = 'on'`);
    for (const s of stmts) await c.query(s.text, s.params);
  } finally {
    await c.end();
  }
}

const FB_CPC_BF = { src: "facebook", med: "cpc", camp: "bf" };
const GOOGLE_REF = { ref: "https://www.google.com/search?q=shoes" };

// ---------- the tests ----------

describe("after the seed", () => {
  it("every session of both organizations has its visitor's previous sessions", async () => {
    for (const org of [ORG_A, ORG_B]) {
      const d = await drift({ orgs: [org.id] });
      expect(d.mismatches, org.slug).toEqual([]);
      expect(d.checked, org.slug).toBeGreaterThan(100);
    }
    // Not a vacuous check: returning visitors, and keys whose previous session is not the previous one.
    const [k] = await lp.q(
      `select count(*) filter (where prev_started_at is not null)::int as returning,
              count(*) filter (where prev_source_at is distinct from prev_started_at)::int as source_differs,
              count(*) filter (where prev_medium_at is distinct from prev_source_at)::int as medium_differs,
              count(*) filter (where prev_campaign_at is distinct from prev_source_at)::int as campaign_differs
         from visitor_sessions`,
    );
    expect(k.returning).toBeGreaterThan(100);
    expect(k.source_differs).toBeGreaterThan(20);
    expect(k.medium_differs).toBeGreaterThan(0);
    expect(k.campaign_differs).toBeGreaterThan(20);
  });
});

describe("get_traffic_sources: visitors per group are the distinct visitors of its sessions", () => {
  const FROM = "2026-10-01T00:00:00.000Z";
  const TO = "2026-11-16T00:00:00.000Z";
  type Grouping = "source" | "source_medium" | "campaign";
  interface Row { source: string | null; medium: string | null; campaign: string | null; sessions: number; visitors: number }
  const keySql: Record<Grouping, string> = {
    source: `s.source as source, null::text as medium, null::text as campaign`,
    source_medium: `s.source as source, s.medium as medium, null::text as campaign`,
    campaign: `case when s.campaign = '' then s.source end as source, null::text as medium, nullif(s.campaign, '') as campaign`,
  };
  const keyOf = (r: { source: string | null; medium: string | null; campaign: string | null }) => JSON.stringify([r.source, r.medium, r.campaign]);

  async function byHand(org: Org, g: Grouping) {
    const rows = await lp.q<Row>(
      `select ${keySql[g]}, count(*)::int as sessions, count(distinct s.visitor_id)::int as visitors
         from visitor_sessions s join visitors v on v.id = s.visitor_id
        where s.organization_id = $1 and s.started_at >= $2 and s.started_at < $3 and not v.is_bot
        group by 1, 2, 3`,
      [org.id, FROM, TO],
    );
    const [t] = await lp.q(
      `select count(*)::int as sessions, count(distinct s.visitor_id)::int as visitors
         from visitor_sessions s join visitors v on v.id = s.visitor_id
        where s.organization_id = $1 and s.started_at >= $2 and s.started_at < $3 and not v.is_bot`,
      [org.id, FROM, TO],
    );
    return { rows: new Map(rows.map((r) => [keyOf(r), { sessions: r.sessions, visitors: r.visitors }])), total: t as { sessions: number; visitors: number } };
  }
  async function tool(org: Org, group_by: Grouping) {
    const all: Row[] = [];
    let cursor: string | undefined;
    let totals: { sessions: number; visitors: number } | undefined;
    do {
      const page = await lp.call<{ rows: Row[]; totals: { sessions: number; visitors: number }; next_cursor: string | null }>(
        ROLE, "get_traffic_sources", { group_by, range: { from: FROM, to: TO }, limit: 50, ...(cursor ? { cursor } : {}) }, org);
      totals ??= page.totals;
      all.push(...page.rows);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return { rows: new Map(all.map((r) => [keyOf(r), { sessions: r.sessions, visitors: r.visitors }])), count: all.length, total: { sessions: totals!.sessions, visitors: totals!.visitors } };
  }

  it("for source, source_medium and campaign, in both organizations, with returning visitors and bots", async () => {
    // Two visitors of each organization with sessions in the range, one of them seen before it,
    // made bots for this test: all their sessions leave.
    const bots = await lp.q(
      `select (select v.id::text from visitors v where v.organization_id = o.id and exists (
                 select 1 from visitor_sessions s where s.visitor_id = v.id and s.started_at >= $1 and s.started_at < $2 and s.prev_started_at < $1)
               order by v.id limit 1) as id
         from organizations o where o.id = any($3::uuid[])
       union all
       select (select v.id::text from visitors v where v.organization_id = o.id and exists (
                 select 1 from visitor_sessions s where s.visitor_id = v.id and s.started_at >= $1 and s.started_at < $2 and s.prev_started_at is null)
               order by v.id limit 1)
         from organizations o where o.id = any($3::uuid[])`,
      [FROM, TO, [ORG_A.id, ORG_B.id]],
    );
    expect(bots.filter((b) => b.id !== null)).toHaveLength(4);
    await lp.q(`update visitors set is_bot = true where id = any($1::uuid[])`, [bots.map((b) => b.id)]);
    try {
      for (const org of [ORG_A, ORG_B]) {
        // Not vacuous: bots' sessions in the range, and other visitors seen before the range and
        // with several sessions of one key in it.
        const [k] = await lp.q(
          `select count(*) filter (where v.is_bot)::int as bot,
                  count(*) filter (where not v.is_bot and s.prev_started_at < $2)::int as seen_before,
                  count(*) filter (where not v.is_bot and s.prev_source_at >= $2)::int as repeat_source,
                  count(*) filter (where not v.is_bot and s.prev_campaign_at >= $2)::int as repeat_campaign
             from visitor_sessions s join visitors v on v.id = s.visitor_id
            where s.organization_id = $1 and s.started_at >= $2 and s.started_at < $3`,
          [org.id, FROM, TO],
        );
        expect(k.bot, org.slug).toBeGreaterThan(1);
        expect(k.seen_before, org.slug).toBeGreaterThan(org === ORG_A ? 5 : 0);
        expect(k.repeat_source, org.slug).toBeGreaterThan(3);
        expect(k.repeat_campaign, org.slug).toBeGreaterThan(3);
        for (const g of ["source", "source_medium", "campaign"] as const) {
          const what = `${org.slug} ${g}`;
          const want = await byHand(org, g);
          const got = await tool(org, g);
          expect(got.count, what).toBe(want.rows.size);
          expect(Object.fromEntries(got.rows), what).toEqual(Object.fromEntries(want.rows));
          expect(got.total, what).toEqual(want.total);
          expect([...want.rows.values()].some((r) => r.visitors < r.sessions), what).toBe(true);
        }
      }
    } finally {
      await lp.q(`update visitors set is_bot = false where id = any($1::uuid[])`, [bots.map((b) => b.id)]);
    }
  });
});

describe("sessions opened by track_events", () => {
  it("UTM, referrer and direct sessions; the same source twice, another medium, a campaign across sources; an earlier session sent last", async () => {
    const vid = "so_track_1";
    const T = lp.now.getTime() - 5 * DAY;
    // Three sessions an hour apart in one batch (one INSERT of three sessions).
    const r1 = await track([
      pv(vid, T, { utm: { source: "Facebook", medium: "cpc", campaign: "bf" } }),
      pv(vid, T + HOUR, { referrer: "https://www.google.com/search?q=shoes" }),
      pv(vid, T + 2 * HOUR),
    ]);
    expect(r1).toMatchObject({ sessions_opened: 3, rejected: [] });
    for (const [h, extra] of [
      [3, { utm: { source: "facebook", medium: "email", campaign: "nl" } }],
      [4, { utm: { source: "facebook", medium: "cpc", campaign: "bf" } }],
      [5, { utm: { source: "google", medium: "cpc", campaign: "bf" } }],
      [6, { referrer: "https://google.com/" }],
    ] as const) {
      expect(await track([pv(vid, T + h * HOUR, extra)])).toMatchObject({ sessions_opened: 1, rejected: [] });
    }
    const V = await visitorId(vid);
    expect(await chain(V, T)).toEqual([
      { at: 0, key: "facebook/cpc/bf", prev: [null, null, null, null] },
      { at: 60, key: "google.com/referral/", prev: [0, null, null, null] },
      { at: 120, key: "direct/(none)/", prev: [60, null, null, null] },
      { at: 180, key: "facebook/email/nl", prev: [120, 0, null, null] },
      { at: 240, key: "facebook/cpc/bf", prev: [180, 180, 0, 0] },
      { at: 300, key: "google/cpc/bf", prev: [240, null, null, 240] },
      { at: 360, key: "google.com/referral/", prev: [300, 60, 60, 60] },
    ]);
    await expectNoDrift([V], 7);

    // A session three hours before all of them, sent last, with a view of the latest session
    // (which extends it) in the same batch: the later sessions' previous ones change.
    expect(await track([pv(vid, T + 6 * HOUR + 10 * MIN), pv(vid, T - 3 * HOUR, { utm: { source: "google", medium: "cpc", campaign: "bf" } })])).toMatchObject({ sessions_opened: 1, rejected: [] });
    expect(await chain(V, T)).toEqual([
      { at: -180, key: "google/cpc/bf", prev: [null, null, null, null] },
      { at: 0, key: "facebook/cpc/bf", prev: [-180, null, null, -180] },
      { at: 60, key: "google.com/referral/", prev: [0, null, null, null] },
      { at: 120, key: "direct/(none)/", prev: [60, null, null, null] },
      { at: 180, key: "facebook/email/nl", prev: [120, 0, null, null] },
      { at: 240, key: "facebook/cpc/bf", prev: [180, 180, 0, 0] },
      { at: 300, key: "google/cpc/bf", prev: [240, -180, -180, 240] },
      { at: 360, key: "google.com/referral/", prev: [300, 60, 60, 60] },
    ]);

    // A late view 15 minutes before the latest session's start (25 before its last event) joins it
    // and moves its start.
    expect(await track([pv(vid, T + 6 * HOUR - 15 * MIN)])).toMatchObject({ sessions_opened: 0, rejected: [] });
    expect((await chain(V, T)).at(-1)).toEqual({ at: 345, key: "google.com/referral/", prev: [300, 60, 60, 60] });
    await expectNoDrift([V], 8);

    // The same fingerprint in the other organization is another visitor: nothing of it counts here.
    expect(await track([pv(vid, T + 7 * HOUR, { utm: { source: "facebook", medium: "cpc", campaign: "bf" } })], ORG_B)).toMatchObject({ sessions_opened: 1 });
    expect(await chain(await visitorId(vid, ORG_B), T)).toEqual([{ at: 420, key: "facebook/cpc/bf", prev: [null, null, null, null] }]);
    expect((await chain(V, T)).length).toBe(8);
  });
});

describe("raw INSERTs", () => {
  it("a session earlier than the stored ones; sessions tied on started_at are ordered by id", async () => {
    const V = await newVisitor("so_raw_order_1");
    const id = idSeq();
    const NEWS = { src: "news", med: "email", camp: "nov" };
    const B = Date.parse("2026-06-10T08:00:00.000Z");
    await insert(V, [{ id: id(0x10), at: B }]);
    expect(await chain(V, B)).toEqual([{ at: 0, key: "direct/(none)/", prev: [null, null, null, null] }]);
    // Two hours before: the stored session's previous one is the new one.
    await insert(V, [{ id: id(0x20), at: B - 2 * HOUR, ...NEWS }]);
    expect(await chain(V, B)).toEqual([
      { at: -120, key: "news/email/nov", prev: [null, null, null, null] },
      { at: 0, key: "direct/(none)/", prev: [-120, null, null, null] },
    ]);
    // Two at the same time in one statement, the larger id first: the smaller id comes first.
    await insert(V, [{ id: id(2), at: B + HOUR, ...NEWS }, { id: id(1), at: B + HOUR, ...NEWS }]);
    // Then a smaller id and a larger one at that time, and one after them all.
    await insert(V, [{ id: id(0), at: B + HOUR, ref: "https://t.co/x" }]);
    await insert(V, [{ id: id(3), at: B + HOUR }, { id: id(4), at: B + 90 * MIN, ...NEWS }]);
    const c = await chain(V, B);
    expect(c).toEqual([
      { at: -120, key: "news/email/nov", prev: [null, null, null, null] },
      { at: 0, key: "direct/(none)/", prev: [-120, null, null, null] },
      { at: 60, key: "t.co/referral/", prev: [0, null, null, null] }, // id 0
      { at: 60, key: "news/email/nov", prev: [60, -120, -120, -120] }, // id 1
      { at: 60, key: "news/email/nov", prev: [60, 60, 60, 60] }, // id 2
      { at: 60, key: "direct/(none)/", prev: [60, 0, 0, 0] }, // id 3
      { at: 90, key: "news/email/nov", prev: [60, 60, 60, 60] }, // id 4
    ]);
    const ids = (await lp.q(`select id::text from visitor_sessions where visitor_id = $1 order by started_at, id`, [V])).map((r) => r.id);
    expect(ids).toEqual([id(0x20), id(0x10), id(0), id(1), id(2), id(3), id(4)]);
    await expectNoDrift([V], 7);
  });
});

describe("raw UPDATEs and DELETEs", () => {
  it("the time, each field of the keys, the visitor, two rows in one statement, and a delete of a middle session", async () => {
    const V = await newVisitor("so_upd_v");
    const W = await newVisitor("so_upd_w");
    const B = Date.parse("2026-05-04T09:00:00.000Z");
    const [a, b, c, d, e, f] = await insert(V, [
      { at: B, ...FB_CPC_BF },
      { at: B + HOUR, ...GOOGLE_REF },
      { at: B + 2 * HOUR, ...FB_CPC_BF },
      { at: B + 3 * HOUR },
      { at: B + 4 * HOUR, src: "facebook", med: "email" },
      { at: B + 5 * HOUR, ...GOOGLE_REF },
    ]);
    await insert(W, [{ at: B + 200 * MIN, src: "facebook", med: "cpc" }]);
    await expectNoDrift([V, W], 7);

    /** Runs one statement; the visitors' columns must change (so the step tests something) and match the reference. */
    const step = async (what: string, text: string, params: unknown[]) => {
      const before = [await prevsOf(V), await prevsOf(W)];
      await lp.q(text, params);
      expect([await prevsOf(V), await prevsOf(W)], `${what}: something changed`).not.toEqual(before);
      const dr = await drift({ visitors: [V, W] });
      expect(dr.mismatches, what).toEqual([]);
    };
    const set = (col: string) => `update visitor_sessions set ${col} = $2 where id = $1`;
    await step("d's start moved before all", set("started_at"), [d, new Date(B - HOUR)]);
    await step("a's start moved between c and e", set("started_at"), [a, new Date(B + 150 * MIN)]);
    await step("b (a referral) given a UTM source, medium and campaign", `update visitor_sessions set utm_source = 'facebook', utm_medium = 'cpc', utm_campaign = 'bf' where id = $1`, [b]);
    await step("f's referrer changed to another host", set("referrer"), [f, "https://facebook/"]);
    await step("e's medium changed", set("utm_medium"), [e, "CPC"]);
    await step("a's campaign changed", set("utm_campaign"), [a, "cm"]);
    await step("the middle session c deleted", `delete from visitor_sessions where id = $1`, [c]);
    await step("e moved to visitor W", set("visitor_id"), [e, W]);
    await step("b's and d's starts swapped in one statement", `update visitor_sessions set started_at = case when id = $1 then $3::timestamptz else $4::timestamptz end where id in ($1, $2)`, [b, d, new Date(B - HOUR), new Date(B + HOUR)]);

    expect(await chain(V, B)).toEqual([
      { at: -60, key: "facebook/cpc/bf", prev: [null, null, null, null] }, // b
      { at: 60, key: "direct/(none)/", prev: [-60, null, null, null] }, // d
      { at: 150, key: "facebook/cpc/cm", prev: [60, -60, -60, null] }, // a
      { at: 300, key: "facebook/referral/", prev: [150, 150, null, null] }, // f
    ]);
    expect(await chain(W, B)).toEqual([
      { at: 200, key: "facebook/cpc/", prev: [null, null, null, null] },
      { at: 240, key: "facebook/cpc/", prev: [200, 200, 200, 200] }, // e
    ]);
  });

  it("updates that change no key or time (ended_at, page_views, the summary, case and spacing of UTM fields, the referrer's path, track_events' views) rewrite no other session", async () => {
    const vid = "so_quiet_1";
    const T = lp.now.getTime() - 4 * DAY;
    await track([
      pv(vid, T, { utm: { source: "Facebook", medium: "cpc", campaign: "bf" } }),
      pv(vid, T + HOUR, { referrer: "https://www.google.com/search?q=x" }),
      pv(vid, T + 2 * HOUR),
    ]);
    const V = await visitorId(vid);
    const [s0, s1, s2] = (await lp.q(`select id::text from visitor_sessions where visitor_id = $1 order by started_at`, [V])).map((r) => r.id as string);
    // Wrong values written on purpose (an update of these columns alone is ignored by the trigger):
    // a recount of the visitor would replace them.
    const BOGUS = new Date("2000-01-01T00:00:00.000Z");
    await lp.q(`update visitor_sessions set prev_started_at = $2, prev_source_at = $2, prev_medium_at = $2, prev_campaign_at = $2 where visitor_id = $1`, [V, BOGUS]);
    const bogus = async () => [...(await rowsOf(V)).values()].every((r) => [r.prev_started_at, r.prev_source_at, r.prev_medium_at, r.prev_campaign_at].every((x) => x?.getTime() === BOGUS.getTime()));
    expect(await bogus()).toBe(true);

    const steps: Array<[string, string, () => Promise<unknown>]> = [
      ["ended_at", s1!, () => lp.q(`update visitor_sessions set ended_at = ended_at + interval '1 minute' where id = $1`, [s1])],
      ["page_views", s1!, () => lp.q(`update visitor_sessions set page_views = page_views + 1 where id = $1`, [s1])],
      ["landing, exit, device, country", s1!, () => lp.q(`update visitor_sessions set landing_url = 'https://shop.test/x', exit_at = ended_at, device = 'DESKTOP', country = 'GH' where id = $1`, [s1])],
      ["UTM case and spacing", s0!, () => lp.q(`update visitor_sessions set utm_source = ' FACEBOOK ', utm_medium = 'CPC ', utm_campaign = ' bf' where id = $1`, [s0])],
      ["the referrer's path and www.", s1!, () => lp.q(`update visitor_sessions set referrer = 'https://google.com/other' where id = $1`, [s1])],
      ["a track_events view in the latest session", s2!, () => track([pv(vid, T + 2 * HOUR + 5 * MIN)])],
    ];
    for (const [what, target, run] of steps) {
      const before = await rowsOf(V);
      await run();
      const after = await rowsOf(V);
      for (const [sid, r] of before) if (sid !== target) expect(after.get(sid)!.xmin, `${what}: ${sid} not rewritten`).toBe(r.xmin);
      expect(await bogus(), `${what}: not recounted`).toBe(true);
    }
    // Setting the time and the visitor to what they are: every row written by the statement, none recounted.
    await lp.q(`update visitor_sessions set started_at = started_at, visitor_id = visitor_id where visitor_id = $1`, [V]);
    expect(await bogus()).toBe(true);
    expect(await chain(V, T).then((c) => c.map((x) => x.key))).toEqual(["facebook/cpc/bf", "google.com/referral/", "direct/(none)/"]);

    // A key change recounts the visitor.
    await lp.q(`update visitor_sessions set utm_source = 'google' where id = $1`, [s2]);
    expect(await bogus()).toBe(false);
    await expectNoDrift([V], 3);
  });
});

describe("two transactions writing one visitor at once (READ COMMITTED)", () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Until the backend waits on a lock (its kind), or its statement returned ("ran"). */
  async function settle(pid: number, done: () => boolean): Promise<string> {
    for (let i = 0; i < 250; i++) {
      if (done()) return "ran";
      const [r] = await lp.q(`select wait_event_type, wait_event from pg_stat_activity where pid = $1`, [pid]);
      if (r?.wait_event_type === "Lock") return r.wait_event as string;
      await sleep(20);
    }
    return "timeout";
  }

  /** The first runs its statement and stays open; the second runs its own, and once it waits, the
   *  first commits, then the second. Returns how the second was found waiting. */
  async function race(first: Stmt, second: Stmt): Promise<string> {
    const cs = [new pg.Client({ connectionString: lp.url }), new pg.Client({ connectionString: lp.url })];
    await Promise.all(cs.map((c) => c.connect()));
    try {
      const pid = (await cs[1]!.query(`select pg_backend_pid() pid`)).rows[0].pid as number;
      for (const c of cs) await c.query("begin isolation level read committed");
      await cs[0]!.query(first.text, first.params);
      let done = false;
      const p = cs[1]!.query(second.text, second.params).then(
        () => ((done = true), null),
        (e: Error) => ((done = true), e),
      );
      const found = await settle(pid, () => done);
      await cs[0]!.query("commit");
      const err = await p;
      await cs[1]!.query(err ? "rollback" : "commit");
      if (err) throw err;
      return found;
    } finally {
      await Promise.all(cs.map((c) => c.end()));
    }
  }

  const B = Date.parse("2026-04-02T10:00:00.000Z");
  async function visitorWith(fp: string) {
    const V = await newVisitor(fp);
    const ids = await insert(V, [{ at: B }, { at: B + HOUR, src: "google", med: "cpc" }]);
    return { V, ids };
  }

  it("two inserts, the second later: it counts the first's committed session as its previous one", async () => {
    const { V } = await visitorWith("so_race_1");
    const found = await race(insertSql(V, [{ at: B + 2 * HOUR, src: "google", med: "cpc" }]), insertSql(V, [{ at: B + 3 * HOUR, src: "google", med: "cpc" }]));
    expect(found).toBe("transactionid");
    expect((await chain(V, B)).map((x) => x.prev)).toEqual([
      [null, null, null, null],
      [0, null, null, null],
      [60, 60, 60, 60],
      [120, 120, 120, 120],
    ]);
    await expectNoDrift([V], 4);
  });

  it("two inserts, the second earlier: it rewrites the first's committed session", async () => {
    const { V } = await visitorWith("so_race_2");
    const found = await race(insertSql(V, [{ at: B + 3 * HOUR, src: "google", med: "cpc" }]), insertSql(V, [{ at: B + 2 * HOUR, src: "google", med: "email" }]));
    expect(found).toBe("transactionid");
    expect((await chain(V, B)).map((x) => x.prev)).toEqual([
      [null, null, null, null],
      [0, null, null, null],
      [60, 60, null, 60],
      [120, 120, 60, 120],
    ]);
    await expectNoDrift([V], 4);
  });

  it("an insert waiting for a delete and for a key update of the session before it", async () => {
    const { V, ids } = await visitorWith("so_race_3");
    const found = await race({ text: `delete from visitor_sessions where id = $1`, params: [ids[1]] }, insertSql(V, [{ at: B + 2 * HOUR, src: "google", med: "cpc" }]));
    expect(found).toBe("transactionid");
    expect((await chain(V, B)).map((x) => x.prev)).toEqual([[null, null, null, null], [0, null, null, null]]);
    await expectNoDrift([V], 2);

    const found2 = await race({ text: `update visitor_sessions set utm_source = 'google', utm_medium = 'cpc' where id = $1`, params: [ids[0]] }, insertSql(V, [{ at: B + 3 * HOUR, src: "google", med: "cpc" }]));
    expect(found2).toBe("transactionid");
    expect((await chain(V, B)).map((x) => x.prev)).toEqual([[null, null, null, null], [0, 0, 0, 0], [120, 120, 120, 120]]);
    await expectNoDrift([V], 3);
  });
});

describe("bulk loads and the rebuild", () => {
  const orgRows = (org: Org) =>
    lp.q(`select id::text, xmin::text, prev_started_at, prev_source_at, prev_medium_at, prev_campaign_at from visitor_sessions where organization_id = $1 order by id`, [org.id]);

  it("with bulk_load on, inserts, updates and deletes leave the columns stale; rebuilding one organization fixes it and writes no other's", async () => {
    const B = Date.parse("2026-03-03T12:00:00.000Z");
    const A1 = await newVisitor("so_bulk_a1");
    const A2 = await newVisitor("so_bulk_a2");
    const B1 = await newVisitor("so_bulk_b1", ORG_B);
    await insert(A1, [{ at: B, ...FB_CPC_BF }, { at: B + HOUR, ...FB_CPC_BF }]);
    const a2 = await insert(A2, [{ at: B, ...GOOGLE_REF }, { at: B + HOUR }, { at: B + 2 * HOUR, ...GOOGLE_REF }]);
    const b1 = await insert(B1, [{ at: B }, { at: B + HOUR, ...FB_CPC_BF }, { at: B + 2 * HOUR }], ORG_B);
    await expectNoDrift([A1, A2, B1], 8);

    await bulk([
      insertSql(A1, [{ at: B + 30 * MIN, ...FB_CPC_BF }]),
      { text: `update visitor_sessions set utm_source = 'bing' where id = $1`, params: [a2[0]] },
      { text: `delete from visitor_sessions where id = $1`, params: [b1[1]] },
    ]);
    // Stale: nothing recounted.
    expect((await drift({ visitors: [A1] })).mismatches).toHaveLength(2);
    expect((await drift({ visitors: [A2] })).mismatches).toHaveLength(1);
    expect((await drift({ visitors: [B1] })).mismatches).toHaveLength(1);
    // A connection without the setting still runs the triggers.
    const A3 = await newVisitor("so_bulk_a3");
    await insert(A3, [{ at: B }, { at: B + HOUR }]);
    await expectNoDrift([A3], 2);

    const bBefore = await orgRows(ORG_B);
    await lp.q(`select marketsage_rebuild_session_order($1)`, [ORG_A.id]);
    const a = await drift({ orgs: [ORG_A.id] });
    expect(a.mismatches).toEqual([]);
    expect(a.checked).toBeGreaterThan(500);
    expect((await chain(A1, B)).map((x) => x.prev)).toEqual([[null, null, null, null], [0, 0, 0, 0], [30, 30, 30, 30]]);
    // Organization B: not written (same row versions), still stale.
    expect(await orgRows(ORG_B)).toEqual(bBefore);
    expect((await drift({ visitors: [B1] })).mismatches).toHaveLength(1);

    await lp.q(`select marketsage_rebuild_session_order(null)`);
    expect((await drift({ orgs: [ORG_A.id, ORG_B.id] })).mismatches).toEqual([]);
    expect((await chain(B1, B)).map((x) => x.prev)).toEqual([[null, null, null, null], [0, 0, 0, 0]]);
    // Nothing stale: a rebuild writes no row.
    const all = await lp.q(`select id::text, xmin::text from visitor_sessions order by id`);
    await lp.q(`select marketsage_rebuild_session_order(null)`);
    expect(await lp.q(`select id::text, xmin::text from visitor_sessions order by id`)).toEqual(all);
  });
});

describe("the stored generated keys medium and campaign", () => {
  it("literal values for hand-picked rows, and their definition for every row", async () => {
    const V = await newVisitor("so_gen_1");
    const B = Date.parse("2026-02-02T02:00:00.000Z");
    const cases: Array<[RawSession, { source: string; medium: string; campaign: string }]> = [
      [{ at: B, src: "Facebook", med: "   ", ref: "https://l.facebook.com/" }, { source: "facebook", medium: "(not set)", campaign: "" }],
      [{ at: B + 1, src: " Google ", med: " CPC ", camp: " Black Friday " }, { source: "google", medium: "cpc", campaign: "Black Friday" }],
      [{ at: B + 2, src: "newsletter", camp: "   " }, { source: "newsletter", medium: "(not set)", campaign: "" }],
      [{ at: B + 3, ref: "https://www.Nairaland.com/topic", med: "cpc", camp: "x" }, { source: "nairaland.com", medium: "referral", campaign: "" }],
      [{ at: B + 4, src: "  ", med: "email", camp: "y", ref: "https://t.co/a" }, { source: "t.co", medium: "referral", campaign: "" }],
      [{ at: B + 5, src: "", med: "email", camp: "y" }, { source: "direct", medium: "(none)", campaign: "" }],
      [{ at: B + 6 }, { source: "direct", medium: "(none)", campaign: "" }],
      [{ at: B + 7, ref: "not a url" }, { source: "direct", medium: "(none)", campaign: "" }],
    ];
    const ids = await insert(V, cases.map((c) => c[0]));
    const rows = await lp.q(`select id::text, source, medium, campaign from visitor_sessions where id = any($1::uuid[])`, [ids]);
    const by = new Map(rows.map((r) => [r.id, { source: r.source, medium: r.medium, campaign: r.campaign }]));
    expect(ids.map((id) => by.get(id))).toEqual(cases.map((c) => c[1]));

    // An update recomputes them.
    await lp.q(`update visitor_sessions set utm_source = 'x', utm_medium = null, utm_campaign = 'Camp' where id = $1`, [ids[6]]);
    expect((await lp.q(`select source, medium, campaign from visitor_sessions where id = $1`, [ids[6]]))[0]).toEqual({ source: "x", medium: "(not set)", campaign: "Camp" });

    // Every row (seeded by COPY or written by this file) against the definition worked out here.
    const host = (r: string | null) => {
      const m = r === null ? null : /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#:]+)/.exec(r);
      return m ? m[1]!.toLowerCase().replace(/^www\./, "") || null : null;
    };
    const all = await lp.q(`select id::text, utm_source, utm_medium, utm_campaign, referrer, medium, campaign from visitor_sessions`);
    const bad = all.filter((r) => {
      const utm = (r.utm_source ?? "").trim() !== "";
      const medium = utm ? (r.utm_medium ?? "").trim().toLowerCase() || "(not set)" : host(r.referrer) !== null ? "referral" : "(none)";
      const campaign = utm ? (r.utm_campaign ?? "").trim() : "";
      return r.medium !== medium || r.campaign !== campaign;
    });
    expect(bad).toEqual([]);
    expect(all.length).toBeGreaterThan(1000);
    expect(new Set(all.map((r) => r.medium)).size).toBeGreaterThan(5);
    expect(new Set(all.map((r) => r.campaign)).size).toBeGreaterThan(10);
  });
});

// Rewriting a primary key (nothing in the code base does): the id breaks ties on started_at, so the
// UPDATE trigger must recount a row whose id changed (it has no old/new pair).
describe("a session's id rewritten", () => {
  it("changing the id of a session tied on started_at with another re-orders the two", async () => {
    const V = await newVisitor("so_id_1");
    const id = idSeq();
    const B = Date.parse("2026-01-05T05:00:00.000Z");
    await insert(V, [{ id: id(5), at: B - HOUR }, { id: id(1), at: B }, { id: id(2), at: B }]);
    expect((await chain(V, B)).map((x) => x.prev)).toEqual([[null, null, null, null], [-60, -60, -60, -60], [0, 0, 0, 0]]);
    try {
      await lp.q(`update visitor_sessions set id = $2 where id = $1`, [id(1), id(3)]);
      // Now id 2 comes first at B (its previous session is the one an hour before), then id 3.
      await expectNoDrift([V], 3);
    } finally {
      await lp.q(`select marketsage_refresh_session_order($1::uuid[])`, [[V]]);
    }
  });
});
