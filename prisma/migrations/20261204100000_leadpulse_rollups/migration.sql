-- Each session's page views summarised on its row (issue 11): how many, the first (its landing)
-- and the last (its exit), each by (occurred_at, id) — the order get_page_analytics defines. Kept
-- by statement triggers on touchpoints, so every writer (the collector, track_events, fixtures)
-- keeps it; bulk loads skip them (marketsage.bulk_load) and call marketsage_rebuild_session_pages.
ALTER TABLE visitor_sessions
  ADD COLUMN page_views integer NOT NULL DEFAULT 0,
  ADD COLUMN landing_id bigint,
  ADD COLUMN landing_at timestamptz(3),
  ADD COLUMN exit_id bigint,
  ADD COLUMN exit_at timestamptz(3);

-- Recount the given sessions from their page views (touchpoints_session_pageviews_idx). The rows
-- are locked first, in one order, and counted by the next statement: under READ COMMITTED it sees
-- what a concurrent writer of the same session committed while this one waited.
CREATE OR REPLACE FUNCTION marketsage_refresh_session_pages(ids uuid[]) RETURNS void AS $$
BEGIN
  PERFORM 1 FROM visitor_sessions s WHERE s.id = ANY (ids) ORDER BY s.id FOR UPDATE;
  UPDATE visitor_sessions s
     SET page_views = a.n, landing_id = a.lid, landing_at = a.lat, exit_id = a.xid, exit_at = a.xat
    FROM (SELECT u.id, c.n, f.id lid, f.occurred_at lat, l.id xid, l.occurred_at xat
            FROM unnest(ids) u(id)
            CROSS JOIN LATERAL (SELECT count(*)::int n FROM touchpoints t WHERE t.session_id = u.id AND t.type = 'PAGEVIEW') c
            LEFT JOIN LATERAL (SELECT t.id, t.occurred_at FROM touchpoints t WHERE t.session_id = u.id AND t.type = 'PAGEVIEW'
                                ORDER BY t.occurred_at, t.id LIMIT 1) f ON true
            LEFT JOIN LATERAL (SELECT t.id, t.occurred_at FROM touchpoints t WHERE t.session_id = u.id AND t.type = 'PAGEVIEW'
                                ORDER BY t.occurred_at DESC, t.id DESC LIMIT 1) l ON true) a
   WHERE s.id = a.id;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION marketsage_touchpoints_pages_changed() RETURNS trigger AS $$
DECLARE
  ids uuid[];
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- New page views only move a session's count up and its landing earlier or its exit later:
    -- applied as a delta. The UPDATE locks each session row; a concurrent writer's delta waits and
    -- then applies to the row this one wrote (READ COMMITTED re-reads the locked row).
    WITH p AS (SELECT session_id, id, occurred_at FROM new_rows WHERE type = 'PAGEVIEW' AND session_id IS NOT NULL),
    c AS (SELECT session_id, count(*)::int n FROM p GROUP BY 1),
    f AS (SELECT DISTINCT ON (session_id) session_id, id, occurred_at FROM p ORDER BY session_id, occurred_at, id),
    l AS (SELECT DISTINCT ON (session_id) session_id, id, occurred_at FROM p ORDER BY session_id, occurred_at DESC, id DESC),
    d AS (SELECT c.session_id, c.n, f.id fid, f.occurred_at fat, l.id lid, l.occurred_at lat
            FROM c JOIN f USING (session_id) JOIN l USING (session_id) ORDER BY 1)
    UPDATE visitor_sessions s
       SET page_views = s.page_views + d.n,
           landing_id = CASE WHEN s.landing_id IS NULL OR (d.fat, d.fid) < (s.landing_at, s.landing_id) THEN d.fid ELSE s.landing_id END,
           landing_at = CASE WHEN s.landing_id IS NULL OR (d.fat, d.fid) < (s.landing_at, s.landing_id) THEN d.fat ELSE s.landing_at END,
           exit_id = CASE WHEN s.exit_id IS NULL OR (d.lat, d.lid) > (s.exit_at, s.exit_id) THEN d.lid ELSE s.exit_id END,
           exit_at = CASE WHEN s.exit_id IS NULL OR (d.lat, d.lid) > (s.exit_at, s.exit_id) THEN d.lat ELSE s.exit_at END
      FROM d
     WHERE s.id = d.session_id;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT session_id) INTO ids FROM old_rows WHERE type = 'PAGEVIEW' AND session_id IS NOT NULL;
  ELSE
    -- Updates that change what the summary reads (type, session, time); page_leave's time on page
    -- and scroll depth, and identify's contact, change none of it.
    SELECT array_agg(DISTINCT x) INTO ids FROM (
      SELECT unnest(ARRAY[o.session_id, n.session_id]) x
        FROM old_rows o JOIN new_rows n USING (id)
       WHERE (o.type = 'PAGEVIEW' OR n.type = 'PAGEVIEW')
         AND (o.type, o.session_id, o.occurred_at) IS DISTINCT FROM (n.type, n.session_id, n.occurred_at)) z
     WHERE x IS NOT NULL;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM marketsage_refresh_session_pages(ids);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER touchpoints_session_pages_insert AFTER INSERT ON touchpoints
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_touchpoints_pages_changed();

