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
  // One union of per-visitor partial rows, summed by visitor: no joins between aggregates, whose
  // row estimates are poor (a nested loop over them took minutes for 2,000 visitors at bench scale).
  const rows = await db.$queryRaw<FeatureRow[]>`
    with t as (
      select t.visitor_id, t.type, t.url, t.occurred_at, t.detail, coalesce(t.duration_sec, 0) as secs, coalesce(t.scroll_depth, 0) as scroll,
             t.url ~ ${RE.pricing} as pr, t.url ~ ${RE.checkout} as co, t.url ~ ${RE.product} as pd
        from touchpoints t
       where t.organization_id = ${org.id}::uuid and t.visitor_id = any(${ids}::uuid[]) and t.occurred_at <= ${now}
    ), parts as (
      select visitor_id,
             count(*) filter (where type = 'PAGEVIEW' and pr) as pricing_views,
             count(*) filter (where type = 'PAGEVIEW' and co) as checkout_views,
             count(*) filter (where type = 'PAGEVIEW' and pd) as product_views,
             count(*) filter (where type = 'FORM_SUBMIT') as form_submits,
             count(*) filter (where type = 'CONVERSION') as conversions,
             count(*) filter (where type = 'PAGEVIEW') as page_views,
             coalesce(sum(secs) filter (where type = 'PAGEVIEW' and (pr or co or pd)), 0)::float8 as key_page_seconds,
             coalesce(max(scroll) filter (where type = 'PAGEVIEW' and (pr or co or pd)), 0)::float8 as key_page_max_scroll,
             count(distinct marketsage_url_path(url)) filter (where type = 'PAGEVIEW') as distinct_pages,
             0 as forms_abandoned, 0 as sessions,
             coalesce(sum(secs) filter (where type = 'PAGEVIEW'), 0)::float8 as total_seconds,
             max(occurred_at) as last_at, min(occurred_at) as first_at
        from t group by visitor_id
      union all
      select visitor_id, 0, 0, 0, 0, 0, 0, 0::float8, 0::float8, 0, count(*), 0, 0::float8, null::timestamptz, null::timestamptz from (
        select t.visitor_id, ${FORM_KEY} as form,
               max(t.occurred_at) filter (where t.type = 'FORM_START') as last_start,
               max(t.occurred_at) filter (where t.type = 'FORM_SUBMIT') as last_submit
          from t where t.type in ('FORM_START', 'FORM_SUBMIT') group by 1, 2) f
       where last_start is not null and (last_submit is null or last_submit < last_start)
       group by visitor_id
      union all
      select visitor_id, 0, 0, 0, 0, 0, 0, 0::float8, 0::float8, 0, 0, count(*), 0::float8, null::timestamptz, null::timestamptz from visitor_sessions
       where organization_id = ${org.id}::uuid and visitor_id = any(${ids}::uuid[]) and started_at <= ${now}
       group by visitor_id
    ), f as (
      select visitor_id,
             sum(pricing_views)::int as pricing_views, sum(checkout_views)::int as checkout_views, sum(product_views)::int as product_views,
             sum(forms_abandoned)::int as forms_abandoned, sum(form_submits)::int as form_submits, sum(conversions)::int as conversions,
             sum(sessions)::int as sessions, greatest(sum(sessions) - 1, 0)::int as return_visits,
             sum(key_page_seconds)::float8 as key_page_seconds, max(key_page_max_scroll)::float8 as key_page_max_scroll,
             sum(page_views)::int as page_views, sum(distinct_pages)::int as distinct_pages, sum(total_seconds)::float8 as total_seconds,
             (extract(epoch from (${now}::timestamptz - max(last_at))) / 86400)::float8 as days_since_last_visit,
             (extract(epoch from (${now}::timestamptz - min(first_at))) / 86400)::float8 as days_since_first_visit
        from parts group by visitor_id
    )
    select v.id::text as visitor_id, v.contact_id::text as contact_id, f.pricing_views, f.checkout_views, f.product_views, f.forms_abandoned,
           f.form_submits, f.conversions, f.sessions, f.return_visits, f.key_page_seconds, f.key_page_max_scroll, f.page_views, f.distinct_pages,
           f.total_seconds, f.days_since_last_visit, f.days_since_first_visit
      from f join visitors v on v.id = f.visitor_id and v.organization_id = ${org.id}::uuid
     where f.days_since_last_visit is not null`;
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
