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

-- Each session's page views summarised on its row (issue 11): how many, the first (its landing)
-- and the last (its exit) with their time and route, each by (occurred_at, id) — the order
-- get_page_analytics defines. Kept by statement triggers on touchpoints, so every writer (the
-- collector, track_events, fixtures) keeps it; bulk loads skip them (marketsage.bulk_load) and call marketsage_rebuild_session_pages.
ALTER TABLE visitor_sessions
  ADD COLUMN page_views integer NOT NULL DEFAULT 0,
  ADD COLUMN landing_id bigint,
  ADD COLUMN landing_at timestamptz(3),
  ADD COLUMN exit_id bigint,
  ADD COLUMN exit_at timestamptz(3),
  ADD COLUMN landing_route text,
  ADD COLUMN exit_route text;

-- Recount the given sessions from their page views (touchpoints_session_pageviews_idx). The rows
-- are locked first, in one order, and counted by the next statement: under READ COMMITTED it sees
-- what a concurrent writer of the same session committed while this one waited.
CREATE OR REPLACE FUNCTION marketsage_refresh_session_pages(ids uuid[]) RETURNS void AS $$
BEGIN
  PERFORM 1 FROM visitor_sessions s WHERE s.id = ANY (ids) ORDER BY s.id FOR UPDATE;
  UPDATE visitor_sessions s
     SET page_views = a.n, landing_id = a.lid, landing_at = a.lat, landing_route = a.lr, exit_id = a.xid, exit_at = a.xat, exit_route = a.xr
    FROM (SELECT u.id, c.n, f.id lid, f.occurred_at lat, f.route lr, l.id xid, l.occurred_at xat, l.route xr
            FROM unnest(ids) u(id)
            CROSS JOIN LATERAL (SELECT count(*)::int n FROM touchpoints t WHERE t.session_id = u.id AND t.type = 'PAGEVIEW') c
            LEFT JOIN LATERAL (SELECT t.id, t.occurred_at, t.route FROM touchpoints t WHERE t.session_id = u.id AND t.type = 'PAGEVIEW'
                                ORDER BY t.occurred_at, t.id LIMIT 1) f ON true
            LEFT JOIN LATERAL (SELECT t.id, t.occurred_at, t.route FROM touchpoints t WHERE t.session_id = u.id AND t.type = 'PAGEVIEW'
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
  -- The recounts must see what other writers committed while this one waited for its lock: a
  -- REPEATABLE READ snapshot would not (SERIALIZABLE is safe: it fails with 40001 instead).
  IF current_setting('transaction_isolation') = 'repeatable read' THEN
    RAISE EXCEPTION '% cannot be written in a REPEATABLE READ transaction (its session summaries would miss concurrent writers): use READ COMMITTED or SERIALIZABLE', TG_TABLE_NAME
      USING ERRCODE = 'feature_not_supported';
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- New page views only move a session's count up and its landing earlier or its exit later:
    -- applied as a delta. The UPDATE locks each session row; a concurrent writer's delta waits and
    -- then applies to the row this one wrote (READ COMMITTED re-reads the locked row).
    WITH p AS (SELECT session_id, id, occurred_at, route FROM new_rows WHERE type = 'PAGEVIEW' AND session_id IS NOT NULL),
    c AS (SELECT session_id, count(*)::int n FROM p GROUP BY 1),
    f AS (SELECT DISTINCT ON (session_id) session_id, id, occurred_at, route FROM p ORDER BY session_id, occurred_at, id),
    l AS (SELECT DISTINCT ON (session_id) session_id, id, occurred_at, route FROM p ORDER BY session_id, occurred_at DESC, id DESC),
    d AS (SELECT c.session_id, c.n, f.id fid, f.occurred_at fat, f.route fr, l.id lid, l.occurred_at lat, l.route lr
            FROM c JOIN f USING (session_id) JOIN l USING (session_id) ORDER BY 1)
    UPDATE visitor_sessions s
       SET page_views = s.page_views + d.n,
           landing_id = CASE WHEN s.landing_id IS NULL OR (d.fat, d.fid) < (s.landing_at, s.landing_id) THEN d.fid ELSE s.landing_id END,
           landing_at = CASE WHEN s.landing_id IS NULL OR (d.fat, d.fid) < (s.landing_at, s.landing_id) THEN d.fat ELSE s.landing_at END,
           landing_route = CASE WHEN s.landing_id IS NULL OR (d.fat, d.fid) < (s.landing_at, s.landing_id) THEN d.fr ELSE s.landing_route END,
           exit_id = CASE WHEN s.exit_id IS NULL OR (d.lat, d.lid) > (s.exit_at, s.exit_id) THEN d.lid ELSE s.exit_id END,
           exit_at = CASE WHEN s.exit_id IS NULL OR (d.lat, d.lid) > (s.exit_at, s.exit_id) THEN d.lat ELSE s.exit_at END,
           exit_route = CASE WHEN s.exit_id IS NULL OR (d.lat, d.lid) > (s.exit_at, s.exit_id) THEN d.lr ELSE s.exit_route END
      FROM d
     WHERE s.id = d.session_id;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT session_id) INTO ids FROM old_rows WHERE type = 'PAGEVIEW' AND session_id IS NOT NULL;
  ELSE
    -- Updates that change what the summary reads (type, session, time); page_leave's time on page
    -- and scroll depth, and identify's contact, change none of it.
    -- Rows are paired by id; a row whose id changed has no pair and counts on both sides.
    SELECT array_agg(DISTINCT x) INTO ids FROM (
      SELECT o.session_id x FROM old_rows o LEFT JOIN new_rows n USING (id)
       WHERE o.type = 'PAGEVIEW' AND (n.id IS NULL OR (o.type, o.session_id, o.occurred_at) IS DISTINCT FROM (n.type, n.session_id, n.occurred_at))
      UNION ALL
      SELECT n.session_id FROM new_rows n LEFT JOIN old_rows o USING (id)
       WHERE n.type = 'PAGEVIEW' AND (o.id IS NULL OR (o.type, o.session_id, o.occurred_at) IS DISTINCT FROM (n.type, n.session_id, n.occurred_at))) z
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
     SET page_views = coalesce(a.n, 0), landing_id = a.fid, landing_at = a.fat, landing_route = a.fr, exit_id = a.lid, exit_at = a.lat, exit_route = a.lr
    FROM visitor_sessions s0
    LEFT JOIN (SELECT session_id, count(*)::int n,
                      (array_agg(id ORDER BY occurred_at, id))[1] fid, min(occurred_at) fat, (array_agg(route ORDER BY occurred_at, id))[1] fr,
                      (array_agg(id ORDER BY occurred_at DESC, id DESC))[1] lid, max(occurred_at) lat, (array_agg(route ORDER BY occurred_at DESC, id DESC))[1] lr
                 FROM touchpoints
                WHERE type = 'PAGEVIEW' AND session_id IS NOT NULL AND (org IS NULL OR organization_id = org)
                GROUP BY 1) a ON a.session_id = s0.id
   WHERE s.id = s0.id AND (org IS NULL OR s0.organization_id = org)
     AND (s.page_views, s.landing_id, s.landing_at, s.landing_route, s.exit_id, s.exit_at, s.exit_route)
         IS DISTINCT FROM (coalesce(a.n, 0), a.fid, a.fat, a.fr, a.lid, a.lat, a.lr);
$$;

SELECT marketsage_rebuild_session_pages(NULL);

-- A session's source (its UTM source, else its referrer's host, else 'direct') and its referrer's
-- host, stored: sources, pages, funnels and filters group and filter by them without a regex per
-- session (generated columns, written by the database only).
ALTER TABLE visitor_sessions
  ADD COLUMN source text GENERATED ALWAYS AS (marketsage_session_source(utm_source, referrer)) STORED,
  ADD COLUMN referrer_host text GENERATED ALWAYS AS (marketsage_referrer_host(referrer)) STORED;


