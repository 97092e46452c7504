import { afterAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "@marketsage/db";
import type { OrgInfo } from "@marketsage/core";
import { compileRule } from "../src/segments/compile.ts";
import { compileOverFacts } from "../src/segments/facts.ts";
import { parseRule } from "../src/segments/rules.ts";
import { ORG_A, errorText, useCustomerData } from "./setup.ts";

const cd = useCustomerData();
let db: Db | undefined;
afterAll(async () => {
  await db?.$disconnect();
});
const DAY = 86_400_000;

async function count(rules: unknown): Promise<number> {
  return (await cd.call("ADMIN", "preview_segment", { rules, sample_size: 0 })).count;
}

/** A small deterministic PRNG so the property test explores the same cases on every run. */
function prng(seed: number) {
  return () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Random rules of the given depth over ATOMS, from a fixed seed. */
function randomRules(seed: number): (depth: number) => unknown {
  const rnd = prng(seed);
  const pick = () => ATOMS[Math.floor(rnd() * ATOMS.length)]!;
  const make = (depth: number): unknown => {
    if (depth === 0 || rnd() < 0.4) return pick();
    const r = rnd();
    if (r < 0.4) return { all: [make(depth - 1), make(depth - 1)] };
    if (r < 0.8) return { any: [make(depth - 1), make(depth - 1)] };
    return { not: make(depth - 1) };
  };
  return make;
}

const ATOMS = [
  { field: "country", op: "in", value: ["NG", "GH"] },
  { field: "country", op: "eq", value: "KE" },
  { field: "status", op: "eq", value: "ACTIVE" },
  { field: "city", op: "eq", value: "Lagos" },
  { field: "company", op: "contains", value: "a" },
  { field: "tag", op: "has", value: "vip" },
  { field: "tag", op: "has_any", value: ["newsletter", "b2b"] },
  { field: "created_at", op: "within_days", value: 120 },
  { field: "email", op: "exists" },
  { field: "phone", op: "missing" },
  { behavior: "message_event", event: "OPENED", within_days: 60 },
  { behavior: "message_event", event: "CLICKED", channel: "EMAIL", within_days: 30 },
  { behavior: "message_event", event: "DELIVERED", channel: "WHATSAPP", within_days: 90, min_count: 2 },
  { behavior: "visited", url_pattern: "/pricing", min_count: 1 },
  { behavior: "converted", within_days: 365 },
  { behavior: "consent", channel: "SMS", state: "unsubscribed" },
  { behavior: "consent", channel: "EMAIL", state: "unknown" },
];

describe("segment rule DSL", () => {
  it("counts profile and behaviour conditions like hand-written SQL", async () => {
    const now = cd.now;
    const cases: Array<[unknown, string, unknown[]]> = [
      [{ field: "country", op: "in", value: ["NG", "GH"] }, `country in ('NG','GH')`, []],
      [{ field: "tag", op: "has", value: "vip" }, `'vip' = any(tags)`, []],
      [{ field: "city", op: "eq", value: "lagos" }, `lower(city) = 'lagos'`, []],
      [
        { behavior: "message_event", event: "OPENED", channel: "EMAIL", within_days: 30 },
        `exists (select 1 from message_events e where e.contact_id = c.id and e.type = 'OPENED' and e.channel = 'EMAIL' and e.occurred_at >= $2 and e.occurred_at <= $3)`,
        [new Date(now.getTime() - 30 * DAY), now],
      ],
      [
        { behavior: "message_event", event: "CLICKED", within_days: 45 },
        `exists (select 1 from message_events e where e.contact_id = c.id and e.type = 'CLICKED' and e.occurred_at >= $2 and e.occurred_at <= $3)`,
        [new Date(now.getTime() - 45 * DAY), now],
      ],
      [
        { all: [{ field: "tag", op: "has", value: "vip" }, { behavior: "message_event", event: "DELIVERED", channel: "SMS", within_days: 60 }] },
        `'vip' = any(tags) and exists (select 1 from message_events e where e.contact_id = c.id and e.type = 'DELIVERED' and e.channel = 'SMS'
            and e.occurred_at >= $2 and e.occurred_at <= $3)`,
        [new Date(now.getTime() - 60 * DAY), now],
      ],
      [
        { behavior: "visited", url_pattern: "/pricing", min_count: 2, within_days: 90 },
        `(select count(*) from touchpoints t where t.contact_id = c.id and t.type = 'PAGEVIEW' and t.occurred_at >= $2 and t.occurred_at <= $3
            and split_part(split_part(regexp_replace(t.url, '^https?://[^/]+', ''), '?', 1), '#', 1) in ('/pricing', '/pricing/')) >= 2`,
        [new Date(now.getTime() - 90 * DAY), now],
      ],
      [
        { behavior: "converted", within_days: 365, min_count: 1 },
        `exists (select 1 from conversions v where v.contact_id = c.id and v.occurred_at >= $2 and v.occurred_at <= $3)`,
        [new Date(now.getTime() - 365 * DAY), now],
      ],
      [
        { behavior: "consent", channel: "SMS", state: "unsubscribed" },
        `(select ce.action from consent_events ce where ce.contact_id = c.id and ce.channel = 'SMS' order by ce.occurred_at desc, ce.id desc limit 1) = 'UNSUBSCRIBED'`,
        [],
      ],
    ];
    for (const [rule, where, params] of cases) {
      const [{ n }] = await cd.q(`select count(*)::int n from contacts c where c.organization_id = $1 and ${where}`, [ORG_A.id, ...params]);
      expect({ rule, n: await count(rule) }).toEqual({ rule, n });
    }
  });

  it("visited with min_count 2 finds the contacts who came back to pricing (the seed has some)", async () => {
    expect(await count({ behavior: "visited", url_pattern: "/pricing", min_count: 2 })).toBeGreaterThan(0);
  });

  it("a rule and its negation partition the organization's contacts (property, 40 random rules)", async () => {
    const [{ total }] = await cd.q(`select count(*)::int total from contacts where organization_id = $1`, [ORG_A.id]);
    const make = randomRules(7);
    for (let i = 0; i < 40; i++) {
      const rule = make(3);
      const yes = await count(rule);
      const no = await count({ not: rule });
      const both = await count({ all: [rule, { not: rule }] });
      expect({ rule, sum: yes + no, both }).toEqual({ rule, sum: total, both: 0 });
    }
  });

  it("the set plan and the single-contact plan agree on every contact (property, 40 random rules)", async () => {
    const make = randomRules(11);
    db ??= openDb(cd.url, { max: 1 });
    for (let i = 0; i < 40; i++) {
      const rule = parseRule(make(3));
      const ctx = { orgId: ORG_A.id, currency: ORG_A.reportingCurrency, now: cd.now };
      const [r] = await db.$queryRaw<Array<{ set: number; one: number; differ: number }>>`
        select count(*) filter (where ${compileRule(rule, ctx)})::int as set,
               count(*) filter (where ${compileRule(rule, { ...ctx, plan: "one" })})::int as one,
               count(*) filter (where ${compileRule(rule, ctx)} <> ${compileRule(rule, { ...ctx, plan: "one" })})::int as differ
          from contacts c where c.organization_id = ${ORG_A.id}::uuid`;
      expect({ rule, differ: r!.differ, same: r!.set === r!.one }).toEqual({ rule, differ: 0, same: true });
    }
  });

  it("the contact_facts plan agrees with the single-contact plan on every contact, with now after and before the newest event (property)", async () => {
    db ??= openDb(cd.url, { max: 1 });
    const [{ newest }] = await cd.q(`select max(occurred_at) as newest from message_events where organization_id = $1`, [ORG_A.id]);
    // A `now` ten days before the newest event: for the contacts whose latest event is after it,
    // the latest-event columns say nothing about the window, and their events must be probed.
    for (const [seed, now, ahead] of [[13, cd.now, false], [17, new Date(newest.getTime() - 10 * DAY), true]] as const) {
      const [{ n }] = await cd.q(`select count(*)::int n from contact_facts where organization_id = $1 and greatest(email_opened_at, email_clicked_at) > $2`, [ORG_A.id, now]);
      expect(n > 0).toBe(ahead);
      const make = randomRules(seed);
      for (let i = 0; i < 30; i++) {
        const rule = parseRule(make(3));
        const ctx = { orgId: ORG_A.id, currency: ORG_A.reportingCurrency, now };
        const [r] = await db.$queryRaw<Array<{ facts: number; one: number; differ: number }>>`
          select count(f.id)::int as facts, count(o.id)::int as one, count(*) filter (where f.id is null or o.id is null)::int as differ
            from (select c.id from contact_facts c where c.organization_id = ${ORG_A.id}::uuid
                     and ${await compileOverFacts(db, { id: ORG_A.id, reportingCurrency: ORG_A.reportingCurrency } as OrgInfo, rule, now)}) f
            full join (select c.id from contacts c where c.organization_id = ${ORG_A.id}::uuid and ${compileRule(rule, { ...ctx, plan: "one" })}) o on o.id = f.id`;
        expect({ rule, now, differ: r!.differ, same: r!.facts === r!.one }).toEqual({ rule, now, differ: 0, same: true });
      }
    }
  });

  it("an event stamped after now is not taken for one inside the window (preview falls back to the events)", async () => {
    const now = cd.now;
    const rule = { behavior: "message_event", event: "OPENED", channel: "EMAIL", within_days: 7 };
    const where = `exists (select 1 from message_events e where e.contact_id = c.id and e.type = 'OPENED' and e.channel = 'EMAIL' and e.occurred_at >= $2 and e.occurred_at <= $3)`;
    const expected = async () =>
      (await cd.q(`select count(*)::int n from contacts c where c.organization_id = $1 and ${where}`, [ORG_A.id, new Date(now.getTime() - 7 * DAY), now]))[0].n;
    // A contact with no email open inside the window gets one an hour after now: its latest open
    // is then inside "the last 7 days" by date, but not between the window's start and now.
    const [m] = await cd.q(
      `select e.message_id::text, e.contact_id::text from message_events e where e.organization_id = $1 and e.channel = 'EMAIL'
          and not exists (select 1 from message_events o where o.contact_id = e.contact_id and o.type = 'OPENED' and o.channel = 'EMAIL' and o.occurred_at >= $2)
        order by e.id limit 1`,
      [ORG_A.id, new Date(now.getTime() - 7 * DAY)],
    );
    const before = await count(rule);
    await cd.q(`insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values ($1, $2, $3, 'EMAIL', 'OPENED', $4)`, [
      ORG_A.id, m.message_id, m.contact_id, new Date(now.getTime() + 3_600_000),
    ]);
    expect(before).toBe(await expected());
    expect(await count(rule)).toBe(await expected());
    expect(await count(rule)).toBe(before);
    await cd.q(`delete from message_events where organization_id = $1 and occurred_at > $2`, [ORG_A.id, now]);
  });

  it("keeps injection attempts in values inert", async () => {
    const evil = ["NG') or 1=1 --", "x'; drop table contacts; --", "%", "_"];
    for (const v of evil) {
      expect(await count({ field: "city", op: "eq", value: v })).toBe(0);
      const [{ n }] = await cd.q(`select count(*)::int n from contacts where organization_id = $1 and company ilike $2`, [ORG_A.id, `%${v.replace(/[\\%_]/g, (m) => `\\${m}`)}%`]);
      expect(await count({ field: "company", op: "contains", value: v })).toBe(n);
    }
    expect(await count({ behavior: "visited", url_pattern: "/(a+)+$'; select pg_sleep(5); --", min_count: 1 })).toBe(0);
    expect((await cd.q(`select count(*)::int n from contacts`))[0].n).toBeGreaterThan(0);
  });

  it.each([
    [{ field: "age", op: "eq", value: 3 }, /rules\.field: unknown field "age"; expected one of country, status/],
    [{ field: "country", op: "like", value: "N%" }, /rules\.op: unknown operator for country "like"; expected one of eq, in, not_in, contains/],
    [{ all: [{ field: "country", op: "in", value: "NG" }] }, /rules\.all\[0\]\.value: expected a non-empty list of strings/],
    [{ behavior: "teleported" }, /unknown behavior "teleported"/],
    [{ all: [] }, /rules\.all: expected a non-empty list of rules/],
    [{ field: "country", op: "eq", value: "Nigeria" }, /two-letter codes/],
    [{ field: "status", op: "eq", value: "ACTIVE", extra: 1 }, /unexpected key\(s\) extra/],
  ])("refuses %j with a message naming the place and the fix", async (rules, message) => {
    const r = await cd.callRaw("ADMIN", "preview_segment", { rules });
    expect(r.isError).toBe(true);
    expect(errorText(r)).toMatch(message);
  });
});
