-- monitoring at bench scale (issue 14: get_kpi_dashboard over 30 days p95 <= 1 s). Its message
-- figures read every outbound message created in the range and its events: 2.7M messages and
-- ~6M events for 60 days of the largest bench organization, ~9 s. message_kpi_slots keeps, per
-- organization, 15-minute slot of creation (UTC-aligned: every zone's offset is a multiple of 15
-- minutes, so a local midnight is a slot boundary), channel and currency, how many outbound
-- messages have each flag (marketsage_event_flags: SENT, DELIVERED, OPENED, CLICKED, whatever the
-- campaign) and their cost. The KPI read sums whole slots and reads the messages of the partial
-- slots at a range's ends directly.
--
-- Kept by statement-level triggers in the writing transaction, sharded by backend (16) so
-- concurrent writers do not queue on one row. Flags come from message_events (a (message, flag)
-- pair counts once, when the first event giving it appears, and goes when the last goes); the
-- cost comes from messages. Writers of one message take turns on a per-message advisory lock
-- (class 7303, taken in one order; campaign_stats' trigger, which fires after this one — triggers
-- of one event fire in name order — takes its own class 7301 the same way). Not supported (as for campaign_stats):
-- one statement deleting a message and its events together (the events' flags would stay), and
-- REPEATABLE READ writers (refused). Skipped in bulk loads; marketsage_rebuild_message_kpis
-- recomputes an organization's rows.

-- CreateTable
CREATE TABLE "message_kpi_slots" (
    "organization_id" UUID NOT NULL,
    "slot" TIMESTAMPTZ(3) NOT NULL,
    "channel" "Channel" NOT NULL,
    "currency" TEXT NOT NULL,
    "shard" SMALLINT NOT NULL,
    "sent" INTEGER NOT NULL DEFAULT 0,
    "delivered" INTEGER NOT NULL DEFAULT 0,
    "opened" INTEGER NOT NULL DEFAULT 0,
    "clicked" INTEGER NOT NULL DEFAULT 0,
    "costed" INTEGER NOT NULL DEFAULT 0,
    "cost" DECIMAL(18,4) NOT NULL DEFAULT 0,

    CONSTRAINT "message_kpi_slots_pkey" PRIMARY KEY ("organization_id","slot","channel","currency","shard")
);

-- The slot of an instant.
CREATE OR REPLACE FUNCTION marketsage_kpi_slot(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT date_bin('15 minutes', t, timestamptz '2000-01-01 00:00:00+00') $$;

-- The KPI flags a message's events give it now.
CREATE OR REPLACE FUNCTION marketsage_message_kpi_flags(msg uuid) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT f FROM (SELECT e.type FROM message_events e WHERE e.message_id = msg OFFSET 0) e
   CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f WHERE f IN ('SENT', 'DELIVERED', 'OPENED', 'CLICKED')
$$;

-- How many of the message's events give this flag.
CREATE OR REPLACE FUNCTION marketsage_message_kpi_flag_count(msg uuid, flag text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT count(*) FROM (SELECT e.type FROM message_events e WHERE e.message_id = msg OFFSET 0) e WHERE flag = ANY (marketsage_event_flags(e.type))
$$;

-- Adds signed deltas given as json rows {o: organization, t: created_at, ch: channel, cur: currency,
-- f: SENT | DELIVERED | OPENED | CLICKED | COST, n: ±1, amt: cost (COST rows)}.
CREATE OR REPLACE FUNCTION marketsage_apply_message_kpis(deltas jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO message_kpi_slots (organization_id, slot, channel, currency, shard, sent, delivered, opened, clicked, costed, cost)
  SELECT (d->>'o')::uuid, marketsage_kpi_slot((d->>'t')::timestamptz), (d->>'ch')::"Channel", coalesce(trim(d->>'cur'), ''), (pg_backend_pid() % 16)::smallint,
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'SENT'), 0), coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'DELIVERED'), 0),
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'OPENED'), 0), coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'CLICKED'), 0),
         coalesce(sum((d->>'n')::int) FILTER (WHERE d->>'f' = 'COST'), 0), coalesce(sum((d->>'n')::int * (d->>'amt')::numeric) FILTER (WHERE d->>'f' = 'COST'), 0)
    FROM jsonb_array_elements(deltas) d
   GROUP BY 1, 2, 3, 4
  ON CONFLICT (organization_id, slot, channel, currency, shard) DO UPDATE SET
    sent = message_kpi_slots.sent + excluded.sent, delivered = message_kpi_slots.delivered + excluded.delivered,
    opened = message_kpi_slots.opened + excluded.opened, clicked = message_kpi_slots.clicked + excluded.clicked,
    costed = message_kpi_slots.costed + excluded.costed, cost = message_kpi_slots.cost + excluded.cost
$$;