-- Distinct visitors by source without a distinct: each session stores the start of its visitor's
-- previous session overall and with the same source, source and medium, and campaign key (by
-- (started_at, id)). A visitor counts once in a range for a key: at its session whose previous
-- one with that key started before the range (or does not exist). medium and campaign are the
-- traffic-source keys (migration leadpulse_rollups; get_traffic_sources documents them).
ALTER TABLE visitor_sessions
  ADD COLUMN medium text GENERATED ALWAYS AS (
    CASE WHEN nullif(trim(utm_source), '') IS NOT NULL THEN coalesce(nullif(lower(trim(utm_medium)), ''), '(not set)')
         WHEN marketsage_referrer_host(referrer) IS NOT NULL THEN 'referral' ELSE '(none)' END) STORED,
  ADD COLUMN campaign text GENERATED ALWAYS AS (
    CASE WHEN nullif(trim(utm_source), '') IS NOT NULL THEN coalesce(nullif(trim(utm_campaign), ''), '') ELSE '' END) STORED,
  ADD COLUMN prev_started_at timestamptz(3),
  ADD COLUMN prev_source_at timestamptz(3),
  ADD COLUMN prev_medium_at timestamptz(3),
  ADD COLUMN prev_campaign_at timestamptz(3);

-- Recompute the given visitors' sessions' previous-session columns. The visitors are locked first
-- (ingestion holds the same lock), so the next statement sees what a concurrent writer committed.
CREATE OR REPLACE FUNCTION marketsage_refresh_session_order(ids uuid[]) RETURNS void AS $$
BEGIN
  PERFORM 1 FROM visitors v WHERE v.id = ANY (ids) ORDER BY v.id FOR NO KEY UPDATE;
  UPDATE visitor_sessions s
     SET prev_started_at = w.a, prev_source_at = w.b, prev_medium_at = w.c, prev_campaign_at = w.d
    FROM (SELECT x.id,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id ORDER BY x.started_at, x.id) a,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id, x.source ORDER BY x.started_at, x.id) b,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id, x.source, x.medium ORDER BY x.started_at, x.id) c,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id, CASE WHEN x.campaign = '' THEN x.source ELSE '' END, x.campaign
                                         ORDER BY x.started_at, x.id) d
            FROM visitor_sessions x WHERE x.visitor_id = ANY (ids)) w
   WHERE s.id = w.id
     AND (s.prev_started_at, s.prev_source_at, s.prev_medium_at, s.prev_campaign_at) IS DISTINCT FROM (w.a, w.b, w.c, w.d);
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION marketsage_sessions_order_changed() RETURNS trigger AS $$
DECLARE
  ids uuid[];
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  -- The recounts must see what other writers committed while this one waited for its lock: a
  -- REPEATABLE READ snapshot would not (SERIALIZABLE is safe: it fails with 40001 instead).
  IF current_setting('transaction_isolation') = 'repeatable read' THEN
    RAISE EXCEPTION '% cannot be written in a REPEATABLE READ transaction (its session summaries would miss concurrent writers): use READ COMMITTED or SERIALIZABLE', TG_TABLE_NAME
      USING ERRCODE = 'feature_not_supported';
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT visitor_id) INTO ids FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT visitor_id) INTO ids FROM old_rows;
  ELSE
    -- Only changes to what the order and the keys read (the page-view summary's updates and this
    -- function's own change nothing here).
    -- Rows are paired by id; a row whose id changed (the id breaks ties) has no pair and counts.
    SELECT array_agg(DISTINCT x) INTO ids FROM (
      SELECT o.visitor_id x FROM old_rows o LEFT JOIN new_rows n USING (id)
       WHERE n.id IS NULL OR (o.visitor_id, o.started_at, o.source, o.medium, o.campaign) IS DISTINCT FROM (n.visitor_id, n.started_at, n.source, n.medium, n.campaign)
      UNION ALL
      SELECT n.visitor_id FROM new_rows n LEFT JOIN old_rows o USING (id)
       WHERE o.id IS NULL OR (o.visitor_id, o.started_at, o.source, o.medium, o.campaign) IS DISTINCT FROM (n.visitor_id, n.started_at, n.source, n.medium, n.campaign)) z;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM marketsage_refresh_session_order(ids);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER visitor_sessions_order_insert AFTER INSERT ON visitor_sessions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_sessions_order_changed();

CREATE TRIGGER visitor_sessions_order_update AFTER UPDATE ON visitor_sessions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_sessions_order_changed();

CREATE TRIGGER visitor_sessions_order_delete AFTER DELETE ON visitor_sessions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_sessions_order_changed();

-- Every session's previous-session columns (after bulk loads; NULL: every organization).
CREATE OR REPLACE FUNCTION marketsage_rebuild_session_order(org uuid) RETURNS void
LANGUAGE sql AS $$
  UPDATE visitor_sessions s
     SET prev_started_at = w.a, prev_source_at = w.b, prev_medium_at = w.c, prev_campaign_at = w.d
    FROM (SELECT x.id,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id ORDER BY x.started_at, x.id) a,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id, x.source ORDER BY x.started_at, x.id) b,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id, x.source, x.medium ORDER BY x.started_at, x.id) c,
                 lag(x.started_at) OVER (PARTITION BY x.visitor_id, CASE WHEN x.campaign = '' THEN x.source ELSE '' END, x.campaign
                                         ORDER BY x.started_at, x.id) d
            FROM visitor_sessions x WHERE org IS NULL OR x.organization_id = org) w
   WHERE s.id = w.id
     AND (s.prev_started_at, s.prev_source_at, s.prev_medium_at, s.prev_campaign_at) IS DISTINCT FROM (w.a, w.b, w.c, w.d);
$$;

SELECT marketsage_rebuild_session_order(NULL);

-- Traffic sources read the range's sessions index-only with their keys and previous sessions;
-- page analytics with their page views, landing and exit.
DROP INDEX visitor_sessions_org_started_cover_idx;
CREATE INDEX visitor_sessions_org_started_cover_idx ON visitor_sessions (organization_id, started_at)
  INCLUDE (id, visitor_id, source, medium, campaign, referrer_host, utm_source, page_views, landing_route, landing_at,
           exit_route, exit_at, prev_started_at, prev_source_at, prev_medium_at, prev_campaign_at);

-- A conversion's session (its visitor's latest started at or before it, ties by id) in one
-- index-only probe, with the session's keys.
CREATE INDEX visitor_sessions_visitor_started_keys_idx ON visitor_sessions (visitor_id, started_at, id)
  INCLUDE (organization_id, source, medium, campaign);
DROP INDEX visitor_sessions_visitor_id_started_at_idx;
