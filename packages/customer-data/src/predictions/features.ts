// Model inputs, computed set-wise in SQL from the raw history. One query shape serves two plans:
// a list of contacts (index lookups per contact: one customer, a small segment, a batch) and a
// whole set (one scan and hash aggregate per table: the organization or a large segment).
// inputsQuery rounds them into the model's inputs; predictionsQuery runs the model over them.
import type { OrgInfo } from "@marketsage/core";
import { Prisma } from "@marketsage/db";
import { REACH_BITS, reachFlags, reportingAmountSql } from "@marketsage/domain";
import { HALF_LIFE_DAYS, modelQuery } from "./model.ts";

const DAY = 86_400_000;

/** Whose features: these contacts, or every contact of the organization matching `member` (a SQL boolean over `c`). */
export type FeatureTarget = { ids: string[] } | { member: Prisma.Sql | null };

/**
 * The raw history per contact of the target, as of `now`: id, created_at, last_engaged, decayed,
 * conversions, value, and delivered / engaged counts and reachability per channel.
 */
export function featuresQuery(org: OrgInfo, target: FeatureTarget, now: Date): Prisma.Sql {
  const from = new Date(now.getTime() - 365 * DAY);
  const decay = (col: Prisma.Sql) => Prisma.sql`exp(-(${Math.LN2 / HALF_LIFE_DAYS}::float8) * date_part('epoch', ${now}::timestamptz - ${col}) / 86400.0)`;
  const byIds = "ids" in target;
  const only = (col: Prisma.Sql) => (byIds ? Prisma.sql`${col} = any(${target.ids}::uuid[]) and` : Prisma.empty);
  const contacts = byIds
    ? Prisma.sql`c.id = any(${target.ids}::uuid[])`
    : target.member
      ? target.member
      : Prisma.sql`true`;
  const engaged = Prisma.sql`e.type in ('OPENED','CLICKED','REPLIED')`;
  return Prisma.sql`
    with ev as (
      select e.contact_id,
             count(*) filter (where e.channel = 'EMAIL' and e.type = 'DELIVERED')::int as e_del,
             count(*) filter (where e.channel = 'EMAIL' and ${engaged})::int as e_eng,
             count(*) filter (where e.channel = 'SMS' and e.type = 'DELIVERED')::int as s_del,
             count(*) filter (where e.channel = 'SMS' and ${engaged})::int as s_eng,
             count(*) filter (where e.channel = 'WHATSAPP' and e.type = 'DELIVERED')::int as w_del,
             count(*) filter (where e.channel = 'WHATSAPP' and ${engaged})::int as w_eng,
             max(e.occurred_at) filter (where ${engaged}) as last_engaged,
             sum(${decay(Prisma.sql`e.occurred_at`)}) filter (where ${engaged}) as decayed
        from message_events e
       where ${only(Prisma.sql`e.contact_id`)} e.organization_id = ${org.id}::uuid
         and e.type in ('DELIVERED','OPENED','CLICKED','REPLIED')
         and e.occurred_at > ${from} and e.occurred_at <= ${now}
       group by e.contact_id),
    vis as (
      select v.contact_id, max(s.started_at) as last_visit, sum(${decay(Prisma.sql`s.started_at`)}) as decayed
        from visitors v join visitor_sessions s on s.visitor_id = v.id
       where ${only(Prisma.sql`v.contact_id`)} v.contact_id is not null and v.organization_id = ${org.id}::uuid
         and s.started_at > ${from} and s.started_at <= ${now}
       group by v.contact_id),
    conv as (
      select x.contact_id, count(*)::int as conversions, max(x.occurred_at) as last_conv,
             sum(${reportingAmountSql(org, Prisma.sql`x.value`, Prisma.sql`x.currency`, Prisma.sql`x.occurred_at`)}) as value,
             sum(3 * ${decay(Prisma.sql`x.occurred_at`)}) as decayed
        from conversions x
       where ${only(Prisma.sql`x.contact_id`)} x.organization_id = ${org.id}::uuid
         and x.occurred_at > ${from} and x.occurred_at <= ${now}
       group by x.contact_id)
    select c.id, c.created_at,
           greatest(ev.last_engaged, vis.last_visit, conv.last_conv) as last_engaged,
           (coalesce(ev.decayed, 0) + coalesce(vis.decayed, 0) + coalesce(conv.decayed, 0))::float8 as decayed,
           coalesce(conv.conversions, 0) as conversions, coalesce(conv.value, 0)::float8 as value,
           coalesce(ev.e_del, 0) as e_del, coalesce(ev.e_eng, 0) as e_eng, coalesce(ev.s_del, 0) as s_del,
           coalesce(ev.s_eng, 0) as s_eng, coalesce(ev.w_del, 0) as w_del, coalesce(ev.w_eng, 0) as w_eng,
           ${reachFlags(REACH_BITS)}
      from contacts c
      left join ev on ev.contact_id = c.id
      left join vis on vis.contact_id = c.id
      left join conv on conv.contact_id = c.id
     where c.organization_id = ${org.id}::uuid and ${contacts}`;
}

/**
 * The model's inputs (INPUT_COLUMNS, rounded as stored) for the target, as of `now`:
 * recency to 0.1 day, decayed frequency to 0.001, value to 0.01, whole days of tenure.
 */
export function inputsQuery(org: OrgInfo, target: FeatureTarget, now: Date): Prisma.Sql {
  const days = (col: Prisma.Sql) => Prisma.sql`(date_part('epoch', ${now}::timestamptz - ${col}) / 86400.0)`;
  return Prisma.sql`
    select r.id, greatest(0, round((${days(Prisma.sql`coalesce(r.last_engaged, r.created_at)`)} * 10)::numeric) / 10)::float8 as recency_days,
           (round((r.decayed * 1000)::numeric) / 1000)::float8 as decayed_frequency,
           r.conversions as conversions_365d,
           (round((r.value * 100)::numeric) / 100)::float8 as value_365d,
           greatest(0, floor(${days(Prisma.sql`r.created_at`)}))::int as tenure_days,
           r.e_del as email_delivered, r.e_eng as email_engaged, r.e_ok as email_reachable,
           r.s_del as sms_delivered, r.s_eng as sms_engaged, r.s_ok as sms_reachable,
           r.w_del as whatsapp_delivered, r.w_eng as whatsapp_engaged, r.w_ok as whatsapp_reachable
      from (${featuresQuery(org, target, now)}) r`;
}

/** One prediction row per contact of the target (see modelQuery), as of `now`. */
export function predictionsQuery(org: OrgInfo, target: FeatureTarget, now: Date): Prisma.Sql {
  return modelQuery(inputsQuery(org, target, now));
}
