-- campaign-analytics at bench scale (issue 10: a page of list_campaigns p95 <= 100 ms, the
-- organization's 90-day trends and channel overview <= 500 ms). Counting a campaign's unique
-- messages per kind of event reads ~15 event rows per message: a page of 20 campaigns read 300k
-- rows (250 ms). campaign_stats keeps, per campaign and variant, how many messages have each kind
-- of event (metrics/definitions.ts: a message counts once however many events of a kind it has,
-- and an event counts for what it proves, see marketsage_event_flags); campaign_costs keeps the messages' count and
-- their cost per currency and UTC day (FX is applied when read, at the rate of the day). Both are
-- kept by statement-level triggers on message_events and messages, in the writing transaction,
-- and sharded by backend so concurrent writers of one campaign do not queue on one row. Readers
-- sum the shards. Not supported: one statement that both deletes and re-inserts an event of the
-- same kind on one message (a writable CTE: both statement triggers fire at the query's end and
-- each sees the other's row), and REPEATABLE READ writers (refused). variant_key is the variant id,
-- or the zero uuid for messages outside any variant.

-- CreateTable
CREATE TABLE "campaign_stats" (
    "campaign_id" UUID NOT NULL,
    "variant_key" UUID NOT NULL,
    "shard" SMALLINT NOT NULL,
    "organization_id" UUID NOT NULL,
    "sent" INTEGER NOT NULL DEFAULT 0,
    "delivered" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "bounced" INTEGER NOT NULL DEFAULT 0,
    "opened" INTEGER NOT NULL DEFAULT 0,
    "clicked" INTEGER NOT NULL DEFAULT 0,
    "replied" INTEGER NOT NULL DEFAULT 0,
    "unsubscribed" INTEGER NOT NULL DEFAULT 0,
    "engaged" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_stats_pkey" PRIMARY KEY ("campaign_id","variant_key","shard")
);

-- CreateTable
CREATE TABLE "campaign_costs" (
    "campaign_id" UUID NOT NULL,
    "variant_key" UUID NOT NULL,
    "currency" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "shard" SMALLINT NOT NULL,
    "organization_id" UUID NOT NULL,
    "messages" INTEGER NOT NULL DEFAULT 0,
    "amount" DECIMAL(18,4) NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_costs_pkey" PRIMARY KEY ("campaign_id","variant_key","currency","day","shard")
);

-- Attribution of conversions (the contact's latest message of the campaign at most the window
-- before): 30k conversions over 90 days took 650 ms through messages_contact_id_created_at_idx and
-- the heap, 160 ms from this index alone. It also serves every lookup by campaign.
DROP INDEX "messages_campaign_id_idx";
CREATE INDEX "messages_campaign_contact_idx" ON "messages"("campaign_id", "contact_id", "created_at", "variant_id", "direction", "organization_id");

-- The flags an event gives its message (metrics/definitions.ts): its own type and what it proves.
-- Any type but QUEUED and FAILED means the provider accepted it (SENT); an open, click, reply or
-- unsubscribe proves delivery (DELIVERED); a click proves the message was opened (OPENED) — so no
-- rate's numerator can exceed its denominator when a receipt is lost. ENGAGED: opened, clicked or
-- replied (the channel overview's engagement). QUEUED gives none (messages are counted from messages).
CREATE OR REPLACE FUNCTION marketsage_event_flags(t "MessageEventType") RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE t
    WHEN 'QUEUED' THEN ARRAY[]::text[]
    WHEN 'FAILED' THEN ARRAY['FAILED']
    WHEN 'SENT' THEN ARRAY['SENT']
    WHEN 'BOUNCED' THEN ARRAY['SENT', 'BOUNCED']
    WHEN 'DELIVERED' THEN ARRAY['SENT', 'DELIVERED']
    WHEN 'OPENED' THEN ARRAY['SENT', 'DELIVERED', 'OPENED', 'ENGAGED']
    WHEN 'CLICKED' THEN ARRAY['SENT', 'DELIVERED', 'OPENED', 'CLICKED', 'ENGAGED']
    WHEN 'REPLIED' THEN ARRAY['SENT', 'DELIVERED', 'REPLIED', 'ENGAGED']
    WHEN 'UNSUBSCRIBED' THEN ARRAY['SENT', 'DELIVERED', 'UNSUBSCRIBED'] END
$$;

-- Does the message have an event giving this flag (in this campaign and variant)?
-- The message's events come from the message_id index alone (OFFSET 0 keeps the planner from
-- combining it with the campaign index, which without statistics scanned the campaign's history).
CREATE OR REPLACE FUNCTION marketsage_event_flag_count(msg uuid, camp uuid, vkey uuid, flag text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT count(*) FROM (SELECT e.campaign_id, e.variant_id, e.type FROM message_events e WHERE e.message_id = msg OFFSET 0) e
   WHERE e.campaign_id = camp AND coalesce(e.variant_id, '00000000-0000-0000-0000-000000000000') = vkey
     AND flag = ANY (marketsage_event_flags(e.type))
$$;

-- Adds signed (campaign, variant, flag) deltas given as rows of a json array.
CREATE OR REPLACE FUNCTION marketsage_apply_campaign_stats(deltas jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO campaign_stats (campaign_id, variant_key, shard, organization_id, sent, delivered, failed, bounced, opened, clicked, replied, unsubscribed, engaged)
  SELECT (d->>'c')::uuid, (d->>'v')::uuid, (pg_backend_pid() % 16)::smallint, (d->>'o')::uuid,
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'SENT'), 0), coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'DELIVERED'), 0),
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'FAILED'), 0), coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'BOUNCED'), 0),
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'OPENED'), 0), coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'CLICKED'), 0),
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'REPLIED'), 0), coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'UNSUBSCRIBED'), 0),
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'ENGAGED'), 0)
    FROM jsonb_array_elements(deltas) d
   GROUP BY 1, 2, 4
  ON CONFLICT (campaign_id, variant_key, shard) DO UPDATE SET
    sent = campaign_stats.sent + excluded.sent, delivered = campaign_stats.delivered + excluded.delivered,
    failed = campaign_stats.failed + excluded.failed, bounced = campaign_stats.bounced + excluded.bounced,
    opened = campaign_stats.opened + excluded.opened, clicked = campaign_stats.clicked + excluded.clicked,
    replied = campaign_stats.replied + excluded.replied, unsubscribed = campaign_stats.unsubscribed + excluded.unsubscribed,
    engaged = campaign_stats.engaged + excluded.engaged
