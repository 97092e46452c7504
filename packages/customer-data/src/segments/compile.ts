// Rules → one parameterised SQL boolean over the contact alias `c` (a contacts row, or a
// contact_facts row: see CompileContext.facts). Values only ever travel as bind parameters; the
// SQL text comes from this file alone. Every condition is never NULL (profile
// conditions are wrapped in coalesce): a rule and its negation partition the contacts exactly.
import { Prisma } from "@marketsage/db";
import { likeEscape, reportingAmountSql, urlPatternRegex } from "@marketsage/domain";
import { CHANNELS, MESSAGE_EVENTS, type Condition, type Rule } from "./rules.ts";

export interface CompileContext {
  orgId: string;
  currency: string;
  now: Date;
  /**
   * How behaviour conditions are evaluated (same answers either way, tested):
   * - "set" (default): over many contacts — each condition's matching contacts are found once
   *   (one scan of the history window, hashed) and every contact is looked up in that set;
   * - "one": for a single known contact — per-contact index lookups.
   */
  plan?: "set" | "one";
  /**
   * Set when `c` is a contact_facts row rather than a contacts row (the "set" plan only): most
   * profile conditions read the same columns there (tags come from contact_tags; company and
   * source are looked up in contacts as a set), and a message-event condition with min_count 1
   * reads the contact's latest event of that type. `ahead` lists the conditions (latestKey) for which the
   * organization has an event later than `now`: there a contact whose latest is after `now` has
   * its events probed (see eventsAheadOfNow).
   */
  facts?: { ahead: ReadonlySet<string> };
}

const DAY_MS = 86_400_000;
const since = (ctx: CompileContext, days: number) => new Date(ctx.now.getTime() - days * DAY_MS);

const col: Record<"country" | "status" | "city" | "company" | "source", Prisma.Sql> = {
  country: Prisma.sql`c.country`, // char(2): compared as char(2) below, so its statistics and index apply
  status: Prisma.sql`c.status::text`,
  city: Prisma.sql`c.city`,
  company: Prisma.sql`c.company`,
  source: Prisma.sql`c.source`,
};

const consentCol = {
  EMAIL: Prisma.sql`c.consent_email`,
  SMS: Prisma.sql`c.consent_sms`,
  WHATSAPP: Prisma.sql`c.consent_whatsapp`,
} as const;

/**
 * Contacts with at least n rows of `table alias` matching `where` (no reference to `c`). With the
 * "set" plan an uncorrelated IN: PostgreSQL runs it once and hashes it (never NULL: contact_id is
 * filtered non-null). With the "one" plan a correlated probe that stops at n rows.
 */
function atLeast(ctx: CompileContext, n: number, table: Prisma.Sql, alias: Prisma.Sql, where: Prisma.Sql): Prisma.Sql {
  if (ctx.plan === "one") {
    const from = Prisma.sql`from ${table} ${alias} where ${alias}.contact_id = c.id and ${where}`;
    if (n <= 1) return Prisma.sql`exists (select 1 ${from})`;
    return Prisma.sql`(select count(*) from (select 1 ${from} limit ${n}) x) >= ${n}`;
  }
  const from = Prisma.sql`from ${table} ${alias} where ${alias}.contact_id is not null and ${where}`;
  if (n <= 1) return Prisma.sql`c.id in (select ${alias}.contact_id ${from})`;
  return Prisma.sql`c.id in (select ${alias}.contact_id ${from} group by ${alias}.contact_id having count(*) >= ${n})`;
}

/**
 * `visited` over a set of contacts, by URL route (migration visited_routes): the pattern is matched
 * against the organization's distinct routes of identified page views (a skip scan, once), then
 * only those routes' page views are read, index-only. For a pattern without a literal ? or #,
 * `url ~ regex` and `marketsage_url_route(url) ~ regex` agree (the regex ignores scheme, host,
 * query and fragment, and `*` never crosses ? or #), so this counts exactly what the plain scan does.
 */
function visitedByRoute(ctx: CompileContext, cond: Extract<Condition, { behavior: "visited" }>): Prisma.Sql {
  const routes = Prisma.sql`array(select r from marketsage_contact_routes(${ctx.orgId}::uuid) r where r ~ ${urlPatternRegex(cond.url_pattern)})`;
  const where = Prisma.sql`t.organization_id = ${ctx.orgId}::uuid and t.type = 'PAGEVIEW' and t.contact_id is not null
    and marketsage_url_route(t.url) = any(${routes})
    ${cond.within_days ? Prisma.sql`and t.occurred_at >= ${since(ctx, cond.within_days)}` : Prisma.empty} and t.occurred_at <= ${ctx.now}`;
  if (cond.min_count <= 1) return Prisma.sql`c.id in (select t.contact_id from touchpoints t where ${where})`;
  return Prisma.sql`c.id in (select t.contact_id from touchpoints t where ${where} group by t.contact_id having count(*) >= ${cond.min_count})`;
}

