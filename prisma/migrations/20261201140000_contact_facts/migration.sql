-- Segment rules over many contacts at bench scale (issue 3: preview_segment p95 <= 250 ms at 1M
-- contacts). Evaluating an unsaved rule scanned the wide contacts rows (~465 bytes each, names,
-- addresses, time zone) and probed the 20M-row event history for every behaviour condition.
-- contact_facts keeps, per contact, what rules read most: the fixed-width profile fields, the
-- reachability bits, and the latest event of each type per channel, so "opened an email in the
-- last 30 days" is one comparison on the contact's own row (~130 bytes: a scan of a million rows
-- reads 150 MB instead of 490). contact_tags holds each contact's tags as rows, so "tagged vip"
-- is a range of its primary key. Company and source stay on contacts only.
-- contact_counts keeps each organization's number of contacts (a preview's share) without
-- counting a million rows.
-- CreateTable
CREATE TABLE "contact_facts" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "reach" SMALLINT NOT NULL DEFAULT 0,
    "status" "ContactStatus" NOT NULL,
    "has_email" BOOLEAN NOT NULL,
    "has_phone" BOOLEAN NOT NULL,
    "country" CHAR(2) NOT NULL,
    "consent_email" "ConsentAction",
    "consent_sms" "ConsentAction",
    "consent_whatsapp" "ConsentAction",
    "email_sent_at" TIMESTAMPTZ(3),
    "email_delivered_at" TIMESTAMPTZ(3),
    "email_failed_at" TIMESTAMPTZ(3),
    "email_opened_at" TIMESTAMPTZ(3),
    "email_clicked_at" TIMESTAMPTZ(3),
    "email_replied_at" TIMESTAMPTZ(3),
    "email_bounced_at" TIMESTAMPTZ(3),
    "email_unsubscribed_at" TIMESTAMPTZ(3),
    "sms_sent_at" TIMESTAMPTZ(3),
    "sms_delivered_at" TIMESTAMPTZ(3),
    "sms_failed_at" TIMESTAMPTZ(3),
    "sms_opened_at" TIMESTAMPTZ(3),
    "sms_clicked_at" TIMESTAMPTZ(3),
    "sms_replied_at" TIMESTAMPTZ(3),
    "sms_bounced_at" TIMESTAMPTZ(3),
    "sms_unsubscribed_at" TIMESTAMPTZ(3),
    "whatsapp_sent_at" TIMESTAMPTZ(3),
    "whatsapp_delivered_at" TIMESTAMPTZ(3),
    "whatsapp_failed_at" TIMESTAMPTZ(3),
    "whatsapp_opened_at" TIMESTAMPTZ(3),
    "whatsapp_clicked_at" TIMESTAMPTZ(3),
    "whatsapp_replied_at" TIMESTAMPTZ(3),
    "whatsapp_bounced_at" TIMESTAMPTZ(3),
    "whatsapp_unsubscribed_at" TIMESTAMPTZ(3),
    "city" TEXT,

    CONSTRAINT "contact_facts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contact_tags" (
    "organization_id" UUID NOT NULL,
    "tag" TEXT NOT NULL,
    "contact_id" UUID NOT NULL,

    CONSTRAINT "contact_tags_pkey" PRIMARY KEY ("organization_id","tag","contact_id")
);

-- CreateTable
CREATE TABLE "contact_counts" (
    "organization_id" UUID NOT NULL,
    "shard" SMALLINT NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "contact_counts_pkey" PRIMARY KEY ("organization_id","shard")
);

