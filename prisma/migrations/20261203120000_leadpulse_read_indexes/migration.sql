-- leadpulse's reads (issue 11): funnels, pages, sources and real time read these index-only.
-- Covering indexes Prisma cannot describe (INCLUDE, partial); they replace the plain
-- (organization_id, occurred_at) and (organization_id, started_at) indexes.

-- Bots are few: "not a bot" is an anti-join on this tiny index.
CREATE INDEX visitors_bot_id_idx ON visitors (id) WHERE is_bot;

CREATE INDEX touchpoints_org_time_cover_idx ON touchpoints (organization_id, occurred_at)
  INCLUDE (type, visitor_id, session_id, id, url, duration_sec, scroll_depth);
DROP INDEX touchpoints_organization_id_occurred_at_idx;

-- A session's page views in order (its landing and its exit).
CREATE INDEX touchpoints_session_pageviews_idx ON touchpoints (session_id, occurred_at, id)
  INCLUDE (organization_id) WHERE type = 'PAGEVIEW';

CREATE INDEX visitor_sessions_org_started_cover_idx ON visitor_sessions (organization_id, started_at)
  INCLUDE (id, visitor_id, utm_source, utm_medium, utm_campaign, referrer);
DROP INDEX visitor_sessions_organization_id_started_at_idx;

-- Channel engagement's audience sample: identified visitors on a device, most recently seen first.
CREATE INDEX visitors_identified_device_idx ON visitors (organization_id, device, last_seen_at DESC)
  INCLUDE (contact_id) WHERE contact_id IS NOT NULL AND NOT is_bot;
