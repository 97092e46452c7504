// Rules evaluated over many contacts read contact_facts (one narrow row per contact, kept by
// triggers: migration contact_facts) instead of the wide contacts rows and the event history.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { compileRule, latestColumn, latestConditions, latestKey } from "./compile.ts";
import { CHANNELS, type MESSAGE_EVENTS, type Rule } from "./rules.ts";

/**
 * The rule's message-event conditions (latestKey) for which the organization has an event later
 * than `now` (normally none: a provider's clock ahead, or a `now` in the past). One index probe
 * per distinct condition, in one statement.
 */
export async function eventsAheadOfNow(db: DbHandle, orgId: string, rule: Rule, now: Date): Promise<Set<string>> {
  const conds = [...new Map(latestConditions(rule).map((c) => [latestKey(c), c])).values()];
  if (conds.length === 0) return new Set();
  const probes = conds.map(
    (c) => Prisma.sql`exists (select 1 from message_events e where e.organization_id = ${orgId}::uuid and e.type = ${c.event}::"MessageEventType"
                        and e.occurred_at > ${now} ${c.channel ? Prisma.sql`and e.channel = ${c.channel}::"Channel"` : Prisma.empty})`,
  );
  const [r] = await db.$queryRaw<Array<{ ahead: boolean[] }>>`select array[${Prisma.join(probes)}] as ahead`;
  return new Set(conds.filter((_, i) => r!.ahead[i]).map(latestKey));
}

/** The rule as a SQL boolean over a contact_facts row `c` of the organization, as of `now`. */
export async function compileOverFacts(db: DbHandle, org: OrgInfo, rule: Rule, now: Date): Promise<Prisma.Sql> {
  const ahead = await eventsAheadOfNow(db, org.id, rule, now);
  return compileRule(rule, { orgId: org.id, currency: org.reportingCurrency, now, facts: { ahead } });
}

const newest = (events: Array<(typeof MESSAGE_EVENTS)[number]>) =>
  Prisma.sql`greatest(${Prisma.join(CHANNELS.flatMap((ch) => events.map((ev) => latestColumn(ch, ev))))})`;
/** A contact_facts row's latest delivery, and latest open, click or reply: contacts.last_delivered_at / last_engaged_at. */
export const LAST_DELIVERED = newest(["DELIVERED"]);
export const LAST_ENGAGED = newest(["OPENED", "CLICKED", "REPLIED"]);

/** The organization's number of contacts (contact_counts: summed shards, kept by triggers). */
export async function contactTotal(db: DbHandle, orgId: string): Promise<number> {
  const [r] = await db.$queryRaw<Array<{ n: number }>>`
    select coalesce(sum(n), 0)::int as n from contact_counts where organization_id = ${orgId}::uuid`;
  return r!.n;
}

/**
 * The ids of the newest `n` contacts (created_at desc, id desc) matching `member` (SQL over a
 * contact_facts row `c`). The newest 20,000 contacts are walked first along the index; a rule
 * too rare to show `n` of them there is looked for over every contact.
 */
export async function newestMatching(db: DbHandle, orgId: string, member: Prisma.Sql, n: number, members: Promise<number>): Promise<string[]> {
  if (n <= 0) return [];
  const walk = await db.$queryRaw<Array<{ id: string }>>`
    select c.id::text from (select * from contact_facts f where f.organization_id = ${orgId}::uuid
                             order by f.created_at desc, f.id desc limit 20000) c
     where ${member} order by c.created_at desc, c.id desc limit ${n}`;
  if (walk.length >= n || walk.length >= (await members)) return walk.map((r) => r.id);
  const all = await db.$queryRaw<Array<{ id: string }>>`
    select c.id::text from contact_facts c where c.organization_id = ${orgId}::uuid and ${member}
     order by c.created_at desc, c.id desc limit ${n}`;
  return all.map((r) => r.id);
}
