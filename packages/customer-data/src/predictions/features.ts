// Model inputs, computed set-wise in SQL from the raw history. One query shape serves two plans:
// a list of contacts (index lookups per contact: one customer, a small segment, a batch) and a
// whole set (one scan and hash aggregate per table: the organization or a large segment).
// The Features object is built here, in SQL, once: what the model reads is what is stored.
// Numbers are float8 in the JSON so that stored inputs read the same whichever plan wrote them.
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { Prisma } from "@marketsage/db";
import { HALF_LIFE_DAYS, type Features } from "./model.ts";

const DAY = 86_400_000;

/** Whose features: these contacts, or every contact of the organization matching `member` (a SQL boolean over `c`). */
export type FeatureTarget = { ids: string[] } | { member: Prisma.Sql | null };

/** `select id uuid, features jsonb` for the target, as of `now`. */
export function featuresQuery(org: OrgInfo, target: FeatureTarget, now: Date): Prisma.Sql {
  const from = new Date(now.getTime() - 365 * DAY);
  const decay = (col: Prisma.Sql) => Prisma.sql`exp(-(${Math.LN2 / HALF_LIFE_DAYS}::float8) * extract(epoch from (${now}::timestamptz - ${col}))::float8 / 86400.0)`;
  const byIds = "ids" in target;
  const only = (col: Prisma.Sql) => (byIds ? Prisma.sql`${col} = any(${target.ids}::uuid[]) and` : Prisma.empty);
  const contacts = byIds
    ? Prisma.sql`c.id = any(${target.ids}::uuid[])`
    : target.member
      ? target.member
      : Prisma.sql`true`;
  const engaged = Prisma.sql`e.type in ('OPENED','CLICKED','REPLIED')`;
  const ch = (channel: string) =>
    Prisma.sql`jsonb_build_object(
      'delivered', coalesce(ev.${Prisma.raw(channel[0]!.toLowerCase())}_del, 0),
      'engaged', coalesce(ev.${Prisma.raw(channel[0]!.toLowerCase())}_eng, 0),
      'reachable', coalesce(c.status = 'ACTIVE' and ${channel === "EMAIL" ? Prisma.sql`c.email` : Prisma.sql`c.phone`} is not null
                            and c.${Prisma.raw(`consent_${channel.toLowerCase()}`)} = 'SUBSCRIBED', false))`;
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
             sum(marketsage_fx(x.value, trim(x.currency), ${org.reportingCurrency}, x.occurred_at)) as value,
             sum(3 * ${decay(Prisma.sql`x.occurred_at`)}) as decayed
        from conversions x
       where ${only(Prisma.sql`x.contact_id`)} x.organization_id = ${org.id}::uuid
         and x.occurred_at > ${from} and x.occurred_at <= ${now}
       group by x.contact_id)
    select c.id,
           jsonb_build_object(
             'recency_days', greatest(0, round((extract(epoch from (${now}::timestamptz
                               - coalesce(greatest(ev.last_engaged, vis.last_visit, conv.last_conv), c.created_at))) / 86400.0)::numeric, 1))::float8,
             'decayed_frequency', round((coalesce(ev.decayed, 0) + coalesce(vis.decayed, 0) + coalesce(conv.decayed, 0))::numeric, 3)::float8,
             'conversions_365d', coalesce(conv.conversions, 0),
             'value_365d', round(coalesce(conv.value, 0), 2)::float8,
             'tenure_days', greatest(0, floor(extract(epoch from (${now}::timestamptz - c.created_at)) / 86400.0))::int,
             'channels', jsonb_build_object('EMAIL', ${ch("EMAIL")}, 'SMS', ${ch("SMS")}, 'WHATSAPP', ${ch("WHATSAPP")})
           ) as features
      from contacts c
      left join ev on ev.contact_id = c.id
      left join vis on vis.contact_id = c.id
      left join conv on conv.contact_id = c.id
     where c.organization_id = ${org.id}::uuid and ${contacts}`;
}

/** Features for these contacts of the organization, as of `now`. */
export async function loadFeatures(db: DbHandle, org: OrgInfo, ids: string[], now: Date): Promise<Map<string, Features>> {
  if (ids.length === 0) return new Map();
  const rows = await db.$queryRaw<Array<{ id: string; features: string }>>`
    select f.id::text, f.features::text from (${featuresQuery(org, { ids }, now)}) f`;
  return new Map(rows.map((r) => [r.id, JSON.parse(r.features) as Features]));
}
