// The intent model's per-visitor features (src/intent/model.ts VisitorFeatures), computed in SQL
// over each visitor's whole history up to `now`, once for get_visitor and
// identify_high_intent_visitors. Definitions (README):
// - key pages match KEY_PAGE_PATTERNS with urlPatternRegex on the stored URL (path or absolute);
// - views, seconds and scroll are PAGEVIEW touchpoints' (duration_sec, scroll_depth; null = 0);
// - a form is its `form_id`, else `form`, else `form_name` in the touchpoint detail, else the page
//   path; a form is abandoned when the visitor's latest FORM_START of it has no FORM_SUBMIT of it
//   at or after that time (counted once per form);
// - sessions are the visitor's visitor_sessions rows started by `now`;
// - recency is from the visitor's latest touchpoint at or before `now`.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { urlPatternRegex } from "@marketsage/domain";
import { KEY_PAGE_PATTERNS, type VisitorFeatures } from "../intent/model.ts";

const RE = {
  pricing: urlPatternRegex(KEY_PAGE_PATTERNS.pricing),
  checkout: urlPatternRegex(KEY_PAGE_PATTERNS.checkout),
  product: urlPatternRegex(KEY_PAGE_PATTERNS.product),
};

/** The form a touchpoint belongs to (alias t). */
export const FORM_KEY = Prisma.sql`coalesce(t.detail->>'form_id', t.detail->>'form', t.detail->>'form_name', marketsage_url_path(t.url))`;

interface FeatureRow extends Omit<VisitorFeatures, "identified"> {
  visitor_id: string;
  contact_id: string | null;
}

/** Features of the given visitors of the organization at `now` (visitors with no touchpoint by `now` are left out). */
export async function visitorFeatures(db: DbHandle, org: Pick<OrgInfo, "id">, visitorIds: readonly string[], now: Date): Promise<Map<string, VisitorFeatures>> {
  if (visitorIds.length === 0) return new Map();
  const ids = [...visitorIds];
  const rows = await db.$queryRaw<FeatureRow[]>`
    with t as (
      select t.visitor_id, t.type, t.url, t.occurred_at, coalesce(t.duration_sec, 0) as secs, coalesce(t.scroll_depth, 0) as scroll,
             t.url ~ ${RE.pricing} as pr, t.url ~ ${RE.checkout} as co, t.url ~ ${RE.product} as pd
        from touchpoints t
       where t.organization_id = ${org.id}::uuid and t.visitor_id = any(${ids}::uuid[]) and t.occurred_at <= ${now}
    ), pv as (
      select visitor_id,
             count(*) filter (where pr)::int as pricing_views,
             count(*) filter (where co)::int as checkout_views,
             count(*) filter (where pd)::int as product_views,
             coalesce(sum(secs) filter (where pr or co or pd), 0)::float8 as key_page_seconds,
             coalesce(max(scroll) filter (where pr or co or pd), 0)::float8 as key_page_max_scroll,
             count(*)::int as page_views,
             count(distinct marketsage_url_path(url))::int as distinct_pages,
             coalesce(sum(secs), 0)::float8 as total_seconds
        from t where type = 'PAGEVIEW' group by visitor_id
    ), agg as (
      select visitor_id,
             count(*) filter (where type = 'FORM_SUBMIT')::int as form_submits,
             count(*) filter (where type = 'CONVERSION')::int as conversions,
             (extract(epoch from (${now}::timestamptz - max(occurred_at))) / 86400)::float8 as days_since_last_visit,
             (extract(epoch from (${now}::timestamptz - min(occurred_at))) / 86400)::float8 as days_since_first_visit
        from t group by visitor_id
    ), forms as (
      select visitor_id, count(*)::int as forms_abandoned from (
        select t.visitor_id, ${FORM_KEY} as form,
               max(t.occurred_at) filter (where t.type = 'FORM_START') as last_start,
               max(t.occurred_at) filter (where t.type = 'FORM_SUBMIT') as last_submit
          from touchpoints t
         where t.organization_id = ${org.id}::uuid and t.visitor_id = any(${ids}::uuid[]) and t.occurred_at <= ${now}
           and t.type in ('FORM_START', 'FORM_SUBMIT')
         group by 1, 2) f
       where last_start is not null and (last_submit is null or last_submit < last_start)
       group by visitor_id
    ), s as (
      select visitor_id, count(*)::int as sessions from visitor_sessions
       where organization_id = ${org.id}::uuid and visitor_id = any(${ids}::uuid[]) and started_at <= ${now}
       group by visitor_id
    )
    select v.id::text as visitor_id, v.contact_id::text as contact_id,
           coalesce(pv.pricing_views, 0) as pricing_views, coalesce(pv.checkout_views, 0) as checkout_views,
           coalesce(pv.product_views, 0) as product_views, coalesce(forms.forms_abandoned, 0) as forms_abandoned,
           agg.form_submits, agg.conversions, coalesce(s.sessions, 0) as sessions, greatest(coalesce(s.sessions, 0) - 1, 0) as return_visits,
           coalesce(pv.key_page_seconds, 0) as key_page_seconds, coalesce(pv.key_page_max_scroll, 0) as key_page_max_scroll,
           coalesce(pv.page_views, 0) as page_views, coalesce(pv.distinct_pages, 0) as distinct_pages, coalesce(pv.total_seconds, 0) as total_seconds,
           agg.days_since_last_visit, agg.days_since_first_visit
      from visitors v
      join agg on agg.visitor_id = v.id
      left join pv on pv.visitor_id = v.id
      left join forms on forms.visitor_id = v.id
      left join s on s.visitor_id = v.id
     where v.organization_id = ${org.id}::uuid and v.id = any(${ids}::uuid[])`;
  const out = new Map<string, VisitorFeatures>();
  for (const { visitor_id, contact_id, ...f } of rows) out.set(visitor_id, { ...f, identified: contact_id !== null });
  return out;
}

/** An empty history (a visitor with no touchpoint yet): every feature 0. */
export function noFeatures(identified: boolean): VisitorFeatures {
  return {
    pricing_views: 0, checkout_views: 0, product_views: 0, forms_abandoned: 0, form_submits: 0, conversions: 0, sessions: 0, return_visits: 0,
    key_page_seconds: 0, key_page_max_scroll: 0, page_views: 0, distinct_pages: 0, total_seconds: 0, days_since_last_visit: 0, days_since_first_visit: 0,
    identified,
  };
}
