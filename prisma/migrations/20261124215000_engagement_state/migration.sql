-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "last_delivered_at" TIMESTAMPTZ(3),
ADD COLUMN     "last_engaged_at" TIMESTAMPTZ(3);

-- Each contact's latest delivery and latest engagement (open, click, reply), kept equal to
-- max(occurred_at) over message_events by a trigger, so that "engaged in the last N days" over a
-- segment reads one row per member instead of aggregating millions of events.
CREATE OR REPLACE FUNCTION marketsage_apply_message_event() RETURNS trigger AS $$
BEGIN
  IF NEW.contact_id IS NULL THEN
    RETURN NULL;
  END IF;
  IF NEW.type = 'DELIVERED' THEN
    UPDATE contacts SET last_delivered_at = NEW.occurred_at
     WHERE id = NEW.contact_id AND (last_delivered_at IS NULL OR last_delivered_at < NEW.occurred_at);
  ELSIF NEW.type IN ('OPENED', 'CLICKED', 'REPLIED') THEN
    UPDATE contacts SET last_engaged_at = NEW.occurred_at
     WHERE id = NEW.contact_id AND (last_engaged_at IS NULL OR last_engaged_at < NEW.occurred_at);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_events_apply AFTER INSERT ON message_events
  FOR EACH ROW EXECUTE FUNCTION marketsage_apply_message_event();

-- Recompute from the history (after bulk loads that disable the trigger; NULL: every organization).
CREATE OR REPLACE FUNCTION marketsage_rebuild_engagement_state(org uuid) RETURNS void AS $$
  WITH agg AS (
    SELECT contact_id,
           max(occurred_at) FILTER (WHERE type = 'DELIVERED') AS d,
           max(occurred_at) FILTER (WHERE type IN ('OPENED', 'CLICKED', 'REPLIED')) AS g
      FROM message_events
     WHERE contact_id IS NOT NULL AND (org IS NULL OR organization_id = org)
       AND type IN ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED')
     GROUP BY contact_id
  )
  UPDATE contacts c SET last_delivered_at = agg.d, last_engaged_at = agg.g
    FROM agg WHERE c.id = agg.contact_id
     AND (c.last_delivered_at IS DISTINCT FROM agg.d OR c.last_engaged_at IS DISTINCT FROM agg.g);
$$ LANGUAGE sql;

SELECT marketsage_rebuild_engagement_state(NULL);