-- CreateIndex
CREATE INDEX "contact_facts_organization_id_created_at_id_idx" ON "contact_facts"("organization_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "contact_tags_contact_id_idx" ON "contact_tags"("contact_id");

-- AddForeignKey
ALTER TABLE "contact_facts" ADD CONSTRAINT "contact_facts_id_fkey" FOREIGN KEY ("id") REFERENCES "contacts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contact_tags" ADD CONSTRAINT "contact_tags_contact_id_fkey" FOREIGN KEY ("contact_id") REFERENCES "contacts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contact_counts" ADD CONSTRAINT "contact_counts_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Room on each page for heap-only updates: a facts row is rewritten on every event of its contact.
ALTER TABLE "contact_facts" SET (fillfactor = 90);

-- Set the latest-event columns of the given contacts from their whole history (after events are
-- deleted or move to another contact, and for contacts created after their first events:
-- message_events.contact_id has no foreign key), and contacts.last_delivered_at /
-- last_engaged_at with them (the insert trigger of migration engagement_state only moves those
-- forward). Rows that already agree are left alone.
CREATE OR REPLACE FUNCTION marketsage_refresh_contact_latest(ids uuid[]) RETURNS void AS $$
  UPDATE contact_facts f
     SET (email_sent_at, email_delivered_at, email_failed_at, email_opened_at, email_clicked_at, email_replied_at, email_bounced_at, email_unsubscribed_at, sms_sent_at, sms_delivered_at, sms_failed_at, sms_opened_at, sms_clicked_at, sms_replied_at, sms_bounced_at, sms_unsubscribed_at, whatsapp_sent_at, whatsapp_delivered_at, whatsapp_failed_at, whatsapp_opened_at, whatsapp_clicked_at, whatsapp_replied_at, whatsapp_bounced_at, whatsapp_unsubscribed_at) =
         (l.email_sent_at, l.email_delivered_at, l.email_failed_at, l.email_opened_at, l.email_clicked_at, l.email_replied_at, l.email_bounced_at, l.email_unsubscribed_at, l.sms_sent_at, l.sms_delivered_at, l.sms_failed_at, l.sms_opened_at, l.sms_clicked_at, l.sms_replied_at, l.sms_bounced_at, l.sms_unsubscribed_at, l.whatsapp_sent_at, l.whatsapp_delivered_at, l.whatsapp_failed_at, l.whatsapp_opened_at, l.whatsapp_clicked_at, l.whatsapp_replied_at, l.whatsapp_bounced_at, l.whatsapp_unsubscribed_at)
    FROM contact_facts g
    CROSS JOIN LATERAL (
      SELECT max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'SENT') AS email_sent_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'DELIVERED') AS email_delivered_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'FAILED') AS email_failed_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'OPENED') AS email_opened_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'CLICKED') AS email_clicked_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'REPLIED') AS email_replied_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'BOUNCED') AS email_bounced_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'UNSUBSCRIBED') AS email_unsubscribed_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'SENT') AS sms_sent_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'DELIVERED') AS sms_delivered_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'FAILED') AS sms_failed_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'OPENED') AS sms_opened_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'CLICKED') AS sms_clicked_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'REPLIED') AS sms_replied_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'BOUNCED') AS sms_bounced_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'UNSUBSCRIBED') AS sms_unsubscribed_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'SENT') AS whatsapp_sent_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'DELIVERED') AS whatsapp_delivered_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'FAILED') AS whatsapp_failed_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'OPENED') AS whatsapp_opened_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'CLICKED') AS whatsapp_clicked_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'REPLIED') AS whatsapp_replied_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'BOUNCED') AS whatsapp_bounced_at,
           max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'UNSUBSCRIBED') AS whatsapp_unsubscribed_at
        FROM message_events e
       WHERE e.contact_id = g.id AND e.organization_id = g.organization_id AND e.type <> 'QUEUED') l
   WHERE g.id = ANY(ids) AND f.id = g.id
     AND (f.email_sent_at, f.email_delivered_at, f.email_failed_at, f.email_opened_at, f.email_clicked_at, f.email_replied_at, f.email_bounced_at, f.email_unsubscribed_at, f.sms_sent_at, f.sms_delivered_at, f.sms_failed_at, f.sms_opened_at, f.sms_clicked_at, f.sms_replied_at, f.sms_bounced_at, f.sms_unsubscribed_at, f.whatsapp_sent_at, f.whatsapp_delivered_at, f.whatsapp_failed_at, f.whatsapp_opened_at, f.whatsapp_clicked_at, f.whatsapp_replied_at, f.whatsapp_bounced_at, f.whatsapp_unsubscribed_at)
         IS DISTINCT FROM (l.email_sent_at, l.email_delivered_at, l.email_failed_at, l.email_opened_at, l.email_clicked_at, l.email_replied_at, l.email_bounced_at, l.email_unsubscribed_at, l.sms_sent_at, l.sms_delivered_at, l.sms_failed_at, l.sms_opened_at, l.sms_clicked_at, l.sms_replied_at, l.sms_bounced_at, l.sms_unsubscribed_at, l.whatsapp_sent_at, l.whatsapp_delivered_at, l.whatsapp_failed_at, l.whatsapp_opened_at, l.whatsapp_clicked_at, l.whatsapp_replied_at, l.whatsapp_bounced_at, l.whatsapp_unsubscribed_at);
  UPDATE contacts c
     SET last_delivered_at = greatest(f.email_delivered_at, f.sms_delivered_at, f.whatsapp_delivered_at),
         last_engaged_at = greatest(f.email_opened_at, f.email_clicked_at, f.email_replied_at, f.sms_opened_at, f.sms_clicked_at,
                                    f.sms_replied_at, f.whatsapp_opened_at, f.whatsapp_clicked_at, f.whatsapp_replied_at)
    FROM contact_facts f
   WHERE f.id = ANY(ids) AND c.id = f.id
     AND (c.last_delivered_at IS DISTINCT FROM greatest(f.email_delivered_at, f.sms_delivered_at, f.whatsapp_delivered_at)
       OR c.last_engaged_at IS DISTINCT FROM greatest(f.email_opened_at, f.email_clicked_at, f.email_replied_at, f.sms_opened_at, f.sms_clicked_at,
                                                      f.sms_replied_at, f.whatsapp_opened_at, f.whatsapp_clicked_at, f.whatsapp_replied_at));