-- Events inserted, updated or deleted: a (message, flag) pair counts +1 when the statement made it
-- appear and −1 when it made it disappear, under the message's slot, channel and currency.
CREATE OR REPLACE FUNCTION marketsage_kpi_events_changed() RETURNS trigger AS $$
DECLARE
  deltas jsonb;
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF current_setting('transaction_isolation') = 'repeatable read' THEN
    RAISE EXCEPTION 'message_events cannot be written in a REPEATABLE READ transaction (message_kpi_slots would count a message twice): use READ COMMITTED or SERIALIZABLE'
      USING ERRCODE = 'feature_not_supported';
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_advisory_xact_lock(7303, h) FROM (SELECT DISTINCT hashtext(e.message_id::text) h FROM new_events e ORDER BY 1) l;
    WITH n AS (
      SELECT e.message_id m, f, count(*) k
        FROM new_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f
       WHERE f IN ('SENT', 'DELIVERED', 'OPENED', 'CLICKED') GROUP BY 1, 2)
    SELECT jsonb_agg(jsonb_build_object('o', x.organization_id, 't', x.created_at, 'ch', x.channel, 'cur', x.currency, 'f', n.f, 'n', 1)) INTO deltas
      FROM n JOIN messages x ON x.id = n.m AND x.direction = 'OUTBOUND'
     WHERE marketsage_message_kpi_flag_count(n.m, n.f) = n.k;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_advisory_xact_lock(7303, h) FROM (SELECT DISTINCT hashtext(e.message_id::text) h FROM old_events e ORDER BY 1) l;
    WITH g AS (
      SELECT DISTINCT e.message_id m, f
        FROM old_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f WHERE f IN ('SENT', 'DELIVERED', 'OPENED', 'CLICKED'))
    SELECT jsonb_agg(jsonb_build_object('o', x.organization_id, 't', x.created_at, 'ch', x.channel, 'cur', x.currency, 'f', g.f, 'n', -1)) INTO deltas
      FROM g JOIN messages x ON x.id = g.m AND x.direction = 'OUTBOUND'
     WHERE marketsage_message_kpi_flag_count(g.m, g.f) = 0;
  ELSE
    PERFORM pg_advisory_xact_lock(7303, h) FROM (
      SELECT hashtext(e.message_id::text) h FROM old_events e UNION SELECT hashtext(e.message_id::text) FROM new_events e ORDER BY 1) l;
    WITH old_pairs AS (
      SELECT DISTINCT e.message_id m, f FROM old_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f WHERE f IN ('SENT', 'DELIVERED', 'OPENED', 'CLICKED')),
    new_pairs AS (
      SELECT e.message_id m, f, count(*) k FROM new_events e CROSS JOIN LATERAL unnest(marketsage_event_flags(e.type)) f
       WHERE f IN ('SENT', 'DELIVERED', 'OPENED', 'CLICKED') GROUP BY 1, 2),
    d AS (
      -- Gone: the pair was on an updated row and no row has it now.
      SELECT m, f, -1 n FROM old_pairs p WHERE marketsage_message_kpi_flag_count(p.m, p.f) = 0
      UNION ALL
      -- New: only updated rows have it now, and none of them had it before.
      SELECT m, f, 1 FROM new_pairs p
       WHERE marketsage_message_kpi_flag_count(p.m, p.f) = p.k AND NOT EXISTS (SELECT 1 FROM old_pairs q WHERE q.m = p.m AND q.f = p.f))
    SELECT jsonb_agg(jsonb_build_object('o', x.organization_id, 't', x.created_at, 'ch', x.channel, 'cur', x.currency, 'f', d.f, 'n', d.n)) INTO deltas
      FROM d JOIN messages x ON x.id = d.m AND x.direction = 'OUTBOUND';
  END IF;
  IF deltas IS NOT NULL THEN
    PERFORM marketsage_apply_message_kpis(deltas);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_events_all_messages_kpis_insert AFTER INSERT ON message_events
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_kpi_events_changed();

CREATE TRIGGER message_events_all_messages_kpis_update AFTER UPDATE ON message_events
  REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_kpi_events_changed();

CREATE TRIGGER message_events_all_messages_kpis_delete AFTER DELETE ON message_events
  REFERENCING OLD TABLE AS old_events
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_kpi_events_changed();

-- Messages inserted, updated or deleted. An insert adds its cost (its flags come with its events,
-- whose trigger finds the message even when one statement wrote both). A delete takes out its cost
-- and the flags its remaining events give it. An update that moves a message to another slot,
-- channel, currency, direction or organization moves its flags and cost; one that changes only
-- the cost moves the cost; the usual updates (status, provider id) write nothing.
CREATE OR REPLACE FUNCTION marketsage_kpi_messages_changed() RETURNS trigger AS $$
DECLARE
  deltas jsonb;
