-- monitoring at bench scale (issue 14: get_anomaly_detection over 90 days p95 <= 1 s). Active
-- contacts per local day (distinct contacts with an open, click or reply, an identified website
-- touchpoint, or a conversion) counted from the sources took 2.2 s for 98 days (1.6M engagement
-- rows sorted per day). contact_active_days holds each (organization, local day in its time zone,
-- contact) once; contact_active_day_counts how many per day (sharded by backend). Kept by
-- statement triggers on message_events, touchpoints and conversions: a new pair is inserted once
-- (ON CONFLICT DO NOTHING, safe under concurrency) and counted; a deleted or changed source row
-- removes the pair when nothing else makes that contact active that day. Not supported: a delete
-- racing an insert of activity for the same contact and day (the pair may go while the new
-- activity stays; marketsage_rebuild_active_days recomputes). Skipped in bulk loads. A change of
-- an organization's time zone recomputes its rows. Series of whole local days read the counts;
-- windows that are not whole days, and distinct counts over a window, read the sources.

-- CreateTable
CREATE TABLE "contact_active_days" (
    "organization_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "contact_id" UUID NOT NULL,

    CONSTRAINT "contact_active_days_pkey" PRIMARY KEY ("organization_id","day","contact_id")
);

-- CreateTable
CREATE TABLE "contact_active_day_counts" (
    "organization_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "shard" SMALLINT NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "contact_active_day_counts_pkey" PRIMARY KEY ("organization_id","day","shard")
);

-- Adds the (organization, contact, instant) activities given: new (organization, local day,
-- contact) pairs are inserted and counted.
CREATE OR REPLACE FUNCTION marketsage_add_active_days(orgs uuid[], contacts uuid[], ats timestamptz[]) RETURNS void
LANGUAGE sql AS $$
  WITH p AS (
    SELECT DISTINCT x.o, (x.t AT TIME ZONE g.time_zone)::date d, x.c
      FROM unnest(orgs, contacts, ats) x(o, c, t) JOIN organizations g ON g.id = x.o
     WHERE x.c IS NOT NULL),
  ins AS (
    INSERT INTO contact_active_days (organization_id, day, contact_id) SELECT o, d, c FROM p ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING RETURNING organization_id, day)
  INSERT INTO contact_active_day_counts (organization_id, day, shard, n)
  SELECT organization_id, day, (pg_backend_pid() % 16)::smallint, count(*) FROM ins GROUP BY 1, 2
  ON CONFLICT (organization_id, day, shard) DO UPDATE SET n = contact_active_day_counts.n + excluded.n
$$;

-- Is the contact active on that local day of its organization (any source)?
CREATE OR REPLACE FUNCTION marketsage_contact_active_on(o uuid, c uuid, d date, tz text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM message_events e WHERE e.contact_id = c AND e.organization_id = o AND e.type IN ('OPENED', 'CLICKED', 'REPLIED')
                   AND e.occurred_at >= (d::timestamp AT TIME ZONE tz) AND e.occurred_at < ((d + 1)::timestamp AT TIME ZONE tz))
      OR EXISTS (SELECT 1 FROM touchpoints t WHERE t.contact_id = c AND t.organization_id = o
                   AND t.occurred_at >= (d::timestamp AT TIME ZONE tz) AND t.occurred_at < ((d + 1)::timestamp AT TIME ZONE tz))
      OR EXISTS (SELECT 1 FROM conversions x WHERE x.contact_id = c AND x.organization_id = o
                   AND x.occurred_at >= (d::timestamp AT TIME ZONE tz) AND x.occurred_at < ((d + 1)::timestamp AT TIME ZONE tz))
$$;

-- Rechecks the pairs of the (organization, contact, instant) activities given (deleted or changed
-- source rows): a pair nothing supports any more is removed and uncounted.
CREATE OR REPLACE FUNCTION marketsage_check_active_days(orgs uuid[], contacts uuid[], ats timestamptz[]) RETURNS void
LANGUAGE sql AS $$
  WITH p AS (
    SELECT DISTINCT x.o, (x.t AT TIME ZONE g.time_zone)::date d, x.c, g.time_zone tz
      FROM unnest(orgs, contacts, ats) x(o, c, t) JOIN organizations g ON g.id = x.o
     WHERE x.c IS NOT NULL),
  del AS (
    DELETE FROM contact_active_days a USING p
     WHERE a.organization_id = p.o AND a.day = p.d AND a.contact_id = p.c AND NOT marketsage_contact_active_on(p.o, p.c, p.d, p.tz)
    RETURNING a.organization_id, a.day)
  INSERT INTO contact_active_day_counts (organization_id, day, shard, n)
  SELECT organization_id, day, (pg_backend_pid() % 16)::smallint, -count(*) FROM del GROUP BY 1, 2
  ON CONFLICT (organization_id, day, shard) DO UPDATE SET n = contact_active_day_counts.n + excluded.n
