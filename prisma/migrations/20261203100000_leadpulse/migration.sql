-- leadpulse (issue 11): site keys for the website collector, idempotent touchpoints by the
-- client's event id, bots marked on visitors, and the URL path function the page and funnel
-- queries group by.

-- A public, write-only key a website's snippet sends to POST /collect. Origins are allow-listed
-- per key ("https://shop.example", "http://localhost:*" for any port, or "*" for any origin).
CREATE TABLE site_keys (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  public_key      text NOT NULL UNIQUE,
  name            text NOT NULL,
  allowed_origins text[] NOT NULL DEFAULT '{}',
  created_at      timestamptz(3) NOT NULL DEFAULT now(),
  revoked_at      timestamptz(3)
);
CREATE INDEX site_keys_organization_id_idx ON site_keys (organization_id);
ALTER TABLE site_keys ADD CONSTRAINT site_keys_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations(id) ON DELETE CASCADE ON UPDATE CASCADE;

-- The client's event id (collector and track_events): a retried batch stores nothing twice.
ALTER TABLE touchpoints ADD COLUMN client_event_id text;
-- The id leads: a lookup by ids is selective whatever the planner believes of the organization.
CREATE UNIQUE INDEX touchpoints_client_event_key ON touchpoints (client_event_id, organization_id) WHERE client_event_id IS NOT NULL;

-- Obvious automated clients (user agent): kept, never counted as visitors.
ALTER TABLE visitors ADD COLUMN is_bot boolean NOT NULL DEFAULT false;
ALTER TABLE visitors ADD COLUMN user_agent text;

-- Conversions a website reported through the collector name their touchpoint's event id.
ALTER TABLE conversions ADD COLUMN client_event_id text;
CREATE UNIQUE INDEX conversions_client_event_key ON conversions (client_event_id, organization_id) WHERE client_event_id IS NOT NULL;

-- A stored URL's path: scheme, host, query and fragment removed, a trailing slash dropped
-- ("https://x.test/pricing/?a=1" → "/pricing"; "" → "/").
CREATE OR REPLACE FUNCTION marketsage_url_path(url text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p = '' THEN '/' ELSE p END
    FROM (SELECT regexp_replace(regexp_replace(regexp_replace(url, '^https?://[^/]+', ''), '[?#].*$', ''), '(.)/$', '\1') AS p) s
$$;

-- A referrer's host, lower-case, without "www." ("https://www.google.com/search" → "google.com",
-- "android-app://com.whatsapp/" → "com.whatsapp"); NULL when there is no referrer.
CREATE OR REPLACE FUNCTION marketsage_referrer_host(referrer text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT nullif(regexp_replace(lower(substring(referrer FROM '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]+)')), '^www\.', ''), '')
$$;

-- A session's source: its UTM source (lower-case), else its referrer's host, else 'direct'.
CREATE OR REPLACE FUNCTION marketsage_session_source(utm_source text, referrer text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(nullif(lower(trim(utm_source)), ''), marketsage_referrer_host(referrer), 'direct')
$$;
