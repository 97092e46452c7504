-- Campaign sends (send_bulk): the send, its snapshotted recipients (the source of truth for
-- progress and exactly-once), the providers' shared throttle, signing keys and tracked links.
CREATE TABLE "bulk_sends" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "status" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "total" INTEGER NOT NULL,
    "chunk_size" INTEGER NOT NULL,
    "chunks" INTEGER NOT NULL,
    "estimate" JSONB,
    "requested_by" TEXT,
    "idempotency_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "cancelled_at" TIMESTAMPTZ(3),
    "cancel_reason" TEXT,
    CONSTRAINT "bulk_sends_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "bulk_sends_organization_id_idempotency_key_key" ON "bulk_sends"("organization_id", "idempotency_key");
CREATE INDEX "bulk_sends_organization_id_created_at_idx" ON "bulk_sends"("organization_id", "created_at");

CREATE TABLE "bulk_send_recipients" (
    "bulk_send_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "organization_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "chunk" INTEGER NOT NULL,
    "variant_id" UUID,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "not_before" TIMESTAMPTZ(3),
    "message_id" UUID,
    "claimed_at" TIMESTAMPTZ(3),
    "worker" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "reason" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "bulk_send_recipients_pkey" PRIMARY KEY ("bulk_send_id", "seq")
);
CREATE UNIQUE INDEX "bulk_send_recipients_bulk_send_id_contact_id_key" ON "bulk_send_recipients"("bulk_send_id", "contact_id");
CREATE INDEX "bulk_send_recipients_bulk_send_id_chunk_state_idx" ON "bulk_send_recipients"("bulk_send_id", "chunk", "state");

CREATE TABLE "provider_throttles" (
    "provider" TEXT NOT NULL,
    "next_at" TIMESTAMPTZ(6) NOT NULL,
    "paused_till" TIMESTAMPTZ(6),
    CONSTRAINT "provider_throttles_pkey" PRIMARY KEY ("provider")
);

CREATE TABLE "signing_keys" (
    "name" TEXT NOT NULL,
    "secret" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("name")
);

CREATE TABLE "campaign_links" (
    "campaign_id" UUID NOT NULL,
    "idx" INTEGER NOT NULL,
    "organization_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    CONSTRAINT "campaign_links_pkey" PRIMARY KEY ("campaign_id", "idx")
);
CREATE UNIQUE INDEX "campaign_links_campaign_id_url_key" ON "campaign_links"("campaign_id", "url");