$$;

-- One trigger function for the three sources: TG_ARGV[0] = 'engaged' keeps message events of the
-- engagement types only.
CREATE OR REPLACE FUNCTION marketsage_active_days_changed() RETURNS trigger AS $$
DECLARE
  o uuid[]; c uuid[]; t timestamptz[];
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF TG_ARGV[0] = 'engaged' THEN
      SELECT array_agg(organization_id), array_agg(contact_id), array_agg(occurred_at) INTO o, c, t FROM new_rows
       WHERE contact_id IS NOT NULL AND type IN ('OPENED', 'CLICKED', 'REPLIED');
    ELSE
      SELECT array_agg(organization_id), array_agg(contact_id), array_agg(occurred_at) INTO o, c, t FROM new_rows WHERE contact_id IS NOT NULL;
    END IF;
    IF o IS NOT NULL THEN PERFORM marketsage_add_active_days(o, c, t); END IF;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    IF TG_ARGV[0] = 'engaged' THEN
      SELECT array_agg(organization_id), array_agg(contact_id), array_agg(occurred_at) INTO o, c, t FROM old_rows
       WHERE contact_id IS NOT NULL AND type IN ('OPENED', 'CLICKED', 'REPLIED');
    ELSE
      SELECT array_agg(organization_id), array_agg(contact_id), array_agg(occurred_at) INTO o, c, t FROM old_rows WHERE contact_id IS NOT NULL;
    END IF;
    IF o IS NOT NULL THEN PERFORM marketsage_check_active_days(o, c, t); END IF;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_events_active_days_insert AFTER INSERT ON message_events REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('engaged');
CREATE TRIGGER message_events_active_days_update AFTER UPDATE ON message_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('engaged');
CREATE TRIGGER message_events_active_days_delete AFTER DELETE ON message_events REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('engaged');
CREATE TRIGGER touchpoints_active_days_insert AFTER INSERT ON touchpoints REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('any');
CREATE TRIGGER touchpoints_active_days_update AFTER UPDATE ON touchpoints REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('any');
CREATE TRIGGER touchpoints_active_days_delete AFTER DELETE ON touchpoints REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('any');
CREATE TRIGGER conversions_active_days_insert AFTER INSERT ON conversions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('any');
CREATE TRIGGER conversions_active_days_update AFTER UPDATE ON conversions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('any');
CREATE TRIGGER conversions_active_days_delete AFTER DELETE ON conversions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_active_days_changed('any');

-- Recompute an organization's rows (NULL: every organization) from the three sources.
CREATE OR REPLACE FUNCTION marketsage_rebuild_active_days(org uuid) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM contact_active_days WHERE org IS NULL OR organization_id = org;
  DELETE FROM contact_active_day_counts WHERE org IS NULL OR organization_id = org;
  INSERT INTO contact_active_days (organization_id, day, contact_id)
  SELECT DISTINCT a.organization_id, (a.occurred_at AT TIME ZONE g.time_zone)::date, a.contact_id
    FROM (SELECT organization_id, contact_id, occurred_at FROM message_events
           WHERE type IN ('OPENED', 'CLICKED', 'REPLIED') AND contact_id IS NOT NULL AND (org IS NULL OR organization_id = org)
          UNION ALL
          SELECT organization_id, contact_id, occurred_at FROM touchpoints WHERE contact_id IS NOT NULL AND (org IS NULL OR organization_id = org)
          UNION ALL
          SELECT organization_id, contact_id, occurred_at FROM conversions WHERE contact_id IS NOT NULL AND (org IS NULL OR organization_id = org)) a
    JOIN organizations g ON g.id = a.organization_id;
  INSERT INTO contact_active_day_counts (organization_id, day, shard, n)
  SELECT organization_id, day, 0, count(*) FROM contact_active_days WHERE org IS NULL OR organization_id = org GROUP BY 1, 2;
$$;

-- Local days move with the organization's time zone.
CREATE OR REPLACE FUNCTION marketsage_org_zone_changed() RETURNS trigger AS $$
BEGIN
  IF NEW.time_zone IS DISTINCT FROM OLD.time_zone THEN
    PERFORM marketsage_rebuild_active_days(NEW.id);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER organizations_active_days_zone AFTER UPDATE OF time_zone ON organizations
  FOR EACH ROW EXECUTE FUNCTION marketsage_org_zone_changed();

-- Existing data.
SELECT marketsage_rebuild_active_days(NULL);
