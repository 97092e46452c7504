-- customer-data's `visited` rule (issue 11): identified page views by URL route, index-only.
-- A route is the stored URL without scheme, host, query and fragment, trailing slash kept
-- ("https://x.test/pricing/?a=1" → "/pricing/"). For a URL path pattern without a literal ? or #,
-- `url ~ urlPatternRegex(p)` holds exactly when `marketsage_url_route(url) ~ urlPatternRegex(p)`,
-- so the rule matches the pattern against the organization's distinct routes (a skip scan of this
-- index, tens of entries) and then reads only the matching routes' page views.
CREATE OR REPLACE FUNCTION marketsage_url_route(url text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT regexp_replace(regexp_replace(url, '^https?://[^/]+', ''), '[?#].*$', '')
$$;

CREATE INDEX touchpoints_contact_pageview_route_idx ON touchpoints (organization_id, marketsage_url_route(url), occurred_at)
  INCLUDE (contact_id, url) WHERE type = 'PAGEVIEW' AND contact_id IS NOT NULL;

-- The distinct routes of an organization's identified page views, by a skip scan of the index above.
CREATE OR REPLACE FUNCTION marketsage_contact_routes(org uuid) RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH RECURSIVE r(route) AS (
    (SELECT marketsage_url_route(t.url) FROM touchpoints t
      WHERE t.organization_id = org AND t.type = 'PAGEVIEW' AND t.contact_id IS NOT NULL
      ORDER BY 1 LIMIT 1)
    UNION ALL
    SELECT (SELECT marketsage_url_route(t.url) FROM touchpoints t
             WHERE t.organization_id = org AND t.type = 'PAGEVIEW' AND t.contact_id IS NOT NULL AND marketsage_url_route(t.url) > r.route
             ORDER BY 1 LIMIT 1)
      FROM r WHERE r.route IS NOT NULL
  )
  SELECT route FROM r WHERE route IS NOT NULL
$$;