$$;

-- Events inserted, updated or deleted: a (message, flag) pair counts +1 when the statement made it
-- appear and −1 when it made it disappear. Skipped in bulk loads (the seed rebuilds afterwards).
CREATE OR REPLACE FUNCTION marketsage_campaign_events_changed() RETURNS trigger AS $$
DECLARE
  deltas jsonb;
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  -- The counts below must see what other writers committed while this one waited for its lock:
  -- a REPEATABLE READ snapshot would not (SERIALIZABLE is safe: it fails with 40001 instead).
  IF current_setting('transaction_isolation') = 'repeatable read' THEN
    RAISE EXCEPTION 'message_events cannot be written in a REPEATABLE READ transaction (campaign_stats would count a message twice): use READ COMMITTED or SERIALIZABLE'
      USING ERRCODE = 'feature_not_supported';
  END IF;
  -- Writers of the same message take turns (a lock per message, in one order): two transactions
  -- adding the same kind of event to one message concurrently would each see only their own row.
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_advisory_xact_lock(7301, h) FROM (SELECT DISTINCT hashtext(e.message_id::text) h FROM new_events e WHERE e.campaign_id IS NOT NULL ORDER BY 1) l;
    WITH n AS (
      SELECT e.organization_id o, e.campaign_id c, coalesce(e.variant_id, '00000000-0000-0000-0000-000000000000') v, e.message_id m, f, count(*) k
        FROM new_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f
       WHERE e.campaign_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5)
    SELECT jsonb_agg(jsonb_build_object('o', o, 'c', c, 'v', v, 'f', f, 'n', 1)) INTO deltas
      FROM n WHERE marketsage_event_flag_count(m, c, v, f) = k;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_advisory_xact_lock(7301, h) FROM (SELECT DISTINCT hashtext(e.message_id::text) h FROM old_events e WHERE e.campaign_id IS NOT NULL ORDER BY 1) l;
    WITH g AS (
      SELECT DISTINCT e.organization_id o, e.campaign_id c, coalesce(e.variant_id, '00000000-0000-0000-0000-000000000000') v, e.message_id m, f
        FROM old_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f WHERE e.campaign_id IS NOT NULL)
    SELECT jsonb_agg(jsonb_build_object('o', o, 'c', c, 'v', v, 'f', f, 'n', -1)) INTO deltas
      FROM g WHERE marketsage_event_flag_count(m, c, v, f) = 0;
  ELSE
    PERFORM pg_advisory_xact_lock(7301, h) FROM (
      SELECT hashtext(e.message_id::text) h FROM old_events e WHERE e.campaign_id IS NOT NULL
      UNION SELECT hashtext(e.message_id::text) FROM new_events e WHERE e.campaign_id IS NOT NULL ORDER BY 1) l;
    WITH old_pairs AS (
      SELECT DISTINCT e.organization_id o, e.campaign_id c, coalesce(e.variant_id, '00000000-0000-0000-0000-000000000000') v, e.message_id m, f
        FROM old_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f WHERE e.campaign_id IS NOT NULL),
    new_pairs AS (
      SELECT e.organization_id o, e.campaign_id c, coalesce(e.variant_id, '00000000-0000-0000-0000-000000000000') v, e.message_id m, f, count(*) k
        FROM new_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f WHERE e.campaign_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5),
    d AS (
      -- Gone: the pair was on an updated row and no row has it now.
      SELECT o, c, v, f, -1 n FROM old_pairs p WHERE marketsage_event_flag_count(p.m, p.c, p.v, p.f) = 0
      UNION ALL
      -- New: only updated rows have it now, and none of them had it before.
      SELECT o, c, v, f, 1 FROM new_pairs p
       WHERE marketsage_event_flag_count(p.m, p.c, p.v, p.f) = p.k
         AND NOT EXISTS (SELECT 1 FROM old_pairs q WHERE q.m = p.m AND q.c = p.c AND q.v = p.v AND q.f = p.f))
    SELECT jsonb_agg(jsonb_build_object('o', o, 'c', c, 'v', v, 'f', f, 'n', n)) INTO deltas FROM d;
  END IF;
  IF deltas IS NOT NULL THEN
    PERFORM marketsage_apply_campaign_stats(deltas);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_events_campaign_stats_insert AFTER INSERT ON message_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_campaign_events_changed();