CREATE TRIGGER touchpoints_session_pages_update AFTER UPDATE ON touchpoints
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_touchpoints_pages_changed();

CREATE TRIGGER touchpoints_session_pages_delete AFTER DELETE ON touchpoints
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_touchpoints_pages_changed();

-- Every session's summary from its page views (after bulk loads; NULL: every organization).
CREATE OR REPLACE FUNCTION marketsage_rebuild_session_pages(org uuid) RETURNS void
LANGUAGE sql AS $$
  UPDATE visitor_sessions s
     SET page_views = coalesce(a.n, 0), landing_id = a.fid, landing_at = a.fat, exit_id = a.lid, exit_at = a.lat
    FROM visitor_sessions s0
    LEFT JOIN (SELECT session_id, count(*)::int n,
                      (array_agg(id ORDER BY occurred_at, id))[1] fid, min(occurred_at) fat,
                      (array_agg(id ORDER BY occurred_at DESC, id DESC))[1] lid, max(occurred_at) lat
                 FROM touchpoints
                WHERE type = 'PAGEVIEW' AND session_id IS NOT NULL AND (org IS NULL OR organization_id = org)
                GROUP BY 1) a ON a.session_id = s0.id
   WHERE s.id = s0.id AND (org IS NULL OR s0.organization_id = org)
     AND (s.page_views, s.landing_id, s.exit_id) IS DISTINCT FROM (coalesce(a.n, 0), a.fid, a.lid);
$$;

SELECT marketsage_rebuild_session_pages(NULL);

-- Touchpoints by (type, route) in time order: funnels and page analytics read only the routes
-- their steps or pattern match. `url ~ urlPatternRegex(p)` holds exactly when
-- `marketsage_url_route(url) ~ urlPatternRegex(p)` (migration visited_routes), so a pattern is
-- matched once per distinct (type, route) of the organization — a skip scan of this index — and
-- then each matching pair is one range scan. The route is a stored column (an index-only scan
-- cannot return an index expression without the column it is computed from).
ALTER TABLE touchpoints ADD COLUMN route text GENERATED ALWAYS AS (marketsage_url_route(url)) STORED;

CREATE INDEX touchpoints_org_type_route_idx ON touchpoints (organization_id, type, route, occurred_at)
  INCLUDE (id, visitor_id, session_id, duration_sec, scroll_depth);

CREATE OR REPLACE FUNCTION marketsage_touchpoint_routes(org uuid) RETURNS TABLE (type "TouchpointType", route text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH RECURSIVE r(type, route) AS (
    (SELECT t.type, t.route FROM touchpoints t WHERE t.organization_id = org ORDER BY t.type, t.route LIMIT 1)
    UNION ALL
    SELECT n.type, n.route FROM r CROSS JOIN LATERAL (
      SELECT t.type, t.route FROM touchpoints t
       WHERE t.organization_id = org AND (t.type, t.route) > (r.type, r.route)
       ORDER BY t.type, t.route LIMIT 1) n
  )
  SELECT type, route FROM r
$$;

-- A session's source (its UTM source, else its referrer's host, else 'direct') and its referrer's
-- host, stored: sources, pages, funnels and filters group and filter by them without a regex per
-- session (generated columns, written by the database only).
ALTER TABLE visitor_sessions
  ADD COLUMN source text GENERATED ALWAYS AS (marketsage_session_source(utm_source, referrer)) STORED,
  ADD COLUMN referrer_host text GENERATED ALWAYS AS (marketsage_referrer_host(referrer)) STORED;

-- Traffic sources and page analytics read the sessions of the range index-only, with their keys,
-- landing and exit.
DROP INDEX visitor_sessions_org_started_cover_idx;
CREATE INDEX visitor_sessions_org_started_cover_idx ON visitor_sessions (organization_id, started_at)
  INCLUDE (id, visitor_id, source, referrer_host, utm_source, utm_medium, utm_campaign, landing_id, exit_id);