$$ LANGUAGE sql;

-- New contacts: their facts row and the organization's count. Statement-level, so an import of
-- many contacts costs two statements, not two per contact. Skipped in bulk loads (see rebuild).
CREATE OR REPLACE FUNCTION marketsage_contacts_inserted() RETURNS trigger AS $$
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  INSERT INTO contact_facts (id, organization_id, created_at, reach, status, has_email, has_phone, country, consent_email, consent_sms, consent_whatsapp, city)
  SELECT n.id, n.organization_id, n.created_at,
         marketsage_reach(n.status, n.email, n.phone, n.consent_email, n.consent_sms, n.consent_whatsapp),
         n.status, n.email IS NOT NULL, n.phone IS NOT NULL, n.country, n.consent_email, n.consent_sms, n.consent_whatsapp, n.city
    FROM new_contacts n
  ON CONFLICT (id) DO NOTHING;
  PERFORM marketsage_refresh_contact_latest(array(SELECT n.id FROM new_contacts n));
  INSERT INTO contact_tags (organization_id, tag, contact_id)
  SELECT n.organization_id, t.tag, n.id FROM new_contacts n CROSS JOIN LATERAL unnest(n.tags) AS t(tag) WHERE t.tag IS NOT NULL
  ON CONFLICT DO NOTHING;
  INSERT INTO contact_counts (organization_id, shard, n)
  SELECT n.organization_id, (pg_backend_pid() % 8)::smallint, count(*) FROM new_contacts n GROUP BY n.organization_id
  ON CONFLICT (organization_id, shard) DO UPDATE SET n = contact_counts.n + excluded.n;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_facts_insert AFTER INSERT ON contacts
  REFERENCING NEW TABLE AS new_contacts
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_contacts_inserted();