/** contact_facts' latest-event column for a channel and event type, e.g. email_opened_at. */
export const latestColumn = (channel: (typeof CHANNELS)[number], event: (typeof MESSAGE_EVENTS)[number]) =>
  Prisma.raw(`c.${channel.toLowerCase()}_${event.toLowerCase()}_at`);

type MessageEventCondition = Extract<Condition, { behavior: "message_event" }>;

/** Which latest-event column(s) a message-event condition reads: `OPENED:EMAIL`, or `OPENED:*` for any channel. */
export const latestKey = (cond: Pick<MessageEventCondition, "event" | "channel">) => `${cond.event}:${cond.channel ?? "*"}`;

/** The message-event conditions of a rule that contact_facts answers (min_count 1). */
export function latestConditions(rule: Rule): MessageEventCondition[] {
  if ("all" in rule) return rule.all.flatMap(latestConditions);
  if ("any" in rule) return rule.any.flatMap(latestConditions);
  if ("not" in rule) return latestConditions(rule.not);
  return "behavior" in rule && rule.behavior === "message_event" && rule.min_count === 1 ? [rule] : [];
}

/** Profile fields that are not on contact_facts: over it they compile to `c.id in (a set)`, never NULL. */
const SET_FIELDS: ReadonlySet<string> = new Set(["tag", "company", "source"]);

