// Model inputs for a batch of contacts, computed set-wise in SQL from the raw history.
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { HALF_LIFE_DAYS, type Features } from "./model.ts";

interface Row {
  id: string;
  created_at: Date;
  last_engaged: Date | null;
  decayed: number;
  conversions: number;
  value: string | null;
  e_del: number; e_eng: number; s_del: number; s_eng: number; w_del: number; w_eng: number;
  e_ok: boolean; s_ok: boolean; w_ok: boolean;
}

const DAY = 86_400_000;

/** Features for these contacts of the organization, as of `now`. */
export async function loadFeatures(db: DbHandle, org: OrgInfo, ids: string[], now: Date): Promise<Map<string, Features>> {
  if (ids.length === 0) return new Map();
  const from = new Date(now.getTime() - 365 * DAY);
  const lambda = Math.LN2 / HALF_LIFE_DAYS;
  const rows = await db.$queryRaw<Row[]>`
    with ids as (select unnest(${ids}::uuid[]) as id),
    ev as (
      select e.contact_id,
             count(*) filter (where e.channel = 'EMAIL' and e.type = 'DELIVERED')::int as e_del,
             count(*) filter (where e.channel = 'EMAIL' and e.type in ('OPENED','CLICKED','REPLIED'))::int as e_eng,
             count(*) filter (where e.channel = 'SMS' and e.type = 'DELIVERED')::int as s_del,
             count(*) filter (where e.channel = 'SMS' and e.type in ('OPENED','CLICKED','REPLIED'))::int as s_eng,
             count(*) filter (where e.channel = 'WHATSAPP' and e.type = 'DELIVERED')::int as w_del,
             count(*) filter (where e.channel = 'WHATSAPP' and e.type in ('OPENED','CLICKED','REPLIED'))::int as w_eng,
             max(e.occurred_at) filter (where e.type in ('OPENED','CLICKED','REPLIED')) as last_engaged,
             coalesce(sum(exp(-(${lambda}::float8) * extract(epoch from (${now}::timestamptz - e.occurred_at)) / 86400.0))
                      filter (where e.type in ('OPENED','CLICKED','REPLIED')), 0) as decayed
        from message_events e
       where e.contact_id = any(${ids}::uuid[]) and e.organization_id = ${org.id}::uuid
         and e.occurred_at > ${from} and e.occurred_at <= ${now}
       group by e.contact_id),
    vis as (
      select v.contact_id, max(s.started_at) as last_visit,
             sum(exp(-(${lambda}::float8) * extract(epoch from (${now}::timestamptz - s.started_at)) / 86400.0)) as decayed
        from visitors v join visitor_sessions s on s.visitor_id = v.id
       where v.contact_id = any(${ids}::uuid[]) and v.organization_id = ${org.id}::uuid
         and s.started_at > ${from} and s.started_at <= ${now}
       group by v.contact_id),
    conv as (
      select x.contact_id, count(*)::int as conversions, max(x.occurred_at) as last_conv,
             sum(marketsage_fx(x.value, trim(x.currency), ${org.reportingCurrency}, x.occurred_at)) as value,
             sum(3 * exp(-(${lambda}::float8) * extract(epoch from (${now}::timestamptz - x.occurred_at)) / 86400.0)) as decayed
        from conversions x
       where x.contact_id = any(${ids}::uuid[]) and x.organization_id = ${org.id}::uuid
         and x.occurred_at > ${from} and x.occurred_at <= ${now}
       group by x.contact_id)
    select c.id::text, c.created_at,
           greatest(ev.last_engaged, vis.last_visit, conv.last_conv) as last_engaged,
           (coalesce(ev.decayed, 0) + coalesce(vis.decayed, 0) + coalesce(conv.decayed, 0))::float8 as decayed,
           coalesce(conv.conversions, 0) as conversions, coalesce(conv.value, 0)::text as value,
           coalesce(ev.e_del, 0) as e_del, coalesce(ev.e_eng, 0) as e_eng, coalesce(ev.s_del, 0) as s_del,
           coalesce(ev.s_eng, 0) as s_eng, coalesce(ev.w_del, 0) as w_del, coalesce(ev.w_eng, 0) as w_eng,
           (c.status = 'ACTIVE' and c.email is not null and c.consent_email = 'SUBSCRIBED') as e_ok,
           (c.status = 'ACTIVE' and c.phone is not null and c.consent_sms = 'SUBSCRIBED') as s_ok,
           (c.status = 'ACTIVE' and c.phone is not null and c.consent_whatsapp = 'SUBSCRIBED') as w_ok
      from ids join contacts c on c.id = ids.id and c.organization_id = ${org.id}::uuid
      left join ev on ev.contact_id = c.id
      left join vis on vis.contact_id = c.id
      left join conv on conv.contact_id = c.id`;
  const out = new Map<string, Features>();
  for (const r of rows) {
    const since = r.last_engaged ?? r.created_at;
    out.set(r.id, {
      recency_days: Math.max(0, Math.round(((now.getTime() - since.getTime()) / DAY) * 10) / 10),
      decayed_frequency: Math.round(r.decayed * 1000) / 1000,
      conversions_365d: r.conversions,
      value_365d: Math.round(Number(r.value ?? 0) * 100) / 100,
      tenure_days: Math.max(0, Math.floor((now.getTime() - r.created_at.getTime()) / DAY)),
      channels: {
        EMAIL: { delivered: r.e_del, engaged: r.e_eng, reachable: r.e_ok },
        SMS: { delivered: r.s_del, engaged: r.s_eng, reachable: r.s_ok },
        WHATSAPP: { delivered: r.w_del, engaged: r.w_eng, reachable: r.w_ok },
      },
    });
  }
  return out;
}