-- Deleted contacts leave the count (their facts rows go with them: foreign key, cascade). When
-- the organization itself is being deleted its counts go with it, so nothing is added back.
CREATE OR REPLACE FUNCTION marketsage_contacts_deleted() RETURNS trigger AS $$
BEGIN
  INSERT INTO contact_counts (organization_id, shard, n)
  SELECT o.organization_id, (pg_backend_pid() % 8)::smallint, -count(*) FROM old_contacts o
   WHERE EXISTS (SELECT 1 FROM organizations g WHERE g.id = o.organization_id)
   GROUP BY o.organization_id
  ON CONFLICT (organization_id, shard) DO UPDATE SET n = contact_counts.n + excluded.n;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_facts_delete AFTER DELETE ON contacts
  REFERENCING OLD TABLE AS old_contacts
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_contacts_deleted();

-- A contact's profile change reaches its facts row (row-level with a WHEN clause: the frequent
-- updates of last_delivered_at / last_engaged_at by the event trigger do not call it at all).
CREATE OR REPLACE FUNCTION marketsage_contact_updated() RETURNS trigger AS $$
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  UPDATE contact_facts f
     SET (id, organization_id, created_at, reach, status, has_email, has_phone, country, consent_email, consent_sms, consent_whatsapp, city) =
         (NEW.id, NEW.organization_id, NEW.created_at,
           marketsage_reach(NEW.status, NEW.email, NEW.phone, NEW.consent_email, NEW.consent_sms, NEW.consent_whatsapp),
           NEW.status, NEW.email IS NOT NULL, NEW.phone IS NOT NULL, NEW.country, NEW.consent_email, NEW.consent_sms, NEW.consent_whatsapp, NEW.city)
   WHERE f.id IN (OLD.id, NEW.id); -- a changed id may already have reached the row (ON UPDATE CASCADE)
  IF OLD.organization_id IS DISTINCT FROM NEW.organization_id THEN
    INSERT INTO contact_counts (organization_id, shard, n)
    VALUES (OLD.organization_id, (pg_backend_pid() % 8)::smallint, -1), (NEW.organization_id, (pg_backend_pid() % 8)::smallint, 1)
    ON CONFLICT (organization_id, shard) DO UPDATE SET n = contact_counts.n + excluded.n;
  END IF;
  IF OLD.organization_id IS DISTINCT FROM NEW.organization_id OR OLD.id IS DISTINCT FROM NEW.id THEN
    -- Latest events count only the contact's own organization's events under its own id.
    PERFORM marketsage_refresh_contact_latest(ARRAY[NEW.id]);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_facts_update AFTER UPDATE ON contacts
  FOR EACH ROW
  WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.organization_id IS DISTINCT FROM NEW.organization_id OR OLD.created_at IS DISTINCT FROM NEW.created_at
     OR OLD.status IS DISTINCT FROM NEW.status OR OLD.email IS DISTINCT FROM NEW.email OR OLD.phone IS DISTINCT FROM NEW.phone
     OR OLD.country IS DISTINCT FROM NEW.country OR OLD.city IS DISTINCT FROM NEW.city
     OR OLD.consent_email IS DISTINCT FROM NEW.consent_email OR OLD.consent_sms IS DISTINCT FROM NEW.consent_sms
     OR OLD.consent_whatsapp IS DISTINCT FROM NEW.consent_whatsapp)
  EXECUTE FUNCTION marketsage_contact_updated();

