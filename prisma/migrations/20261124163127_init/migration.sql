-- CreateEnum
CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN', 'IT_ADMIN', 'SUPER_ADMIN', 'AI_AGENT');

-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('EMAIL', 'SMS', 'WHATSAPP');

-- CreateEnum
CREATE TYPE "ContactStatus" AS ENUM ('ACTIVE', 'UNSUBSCRIBED', 'BOUNCED', 'ARCHIVED');

-- CreateEnum
CREATE TYPE "ConsentAction" AS ENUM ('SUBSCRIBED', 'UNSUBSCRIBED');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('DRAFT', 'SCHEDULED', 'SENDING', 'SENT', 'PAUSED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "MessageDirection" AS ENUM ('OUTBOUND', 'INBOUND');

-- CreateEnum
CREATE TYPE "MessageStatus" AS ENUM ('QUEUED', 'SENT', 'DELIVERED', 'FAILED', 'OUTCOME_UNKNOWN', 'RECEIVED');

-- CreateEnum
CREATE TYPE "MessageEventType" AS ENUM ('QUEUED', 'SENT', 'DELIVERED', 'FAILED', 'OPENED', 'CLICKED', 'REPLIED', 'BOUNCED', 'UNSUBSCRIBED');

-- CreateEnum
CREATE TYPE "TouchpointType" AS ENUM ('PAGEVIEW', 'CLICK', 'FORM_VIEW', 'FORM_START', 'FORM_SUBMIT', 'CONVERSION');

-- CreateEnum
CREATE TYPE "DeviceType" AS ENUM ('MOBILE', 'DESKTOP', 'TABLET');

-- CreateEnum
CREATE TYPE "AuditOutcome" AS ENUM ('ALLOWED', 'DENIED', 'FAILED', 'RATE_LIMITED');

-- CreateEnum
CREATE TYPE "AlertSeverity" AS ENUM ('INFO', 'WARNING', 'CRITICAL');

-- CreateTable
CREATE TABLE "organizations" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "reporting_currency" CHAR(3) NOT NULL,
    "default_country" CHAR(2) NOT NULL,
    "time_zone" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "contacts" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "email" TEXT,
    "phone" TEXT,
    "first_name" TEXT,
    "last_name" TEXT,
    "company" TEXT,
    "country" CHAR(2) NOT NULL,
    "city" TEXT,
    "time_zone" TEXT NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "status" "ContactStatus" NOT NULL DEFAULT 'ACTIVE',
    "source" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "contacts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consent_events" (
    "id" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "action" "ConsentAction" NOT NULL,
    "source" TEXT NOT NULL,
    "reason" TEXT,
    "actor_user_id" UUID,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segments" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "rules" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segment_members" (
    "segment_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "added_at" TIMESTAMPTZ(3) NOT NULL,
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "segment_members_pkey" PRIMARY KEY ("segment_id","contact_id")
);

-- CreateTable
CREATE TABLE "campaigns" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "status" "CampaignStatus" NOT NULL,
    "subject" TEXT,
    "content" TEXT,
    "segment_id" UUID,
    "scheduled_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_variants" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "subject" TEXT,
    "content" TEXT,
    "weight" DOUBLE PRECISION NOT NULL,
    "is_control" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "campaign_variants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "campaign_id" UUID,
    "variant_id" UUID,
    "contact_id" UUID,
    "channel" "Channel" NOT NULL,
    "direction" "MessageDirection" NOT NULL DEFAULT 'OUTBOUND',
    "recipient" TEXT NOT NULL,
    "sender" TEXT,
    "body" TEXT,
    "provider" TEXT,
    "provider_message_id" TEXT,
    "idempotency_key" TEXT,
    "segments" INTEGER NOT NULL DEFAULT 1,
    "cost" DECIMAL(12,4),
    "currency" CHAR(3),
    "status" "MessageStatus" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "message_events" (
    "id" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "message_id" UUID NOT NULL,
    "campaign_id" UUID,
    "variant_id" UUID,
    "contact_id" UUID,
    "channel" "Channel" NOT NULL,
    "type" "MessageEventType" NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "detail" JSONB,

    CONSTRAINT "message_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversions" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "contact_id" UUID,
    "visitor_id" UUID,
    "campaign_id" UUID,
    "message_id" UUID,
    "type" TEXT NOT NULL,
    "value" DECIMAL(14,2) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "conversions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "visitors" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "contact_id" UUID,
    "device" "DeviceType" NOT NULL,
    "os" TEXT,
    "browser" TEXT,
    "country" CHAR(2),
    "city" TEXT,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "visitors_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "visitor_sessions" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "visitor_id" UUID NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "landing_url" TEXT,
    "referrer" TEXT,
    "utm_source" TEXT,
    "utm_medium" TEXT,
    "utm_campaign" TEXT,
    "device" "DeviceType" NOT NULL,
    "country" CHAR(2),

    CONSTRAINT "visitor_sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "touchpoints" (
    "id" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "visitor_id" UUID NOT NULL,
    "session_id" UUID,
    "contact_id" UUID,
    "type" "TouchpointType" NOT NULL,
    "url" TEXT NOT NULL,
    "title" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_sec" INTEGER,
    "scroll_depth" INTEGER,
    "utm_source" TEXT,
    "utm_medium" TEXT,
    "utm_campaign" TEXT,
    "detail" JSONB,

    CONSTRAINT "touchpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "predictions" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "contact_id" UUID NOT NULL,
    "model_version" TEXT NOT NULL,
    "churn_risk" DOUBLE PRECISION NOT NULL,
    "lifetime_value" DECIMAL(14,2) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "engagement_score" DOUBLE PRECISION NOT NULL,
    "preferred_channel" "Channel",
    "next_best_action" TEXT NOT NULL,
    "inputs" JSONB NOT NULL,
    "computed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "predictions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "fx_rates" (
    "id" BIGSERIAL NOT NULL,
    "base" CHAR(3) NOT NULL,
    "quote" CHAR(3) NOT NULL,
    "rate" DECIMAL(20,10) NOT NULL,
    "as_of" DATE NOT NULL,

    CONSTRAINT "fx_rates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_thresholds" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "operator" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "window_minutes" INTEGER NOT NULL,
    "severity" "AlertSeverity" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_thresholds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "threshold_id" UUID,
    "metric" TEXT NOT NULL,
    "observed_value" DOUBLE PRECISION NOT NULL,
    "threshold_value" DOUBLE PRECISION NOT NULL,
    "severity" "AlertSeverity" NOT NULL,
    "message" TEXT NOT NULL,
    "fired_at" TIMESTAMPTZ(3) NOT NULL,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "chain_key" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "organization_id" UUID,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "actor_user_id" UUID,
    "api_key_id" UUID,
    "role" "Role",
    "server" TEXT NOT NULL,
    "tool" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "args_hash" TEXT NOT NULL,
    "args" JSONB NOT NULL,
    "outcome" "AuditOutcome" NOT NULL,
    "error_code" TEXT,
    "duration_ms" DOUBLE PRECISION NOT NULL,
    "result_bytes" INTEGER NOT NULL,
    "correlation_id" TEXT NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rate_limits" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "server_heartbeats" (
    "server" TEXT NOT NULL,
    "instance" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "host" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "beat_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "server_heartbeats_pkey" PRIMARY KEY ("server","instance")
);

-- CreateIndex
CREATE UNIQUE INDEX "organizations_slug_key" ON "organizations"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "users_organization_id_email_key" ON "users"("organization_id", "email");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "contacts_organization_id_created_at_idx" ON "contacts"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "contacts_organization_id_country_idx" ON "contacts"("organization_id", "country");

-- CreateIndex
CREATE UNIQUE INDEX "contacts_organization_id_email_key" ON "contacts"("organization_id", "email");

-- CreateIndex
CREATE UNIQUE INDEX "contacts_organization_id_phone_key" ON "contacts"("organization_id", "phone");

-- CreateIndex
CREATE INDEX "consent_events_contact_id_channel_occurred_at_idx" ON "consent_events"("contact_id", "channel", "occurred_at" DESC);

-- CreateIndex
CREATE INDEX "consent_events_organization_id_occurred_at_idx" ON "consent_events"("organization_id", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "segments_organization_id_name_key" ON "segments"("organization_id", "name");

-- CreateIndex
CREATE INDEX "segment_members_contact_id_idx" ON "segment_members"("contact_id");

-- CreateIndex
CREATE INDEX "segment_members_segment_id_added_at_idx" ON "segment_members"("segment_id", "added_at");

-- CreateIndex
CREATE INDEX "campaigns_organization_id_channel_created_at_idx" ON "campaigns"("organization_id", "channel", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "campaign_variants_campaign_id_name_key" ON "campaign_variants"("campaign_id", "name");

-- CreateIndex
CREATE INDEX "messages_provider_provider_message_id_idx" ON "messages"("provider", "provider_message_id");

-- CreateIndex
CREATE INDEX "messages_organization_id_created_at_idx" ON "messages"("organization_id", "created_at");

-- CreateIndex
CREATE INDEX "messages_campaign_id_idx" ON "messages"("campaign_id");

-- CreateIndex
CREATE INDEX "messages_contact_id_created_at_idx" ON "messages"("contact_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "messages_organization_id_idempotency_key_key" ON "messages"("organization_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "message_events_organization_id_occurred_at_idx" ON "message_events"("organization_id", "occurred_at");

-- CreateIndex
CREATE INDEX "message_events_campaign_id_type_idx" ON "message_events"("campaign_id", "type");

-- CreateIndex
CREATE INDEX "message_events_contact_id_occurred_at_idx" ON "message_events"("contact_id", "occurred_at");

-- CreateIndex
CREATE INDEX "message_events_message_id_idx" ON "message_events"("message_id");

-- CreateIndex
CREATE INDEX "conversions_organization_id_occurred_at_idx" ON "conversions"("organization_id", "occurred_at");

-- CreateIndex
CREATE INDEX "conversions_contact_id_occurred_at_idx" ON "conversions"("contact_id", "occurred_at");

-- CreateIndex
CREATE INDEX "conversions_campaign_id_idx" ON "conversions"("campaign_id");

-- CreateIndex
CREATE INDEX "visitors_contact_id_idx" ON "visitors"("contact_id");

-- CreateIndex
CREATE INDEX "visitors_organization_id_last_seen_at_idx" ON "visitors"("organization_id", "last_seen_at");

-- CreateIndex
CREATE UNIQUE INDEX "visitors_organization_id_fingerprint_key" ON "visitors"("organization_id", "fingerprint");

-- CreateIndex
CREATE INDEX "visitor_sessions_visitor_id_started_at_idx" ON "visitor_sessions"("visitor_id", "started_at");

-- CreateIndex
CREATE INDEX "visitor_sessions_organization_id_started_at_idx" ON "visitor_sessions"("organization_id", "started_at");

-- CreateIndex
CREATE INDEX "touchpoints_organization_id_occurred_at_idx" ON "touchpoints"("organization_id", "occurred_at");

-- CreateIndex
CREATE INDEX "touchpoints_visitor_id_occurred_at_idx" ON "touchpoints"("visitor_id", "occurred_at");

-- CreateIndex
CREATE INDEX "touchpoints_contact_id_occurred_at_idx" ON "touchpoints"("contact_id", "occurred_at");

-- CreateIndex
CREATE INDEX "predictions_organization_id_model_version_idx" ON "predictions"("organization_id", "model_version");

-- CreateIndex
CREATE UNIQUE INDEX "predictions_contact_id_model_version_key" ON "predictions"("contact_id", "model_version");

-- CreateIndex
CREATE UNIQUE INDEX "fx_rates_base_quote_as_of_key" ON "fx_rates"("base", "quote", "as_of");

-- CreateIndex
CREATE INDEX "alert_thresholds_organization_id_idx" ON "alert_thresholds"("organization_id");

-- CreateIndex
CREATE INDEX "alerts_organization_id_fired_at_idx" ON "alerts"("organization_id", "fired_at");

-- CreateIndex
CREATE INDEX "audit_events_organization_id_occurred_at_idx" ON "audit_events"("organization_id", "occurred_at");

-- CreateIndex
CREATE INDEX "audit_events_server_tool_occurred_at_idx" ON "audit_events"("server", "tool", "occurred_at");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_chain_key_seq_key" ON "audit_events"("chain_key", "seq");

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