BEGIN
  IF current_setting('marketsage.bulk_load', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    SELECT jsonb_agg(jsonb_build_object('o', y.organization_id, 't', y.created_at, 'ch', y.channel, 'cur', y.currency, 'f', 'COST', 'n', 1, 'amt', y.cost)) INTO deltas
      FROM new_messages y WHERE y.direction = 'OUTBOUND' AND y.cost IS NOT NULL;
  ELSIF TG_OP = 'DELETE' THEN
    WITH d AS (
      SELECT x.organization_id o, x.created_at t, x.channel ch, x.currency cur, 'COST' f, x.cost amt FROM old_messages x WHERE x.direction = 'OUTBOUND' AND x.cost IS NOT NULL
      UNION ALL
      SELECT x.organization_id, x.created_at, x.channel, x.currency, f, NULL FROM old_messages x CROSS JOIN LATERAL marketsage_message_kpi_flags(x.id) f WHERE x.direction = 'OUTBOUND')
    SELECT jsonb_agg(jsonb_build_object('o', o, 't', t, 'ch', ch, 'cur', cur, 'f', f, 'n', -1, 'amt', amt)) INTO deltas FROM d;
  ELSE
    WITH ch AS (
      SELECT x.id, x.organization_id xo, x.direction xd, x.channel xc, x.created_at xt, x.currency xcur, x.cost xcost,
             y.organization_id yo, y.direction yd, y.channel yc, y.created_at yt, y.currency ycur, y.cost ycost,
             (x.organization_id, x.direction, x.channel, marketsage_kpi_slot(x.created_at), coalesce(trim(x.currency), ''))
               IS DISTINCT FROM (y.organization_id, y.direction, y.channel, marketsage_kpi_slot(y.created_at), coalesce(trim(y.currency), '')) AS moved
        FROM old_messages x JOIN new_messages y ON y.id = x.id
       WHERE (x.organization_id, x.direction, x.channel, x.created_at, x.currency, x.cost) IS DISTINCT FROM (y.organization_id, y.direction, y.channel, y.created_at, y.currency, y.cost)),
    d AS (
      SELECT xo o, xt t, xc c, xcur cur, 'COST' f, -1 n, xcost amt FROM ch WHERE xd = 'OUTBOUND' AND xcost IS NOT NULL
      UNION ALL SELECT yo, yt, yc, ycur, 'COST', 1, ycost FROM ch WHERE yd = 'OUTBOUND' AND ycost IS NOT NULL
      UNION ALL SELECT xo, xt, xc, xcur, f, -1, NULL FROM ch CROSS JOIN LATERAL marketsage_message_kpi_flags(ch.id) f WHERE moved AND xd = 'OUTBOUND'
      UNION ALL SELECT yo, yt, yc, ycur, f, 1, NULL FROM ch CROSS JOIN LATERAL marketsage_message_kpi_flags(ch.id) f WHERE moved AND yd = 'OUTBOUND')
    SELECT jsonb_agg(jsonb_build_object('o', o, 't', t, 'ch', c, 'cur', cur, 'f', f, 'n', n, 'amt', amt)) INTO deltas FROM d;
  END IF;
  IF deltas IS NOT NULL THEN
    PERFORM marketsage_apply_message_kpis(deltas);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER messages_kpis_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_messages
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_kpi_messages_changed();

CREATE TRIGGER messages_kpis_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_messages NEW TABLE AS new_messages
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_kpi_messages_changed();

CREATE TRIGGER messages_kpis_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_messages
  FOR EACH STATEMENT EXECUTE FUNCTION marketsage_kpi_messages_changed();

-- Recompute an organization's rows (NULL: every organization) from messages and message_events.
CREATE OR REPLACE FUNCTION marketsage_rebuild_message_kpis(org uuid) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM message_kpi_slots WHERE org IS NULL OR organization_id = org;
  INSERT INTO message_kpi_slots (organization_id, slot, channel, currency, shard, sent, delivered, opened, clicked, costed, cost)
  SELECT m.organization_id, marketsage_kpi_slot(m.created_at), m.channel, coalesce(trim(m.currency), ''), 0,
         count(*) FILTER (WHERE f.s), count(*) FILTER (WHERE f.dl), count(*) FILTER (WHERE f.op), count(*) FILTER (WHERE f.cl),
         count(m.cost), coalesce(sum(m.cost), 0)
    FROM messages m
    LEFT JOIN (SELECT e.message_id,
                      bool_or(e.type NOT IN ('QUEUED', 'FAILED')) s, bool_or(e.type IN ('DELIVERED', 'OPENED', 'CLICKED', 'REPLIED', 'UNSUBSCRIBED')) dl,
                      bool_or(e.type IN ('OPENED', 'CLICKED')) op, bool_or(e.type = 'CLICKED') cl
                 FROM message_events e WHERE org IS NULL OR e.organization_id = org GROUP BY e.message_id) f ON f.message_id = m.id
   WHERE m.direction = 'OUTBOUND' AND (org IS NULL OR m.organization_id = org)
   GROUP BY 1, 2, 3, 4;
$$;

-- Existing data.
SELECT marketsage_rebuild_message_kpis(NULL);

-- Active contacts (identified visitors' touchpoints in a range): the 30-day read scanned the whole
-- touchpoints table (380 ms at bench scale, 1.8M rows skipped per worker); identified touchpoints
-- are a small share, read from this partial index alone.
CREATE INDEX touchpoints_org_identified_idx ON touchpoints (organization_id, occurred_at, contact_id) WHERE contact_id IS NOT NULL;