-- A contact's tags (or its organization, or id) changed: its tag rows are written anew.
CREATE OR REPLACE FUNCTION marketsage_contact_tags_updated() RETURNS trigger AS $$
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  DELETE FROM contact_tags WHERE contact_id IN (OLD.id, NEW.id);
  INSERT INTO contact_tags (organization_id, tag, contact_id)
  SELECT NEW.organization_id, t.tag, NEW.id FROM unnest(NEW.tags) AS t(tag) WHERE t.tag IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_tags_update AFTER UPDATE ON contacts
  FOR EACH ROW
  WHEN (OLD.tags IS DISTINCT FROM NEW.tags OR OLD.organization_id IS DISTINCT FROM NEW.organization_id OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION marketsage_contact_tags_updated();

-- New events move their contacts' latest-event columns forward (one UPDATE per statement).
CREATE OR REPLACE FUNCTION marketsage_events_inserted() RETURNS trigger AS $$
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  UPDATE contact_facts f
     SET (email_sent_at, email_delivered_at, email_failed_at, email_opened_at, email_clicked_at, email_replied_at, email_bounced_at, email_unsubscribed_at, sms_sent_at, sms_delivered_at, sms_failed_at, sms_opened_at, sms_clicked_at, sms_replied_at, sms_bounced_at, sms_unsubscribed_at, whatsapp_sent_at, whatsapp_delivered_at, whatsapp_failed_at, whatsapp_opened_at, whatsapp_clicked_at, whatsapp_replied_at, whatsapp_bounced_at, whatsapp_unsubscribed_at) =
         (greatest(f.email_sent_at, n.email_sent_at), greatest(f.email_delivered_at, n.email_delivered_at), greatest(f.email_failed_at, n.email_failed_at), greatest(f.email_opened_at, n.email_opened_at), greatest(f.email_clicked_at, n.email_clicked_at), greatest(f.email_replied_at, n.email_replied_at), greatest(f.email_bounced_at, n.email_bounced_at), greatest(f.email_unsubscribed_at, n.email_unsubscribed_at), greatest(f.sms_sent_at, n.sms_sent_at), greatest(f.sms_delivered_at, n.sms_delivered_at), greatest(f.sms_failed_at, n.sms_failed_at), greatest(f.sms_opened_at, n.sms_opened_at), greatest(f.sms_clicked_at, n.sms_clicked_at), greatest(f.sms_replied_at, n.sms_replied_at), greatest(f.sms_bounced_at, n.sms_bounced_at), greatest(f.sms_unsubscribed_at, n.sms_unsubscribed_at), greatest(f.whatsapp_sent_at, n.whatsapp_sent_at), greatest(f.whatsapp_delivered_at, n.whatsapp_delivered_at), greatest(f.whatsapp_failed_at, n.whatsapp_failed_at), greatest(f.whatsapp_opened_at, n.whatsapp_opened_at), greatest(f.whatsapp_clicked_at, n.whatsapp_clicked_at), greatest(f.whatsapp_replied_at, n.whatsapp_replied_at), greatest(f.whatsapp_bounced_at, n.whatsapp_bounced_at), greatest(f.whatsapp_unsubscribed_at, n.whatsapp_unsubscribed_at))
    FROM (SELECT e.contact_id, e.organization_id,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'SENT') AS email_sent_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'DELIVERED') AS email_delivered_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'FAILED') AS email_failed_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'OPENED') AS email_opened_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'CLICKED') AS email_clicked_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'REPLIED') AS email_replied_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'BOUNCED') AS email_bounced_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'UNSUBSCRIBED') AS email_unsubscribed_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'SENT') AS sms_sent_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'DELIVERED') AS sms_delivered_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'FAILED') AS sms_failed_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'OPENED') AS sms_opened_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'CLICKED') AS sms_clicked_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'REPLIED') AS sms_replied_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'BOUNCED') AS sms_bounced_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'UNSUBSCRIBED') AS sms_unsubscribed_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'SENT') AS whatsapp_sent_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'DELIVERED') AS whatsapp_delivered_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'FAILED') AS whatsapp_failed_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'OPENED') AS whatsapp_opened_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'CLICKED') AS whatsapp_clicked_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'REPLIED') AS whatsapp_replied_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'BOUNCED') AS whatsapp_bounced_at,
                 max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'UNSUBSCRIBED') AS whatsapp_unsubscribed_at
            FROM new_events e
           WHERE e.contact_id IS NOT NULL AND e.type <> 'QUEUED'
           GROUP BY e.contact_id, e.organization_id) n
   WHERE f.id = n.contact_id AND f.organization_id = n.organization_id;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_events_facts_insert AFTER INSERT ON message_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_events_inserted();

