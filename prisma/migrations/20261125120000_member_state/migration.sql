-- Segment figures at 1M contacts (issue 3): each current member row carries what get_segment and
-- list_segments count: the contact's reachability per channel, sign-up time and latest delivery
-- and engagement. A segment's figures then read its own member rows (56k rows for the largest
-- demo list) instead of joining them to the 1M-row contacts table (hundreds of ms on two cores).
-- Kept by triggers: filled from the contact on insert, and updated whenever the contact's status,
-- addresses, consent or latest events change (consent and message events reach contacts through
-- their own triggers, so they arrive here too). Bulk loads set marketsage.bulk_load = 'on' to skip
-- the row triggers and then call marketsage_rebuild_member_state.
ALTER TABLE "segment_members" ADD COLUMN "contact_created_at" TIMESTAMPTZ(3),
ADD COLUMN "reach" SMALLINT NOT NULL DEFAULT 0,
ADD COLUMN "last_delivered_at" TIMESTAMPTZ(3),
ADD COLUMN "last_engaged_at" TIMESTAMPTZ(3);

-- Reachable now, as bits: 1 email, 2 SMS, 4 WhatsApp (address present, ACTIVE, subscribed).
CREATE OR REPLACE FUNCTION marketsage_reach(status "ContactStatus", email text, phone text,
    consent_email "ConsentAction", consent_sms "ConsentAction", consent_whatsapp "ConsentAction") RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN status = 'ACTIVE' THEN
    (CASE WHEN email IS NOT NULL AND consent_email = 'SUBSCRIBED' THEN 1 ELSE 0 END
   + CASE WHEN phone IS NOT NULL AND consent_sms = 'SUBSCRIBED' THEN 2 ELSE 0 END
   + CASE WHEN phone IS NOT NULL AND consent_whatsapp = 'SUBSCRIBED' THEN 4 ELSE 0 END)::smallint
  ELSE 0::smallint END
$$;

CREATE OR REPLACE FUNCTION marketsage_fill_member_state() RETURNS trigger AS $$
BEGIN
  -- Skipped in bulk loads, and when the insert brings the state itself (rule evaluation does).
  IF current_setting('marketsage.bulk_load', true) = 'on' OR (TG_OP = 'INSERT' AND NEW.contact_created_at IS NOT NULL) THEN
    RETURN NEW;
  END IF;
  SELECT c.created_at, marketsage_reach(c.status, c.email, c.phone, c.consent_email, c.consent_sms, c.consent_whatsapp),
         c.last_delivered_at, c.last_engaged_at
    INTO NEW.contact_created_at, NEW.reach, NEW.last_delivered_at, NEW.last_engaged_at
    FROM contacts c WHERE c.id = NEW.contact_id;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER segment_members_fill BEFORE INSERT OR UPDATE OF contact_id ON segment_members
  FOR EACH ROW EXECUTE FUNCTION marketsage_fill_member_state();

CREATE OR REPLACE FUNCTION marketsage_apply_contact_to_members() RETURNS trigger AS $$
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  UPDATE segment_members m
     SET contact_created_at = NEW.created_at,
         reach = marketsage_reach(NEW.status, NEW.email, NEW.phone, NEW.consent_email, NEW.consent_sms, NEW.consent_whatsapp),
         last_delivered_at = NEW.last_delivered_at, last_engaged_at = NEW.last_engaged_at
   WHERE m.contact_id = NEW.id;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER contacts_apply_to_members AFTER UPDATE ON contacts
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.email IS DISTINCT FROM NEW.email OR OLD.phone IS DISTINCT FROM NEW.phone
     OR OLD.consent_email IS DISTINCT FROM NEW.consent_email OR OLD.consent_sms IS DISTINCT FROM NEW.consent_sms
     OR OLD.consent_whatsapp IS DISTINCT FROM NEW.consent_whatsapp OR OLD.created_at IS DISTINCT FROM NEW.created_at
     OR OLD.last_delivered_at IS DISTINCT FROM NEW.last_delivered_at OR OLD.last_engaged_at IS DISTINCT FROM NEW.last_engaged_at)
  EXECUTE FUNCTION marketsage_apply_contact_to_members();

-- Recompute every member row from its contact (NULL: every organization).
CREATE OR REPLACE FUNCTION marketsage_rebuild_member_state(org uuid) RETURNS void AS $$
  UPDATE segment_members m
     SET contact_created_at = c.created_at,
         reach = marketsage_reach(c.status, c.email, c.phone, c.consent_email, c.consent_sms, c.consent_whatsapp),
         last_delivered_at = c.last_delivered_at, last_engaged_at = c.last_engaged_at
    FROM contacts c
   WHERE c.id = m.contact_id AND (org IS NULL OR m.organization_id = org)
     AND (m.contact_created_at IS DISTINCT FROM c.created_at
       OR m.reach IS DISTINCT FROM marketsage_reach(c.status, c.email, c.phone, c.consent_email, c.consent_sms, c.consent_whatsapp)
       OR m.last_delivered_at IS DISTINCT FROM c.last_delivered_at OR m.last_engaged_at IS DISTINCT FROM c.last_engaged_at);
$$ LANGUAGE sql;

SELECT marketsage_rebuild_member_state(NULL);

-- Member rows are rewritten in place when their contact changes: room on each page for heap-only
-- updates (none of the state columns is indexed, so no index is touched).
ALTER TABLE "segment_members" SET (fillfactor = 80);
