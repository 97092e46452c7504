-- AlterTable
ALTER TABLE "contacts" ADD COLUMN     "consent_email" "ConsentAction",
ADD COLUMN     "consent_email_at" TIMESTAMPTZ(3),
ADD COLUMN     "consent_sms" "ConsentAction",
ADD COLUMN     "consent_sms_at" TIMESTAMPTZ(3),
ADD COLUMN     "consent_whatsapp" "ConsentAction",
ADD COLUMN     "consent_whatsapp_at" TIMESTAMPTZ(3);

-- Keep the current consent per channel equal to the latest consent event (by occurred_at, then id):
-- consent_events stays the append-only history, and these columns only make reachability cheap.
CREATE OR REPLACE FUNCTION marketsage_apply_consent_event() RETURNS trigger AS $$
BEGIN
  IF NEW.channel = 'EMAIL' THEN
    UPDATE contacts SET consent_email = NEW.action, consent_email_at = NEW.occurred_at
     WHERE id = NEW.contact_id AND (consent_email_at IS NULL OR consent_email_at <= NEW.occurred_at);
  ELSIF NEW.channel = 'SMS' THEN
    UPDATE contacts SET consent_sms = NEW.action, consent_sms_at = NEW.occurred_at
     WHERE id = NEW.contact_id AND (consent_sms_at IS NULL OR consent_sms_at <= NEW.occurred_at);
  ELSE
    UPDATE contacts SET consent_whatsapp = NEW.action, consent_whatsapp_at = NEW.occurred_at
     WHERE id = NEW.contact_id AND (consent_whatsapp_at IS NULL OR consent_whatsapp_at <= NEW.occurred_at);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER consent_events_apply AFTER INSERT ON consent_events
  FOR EACH ROW EXECUTE FUNCTION marketsage_apply_consent_event();

-- Recompute every contact's current consent from the history (also used after bulk loads that
-- disable the trigger: see packages/db/src/consent-state.ts).
CREATE OR REPLACE FUNCTION marketsage_rebuild_consent_state(org uuid) RETURNS void AS $$
  WITH latest AS (
    SELECT DISTINCT ON (contact_id, channel) contact_id, channel, action, occurred_at
      FROM consent_events WHERE org IS NULL OR organization_id = org
     ORDER BY contact_id, channel, occurred_at DESC, id DESC
  ), pivot AS (
    SELECT contact_id,
           max(action::text) FILTER (WHERE channel = 'EMAIL') AS e, max(occurred_at) FILTER (WHERE channel = 'EMAIL') AS e_at,
           max(action::text) FILTER (WHERE channel = 'SMS') AS s, max(occurred_at) FILTER (WHERE channel = 'SMS') AS s_at,
           max(action::text) FILTER (WHERE channel = 'WHATSAPP') AS w, max(occurred_at) FILTER (WHERE channel = 'WHATSAPP') AS w_at
      FROM latest GROUP BY contact_id
  )
  UPDATE contacts c SET consent_email = p.e::"ConsentAction", consent_email_at = p.e_at,
                        consent_sms = p.s::"ConsentAction", consent_sms_at = p.s_at,
                        consent_whatsapp = p.w::"ConsentAction", consent_whatsapp_at = p.w_at
    FROM pivot p WHERE c.id = p.contact_id;
$$ LANGUAGE sql;

SELECT marketsage_rebuild_consent_state(NULL);