-- Events deleted or changed (rare: retention, identity merges): recompute those contacts.
CREATE OR REPLACE FUNCTION marketsage_events_changed() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM marketsage_refresh_contact_latest(array(SELECT DISTINCT o.contact_id FROM old_events o WHERE o.contact_id IS NOT NULL));
  ELSE
    PERFORM marketsage_refresh_contact_latest(array(
      SELECT o.contact_id FROM old_events o WHERE o.contact_id IS NOT NULL
      UNION SELECT n.contact_id FROM new_events n WHERE n.contact_id IS NOT NULL));
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_events_facts_update AFTER UPDATE ON message_events
  REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_events_changed();

CREATE TRIGGER message_events_facts_delete AFTER DELETE ON message_events
  REFERENCING OLD TABLE AS old_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_events_changed();

-- Recompute every facts row, tag row and count from contacts and events (after bulk loads that skip the
-- triggers; NULL: every organization).
CREATE OR REPLACE FUNCTION marketsage_rebuild_contact_facts(org uuid) RETURNS void AS $$
  DELETE FROM contact_facts WHERE org IS NULL OR organization_id = org;
  INSERT INTO contact_facts (id, organization_id, created_at, reach, status, has_email, has_phone, country, consent_email, consent_sms, consent_whatsapp, city,
         email_sent_at, email_delivered_at, email_failed_at, email_opened_at, email_clicked_at, email_replied_at, email_bounced_at, email_unsubscribed_at, sms_sent_at, sms_delivered_at, sms_failed_at, sms_opened_at, sms_clicked_at, sms_replied_at, sms_bounced_at, sms_unsubscribed_at, whatsapp_sent_at, whatsapp_delivered_at, whatsapp_failed_at, whatsapp_opened_at, whatsapp_clicked_at, whatsapp_replied_at, whatsapp_bounced_at, whatsapp_unsubscribed_at)
  SELECT c.id, c.organization_id, c.created_at,
         marketsage_reach(c.status, c.email, c.phone, c.consent_email, c.consent_sms, c.consent_whatsapp),
         c.status, c.email IS NOT NULL, c.phone IS NOT NULL, c.country, c.consent_email, c.consent_sms, c.consent_whatsapp, c.city,
         l.email_sent_at, l.email_delivered_at, l.email_failed_at, l.email_opened_at, l.email_clicked_at, l.email_replied_at, l.email_bounced_at, l.email_unsubscribed_at, l.sms_sent_at, l.sms_delivered_at, l.sms_failed_at, l.sms_opened_at, l.sms_clicked_at, l.sms_replied_at, l.sms_bounced_at, l.sms_unsubscribed_at, l.whatsapp_sent_at, l.whatsapp_delivered_at, l.whatsapp_failed_at, l.whatsapp_opened_at, l.whatsapp_clicked_at, l.whatsapp_replied_at, l.whatsapp_bounced_at, l.whatsapp_unsubscribed_at
    FROM contacts c
    LEFT JOIN (SELECT e.contact_id, e.organization_id,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'SENT') AS email_sent_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'DELIVERED') AS email_delivered_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'FAILED') AS email_failed_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'OPENED') AS email_opened_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'CLICKED') AS email_clicked_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'REPLIED') AS email_replied_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'BOUNCED') AS email_bounced_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'EMAIL' AND e.type = 'UNSUBSCRIBED') AS email_unsubscribed_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'SENT') AS sms_sent_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'DELIVERED') AS sms_delivered_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'FAILED') AS sms_failed_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'OPENED') AS sms_opened_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'CLICKED') AS sms_clicked_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'REPLIED') AS sms_replied_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'BOUNCED') AS sms_bounced_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'SMS' AND e.type = 'UNSUBSCRIBED') AS sms_unsubscribed_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'SENT') AS whatsapp_sent_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'DELIVERED') AS whatsapp_delivered_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'FAILED') AS whatsapp_failed_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'OPENED') AS whatsapp_opened_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'CLICKED') AS whatsapp_clicked_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'REPLIED') AS whatsapp_replied_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'BOUNCED') AS whatsapp_bounced_at,
                      max(e.occurred_at) FILTER (WHERE e.channel = 'WHATSAPP' AND e.type = 'UNSUBSCRIBED') AS whatsapp_unsubscribed_at
                 FROM message_events e
                WHERE e.contact_id IS NOT NULL AND e.type <> 'QUEUED' AND (org IS NULL OR e.organization_id = org)
                GROUP BY e.contact_id, e.organization_id) l ON l.contact_id = c.id AND l.organization_id = c.organization_id
   WHERE org IS NULL OR c.organization_id = org
   ORDER BY c.organization_id, c.created_at;
  DELETE FROM contact_tags WHERE org IS NULL OR organization_id = org;
  INSERT INTO contact_tags (organization_id, tag, contact_id)
  SELECT c.organization_id, t.tag, c.id FROM contacts c CROSS JOIN LATERAL unnest(c.tags) AS t(tag)
   WHERE t.tag IS NOT NULL AND (org IS NULL OR c.organization_id = org)
  ON CONFLICT DO NOTHING;
  DELETE FROM contact_counts WHERE org IS NULL OR organization_id = org;
  INSERT INTO contact_counts (organization_id, shard, n)
  SELECT c.organization_id, 0, count(*) FROM contacts c WHERE org IS NULL OR c.organization_id = org GROUP BY c.organization_id;