function condition(cond: Condition, ctx: CompileContext): Prisma.Sql {
  if ("behavior" in cond) {
    switch (cond.behavior) {
      case "message_event": {
        const where = Prisma.sql`e.organization_id = ${ctx.orgId}::uuid
            and e.type = ${cond.event}::"MessageEventType" ${cond.channel ? Prisma.sql`and e.channel = ${cond.channel}::"Channel"` : Prisma.empty}
            and e.occurred_at >= ${since(ctx, cond.within_days)} and e.occurred_at <= ${ctx.now}`;
        if (ctx.facts && cond.min_count === 1) {
          // The contact's latest such event (greatest() skips channels without one). At or before
          // now, "one in [now - N days, now]" is "the latest is on or after now - N days". A latest
          // after now (a provider's clock ahead, a `now` in the past) says nothing about the
          // window: only when the organization has such events, that contact's events are probed
          // (a correlated probe keeps the scan serial, so it is not written when not needed).
          const latest = cond.channel
            ? latestColumn(cond.channel, cond.event)
            : Prisma.sql`greatest(${Prisma.join(CHANNELS.map((ch) => latestColumn(ch, cond.event)))})`;
          if (!ctx.facts.ahead.has(latestKey(cond))) return Prisma.sql`coalesce(${latest} >= ${since(ctx, cond.within_days)}, false)`;
          return Prisma.sql`(case when ${latest} <= ${ctx.now} then ${latest} >= ${since(ctx, cond.within_days)}
            when ${latest} > ${ctx.now} then exists (select 1 from message_events e where e.contact_id = c.id and ${where})
            else false end)`;
        }
        return atLeast(ctx, cond.min_count, Prisma.sql`message_events`, Prisma.sql`e`, where);
      }
      case "visited":
        if (ctx.plan !== "one" && !/[?#]/.test(cond.url_pattern)) return visitedByRoute(ctx, cond);
        return atLeast(
          ctx,
          cond.min_count,
          Prisma.sql`touchpoints`,
          Prisma.sql`t`,
          Prisma.sql`t.organization_id = ${ctx.orgId}::uuid and t.type = 'PAGEVIEW'
            and t.url ~ ${urlPatternRegex(cond.url_pattern)}
            ${cond.within_days ? Prisma.sql`and t.occurred_at >= ${since(ctx, cond.within_days)}` : Prisma.empty} and t.occurred_at <= ${ctx.now}`,
        );
      case "converted":
        return atLeast(
          ctx,
          cond.min_count,
          Prisma.sql`conversions`,
          Prisma.sql`v`,
          Prisma.sql`v.organization_id = ${ctx.orgId}::uuid
            ${cond.within_days ? Prisma.sql`and v.occurred_at >= ${since(ctx, cond.within_days)}` : Prisma.empty} and v.occurred_at <= ${ctx.now}
            ${cond.min_value !== undefined ? Prisma.sql`and ${reportingAmountSql({ reportingCurrency: ctx.currency }, Prisma.sql`v.value`, Prisma.sql`v.currency`, Prisma.sql`v.occurred_at`)} >= ${cond.min_value}` : Prisma.empty}`,
        );
      case "consent": {
        const column = consentCol[cond.channel];
        if (cond.state === "unknown") return Prisma.sql`${column} is null`;
        return Prisma.sql`${column} is not distinct from ${cond.state === "subscribed" ? "SUBSCRIBED" : "UNSUBSCRIBED"}::"ConsentAction"`;
      }
    }
  }
  if (ctx.facts && cond.field === "tag") {
    // contact_tags: the tagged contacts are a range of its primary key (organization, tag).
    const tags = Array.isArray(cond.value) ? cond.value : [cond.value];
    return Prisma.sql`c.id in (select t.contact_id from contact_tags t where t.organization_id = ${ctx.orgId}::uuid and t.tag = any(${tags}::text[]))`;
  }
  if (ctx.facts && SET_FIELDS.has(cond.field)) { // company, source
    // Not on contact_facts: the contacts that match, as a set. Inside the sub-select `c` is the
    // contacts row (it shadows the outer facts row), so the condition compiles as for contacts.
    // (No coalesce inside: a WHERE drops NULL as it drops false, and a bare condition can use an index.)
    return Prisma.sql`c.id in (select c.id from contacts c where c.organization_id = ${ctx.orgId}::uuid
      and ${condition(cond, { ...ctx, facts: undefined })})`;
  }
  switch (cond.field) {
    case "tag":
      return Array.isArray(cond.value) ? Prisma.sql`c.tags && ${cond.value}::text[]` : Prisma.sql`c.tags @> array[${cond.value}]::text[]`;
    case "created_at":
      if (cond.op === "within_days") return Prisma.sql`c.created_at >= ${since(ctx, cond.value)}`;
      return cond.op === "after" ? Prisma.sql`c.created_at > ${new Date(cond.value)}` : Prisma.sql`c.created_at < ${new Date(cond.value)}`;
    case "email":
    case "phone": {
      if (ctx.facts) {
        const has = cond.field === "email" ? Prisma.sql`c.has_email` : Prisma.sql`c.has_phone`;
        return cond.op === "exists" ? has : Prisma.sql`not ${has}`;
      }
      const column = cond.field === "email" ? Prisma.sql`c.email` : Prisma.sql`c.phone`;
      return cond.op === "exists" ? Prisma.sql`${column} is not null` : Prisma.sql`${column} is null`;
    }
    default: {
      const column = col[cond.field];
      const ci = cond.field === "city" || cond.field === "company" || cond.field === "source";
      const lhs = ci ? Prisma.sql`lower(${column})` : column;
      const norm = (v: string) => (ci ? v.toLowerCase() : v);
      const type = cond.field === "country" ? Prisma.raw("bpchar") : Prisma.raw("text");
      switch (cond.op) {
        case "eq":
          return Prisma.sql`${lhs} = ${norm(String(cond.value))}::${type}`;
        case "in":
          return Prisma.sql`${lhs} = any(${(cond.value as string[]).map(norm)}::${type}[])`;
        case "not_in":
          return Prisma.sql`not (${lhs} = any(${(cond.value as string[]).map(norm)}::${type}[]))`;
        case "contains":
          return Prisma.sql`${column} ilike ${`%${likeEscape(String(cond.value))}%`}`;
      }
    }
  }
}

/** The rule as a SQL boolean over `c` (contacts); never NULL. */
export function compileRule(rule: Rule, ctx: CompileContext): Prisma.Sql {
  if ("all" in rule) return Prisma.sql`(${Prisma.join(rule.all.map((r) => compileRule(r, ctx)), " and ")})`;
  if ("any" in rule) return Prisma.sql`(${Prisma.join(rule.any.map((r) => compileRule(r, ctx)), " or ")})`;
  if ("not" in rule) return Prisma.sql`(not ${compileRule(rule.not, ctx)})`;
  // Behaviour and consent conditions are never NULL as compiled (c.id IN a non-null set, EXISTS,
  // a count, IS [NOT] NULL / IS NOT DISTINCT FROM), nor are set fields over contact_facts; left
  // bare, an IN under AND lets PostgreSQL plan a (parallel) hash semi-join instead of probing a
  // subplan row by row.
  if ("behavior" in rule || (ctx.facts && SET_FIELDS.has(rule.field))) return Prisma.sql`(${condition(rule, ctx)})`;
  return Prisma.sql`coalesce((${condition(rule, ctx)}), false)`;
}