CREATE TRIGGER message_events_campaign_stats_update AFTER UPDATE ON message_events
  REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_campaign_events_changed();

CREATE TRIGGER message_events_campaign_stats_delete AFTER DELETE ON message_events
  REFERENCING OLD TABLE AS old_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_campaign_events_changed();

-- Messages inserted, updated or deleted: outbound campaign messages leave their old (campaign,
-- variant, currency, day) and join their new one. An update that changes none of those columns
-- (status, provider id: the usual ones) writes nothing.
CREATE OR REPLACE FUNCTION marketsage_apply_campaign_costs(deltas jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO campaign_costs (campaign_id, variant_key, currency, day, shard, organization_id, messages, amount)
  SELECT (d->>'c')::uuid, coalesce((d->>'v')::uuid, '00000000-0000-0000-0000-000000000000'),
         CASE WHEN d->>'amt' IS NULL THEN '' ELSE coalesce(trim(d->>'cur'), '') END,
         ((d->>'t')::timestamptz AT TIME ZONE 'UTC')::date, (pg_backend_pid() % 16)::smallint, (d->>'o')::uuid,
         sum((d->>'n')::int), coalesce(sum((d->>'n')::int * (d->>'amt')::numeric), 0)
    FROM jsonb_array_elements(deltas) d GROUP BY 1, 2, 3, 4, 6
  ON CONFLICT (campaign_id, variant_key, currency, day, shard) DO UPDATE SET
    messages = campaign_costs.messages + excluded.messages, amount = campaign_costs.amount + excluded.amount
$$;

CREATE OR REPLACE FUNCTION marketsage_campaign_messages_changed() RETURNS trigger AS $$
DECLARE
  deltas jsonb;
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT jsonb_agg(jsonb_build_object('o', y.organization_id, 'c', y.campaign_id, 'v', y.variant_id, 'cur', y.currency, 'amt', y.cost, 't', y.created_at, 'n', 1)) INTO deltas
      FROM new_messages y WHERE y.campaign_id IS NOT NULL AND y.direction = 'OUTBOUND';
  ELSIF TG_OP = 'DELETE' THEN
    SELECT jsonb_agg(jsonb_build_object('o', x.organization_id, 'c', x.campaign_id, 'v', x.variant_id, 'cur', x.currency, 'amt', x.cost, 't', x.created_at, 'n', -1)) INTO deltas
      FROM old_messages x WHERE x.campaign_id IS NOT NULL AND x.direction = 'OUTBOUND';
  ELSE
    WITH same AS (
      SELECT x.id FROM old_messages x JOIN new_messages y ON y.id = x.id
       WHERE (y.organization_id, y.campaign_id, y.variant_id, y.direction, y.cost, y.currency, y.created_at)
             IS NOT DISTINCT FROM (x.organization_id, x.campaign_id, x.variant_id, x.direction, x.cost, x.currency, x.created_at)),
    d AS (
      SELECT x.organization_id, x.campaign_id, x.variant_id, x.currency, x.cost, x.created_at, -1 AS n FROM old_messages x
       WHERE x.campaign_id IS NOT NULL AND x.direction = 'OUTBOUND' AND x.id NOT IN (SELECT id FROM same)
      UNION ALL
      SELECT y.organization_id, y.campaign_id, y.variant_id, y.currency, y.cost, y.created_at, 1 FROM new_messages y
       WHERE y.campaign_id IS NOT NULL AND y.direction = 'OUTBOUND' AND y.id NOT IN (SELECT id FROM same))
    SELECT jsonb_agg(jsonb_build_object('o', organization_id, 'c', campaign_id, 'v', variant_id, 'cur', currency, 'amt', cost, 't', created_at, 'n', n)) INTO deltas FROM d;
  END IF;
  IF deltas IS NOT NULL THEN
    PERFORM marketsage_apply_campaign_costs(deltas);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER messages_campaign_costs_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_messages
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_campaign_messages_changed();

CREATE TRIGGER messages_campaign_costs_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_messages NEW TABLE AS new_messages
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_campaign_messages_changed();

CREATE TRIGGER messages_campaign_costs_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_messages
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_campaign_messages_changed();

-- Recompute both tables from messages and message_events (after bulk loads that skip the
-- triggers; NULL: every organization).
CREATE OR REPLACE FUNCTION marketsage_rebuild_campaign_stats(org uuid) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM campaign_stats WHERE org IS NULL OR organization_id = org;
  DELETE FROM campaign_costs WHERE org IS NULL OR organization_id = org;
  INSERT INTO campaign_stats (campaign_id, variant_key, shard, organization_id, sent, delivered, failed, bounced, opened, clicked, replied, unsubscribed, engaged)
  SELECT c, v, 0, o, count(*) FILTER (WHERE s), count(*) FILTER (WHERE dl), count(*) FILTER (WHERE fl), count(*) FILTER (WHERE b),
         count(*) FILTER (WHERE op), count(*) FILTER (WHERE cl), count(*) FILTER (WHERE r), count(*) FILTER (WHERE u), count(*) FILTER (WHERE op OR r)
    FROM (SELECT e.campaign_id c, coalesce(e.variant_id, '00000000-0000-0000-0000-000000000000') v, e.organization_id o,
                 bool_or(e.type NOT IN ('QUEUED', 'FAILED')) s, bool_or(e.type IN ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED')) dl,
                 bool_or(e.type = 'FAILED') fl, bool_or(e.type = 'BOUNCED') b, bool_or(e.type IN ('OPENED', 'CLICKED')) op, bool_or(e.type = 'CLICKED') cl,
                 bool_or(e.type = 'REPLIED') r, bool_or(e.type = 'UNSUBSCRIBED') u
            FROM message_events e
           WHERE e.campaign_id IS NOT NULL AND (org IS NULL OR e.organization_id = org)
           GROUP BY e.campaign_id, e.variant_id, e.organization_id, e.message_id) m
   GROUP BY c, v, o;
  INSERT INTO campaign_costs (campaign_id, variant_key, currency, day, shard, organization_id, messages, amount)
  SELECT campaign_id, coalesce(variant_id, '00000000-0000-0000-0000-000000000000'), CASE WHEN cost IS NULL THEN '' ELSE coalesce(trim(currency), '') END,
         (created_at AT TIME ZONE 'UTC')::date, 0, organization_id, count(*), coalesce(sum(cost), 0)
    FROM messages
   WHERE campaign_id IS NOT NULL AND direction = 'OUTBOUND' AND (org IS NULL OR organization_id = org)
   GROUP BY 1, 2, 3, 4, 6;
$$;