$$ LANGUAGE sql;

SELECT marketsage_rebuild_contact_facts(NULL);

-- contacts.last_delivered_at / last_engaged_at (migration engagement_state) count, like
-- contact_facts, only events of the contact's own organization.
CREATE OR REPLACE FUNCTION marketsage_apply_message_event() RETURNS trigger AS $$
BEGIN
  IF NEW.contact_id IS NULL THEN
    RETURN NULL;
  END IF;
  IF NEW.type = 'DELIVERED' THEN
    UPDATE contacts SET last_delivered_at = NEW.occurred_at
     WHERE id = NEW.contact_id AND organization_id = NEW.organization_id
       AND (last_delivered_at IS NULL OR last_delivered_at < NEW.occurred_at);
  ELSIF NEW.type IN ('OPENED', 'CLICKED', 'REPLIED') THEN
    UPDATE contacts SET last_engaged_at = NEW.occurred_at
     WHERE id = NEW.contact_id AND organization_id = NEW.organization_id
       AND (last_engaged_at IS NULL OR last_engaged_at < NEW.occurred_at);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION marketsage_rebuild_engagement_state(org uuid) RETURNS void AS $$
  WITH agg AS (
    SELECT contact_id, organization_id,
           max(occurred_at) FILTER (WHERE type = 'DELIVERED') AS d,
           max(occurred_at) FILTER (WHERE type IN ('OPENED', 'CLICKED', 'REPLIED')) AS g
      FROM message_events
     WHERE contact_id IS NOT NULL AND (org IS NULL OR organization_id = org)
       AND type IN ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED')
     GROUP BY contact_id, organization_id
  )
  UPDATE contacts c SET last_delivered_at = agg.d, last_engaged_at = agg.g
    FROM agg WHERE c.id = agg.contact_id AND c.organization_id = agg.organization_id
     AND (c.last_delivered_at IS DISTINCT FROM agg.d OR c.last_engaged_at IS DISTINCT FROM agg.g);
$$ LANGUAGE sql;
