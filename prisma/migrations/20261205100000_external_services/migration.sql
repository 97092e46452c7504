-- external-services (issue 12): what single sends, templates, cost estimates and provider health need.
-- Messages: the request's hash (the same idempotency key with other content is a conflict), the
-- template used, when the status last changed, the failure's code and safe reason, sandbox or live.
-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "error_code" TEXT,
ADD COLUMN     "error_reason" TEXT,
ADD COLUMN     "request_hash" TEXT,
ADD COLUMN     "sandbox" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "status_at" TIMESTAMPTZ(3),
ADD COLUMN     "template_id" UUID;

-- CreateTable
CREATE TABLE "message_templates" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "name" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "subject" TEXT,
    "html" TEXT,
    "text" TEXT,
    "whatsapp_template" TEXT,
    "whatsapp_language" TEXT,
    "whatsapp_params" JSONB,
    "created_by_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provider_rates" (
    "provider" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "country" CHAR(2) NOT NULL,
    "effective_from" TIMESTAMPTZ(3) NOT NULL,
    "unit_cost" DECIMAL(12,4) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "source" TEXT NOT NULL,

    CONSTRAINT "provider_rates_pkey" PRIMARY KEY ("provider","channel","country","effective_from")
);

-- CreateTable
CREATE TABLE "sender_identities" (
    "organization_id" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "provider" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sender_identities_pkey" PRIMARY KEY ("organization_id","channel","provider")
);

-- CreateTable
CREATE TABLE "provider_circuits" (
    "provider" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'closed',
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "opened_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provider_circuits_pkey" PRIMARY KEY ("provider")
);

-- CreateIndex
CREATE UNIQUE INDEX "message_templates_organization_id_channel_name_version_key" ON "message_templates"("organization_id", "channel", "name", "version");


-- (No CHECK constraints: Prisma 6.19's migrate diff, which the drift check runs, crashes on them;
-- the circuit state and the rates are validated where they are written.)

-- Default rates for cost estimates (per SMS segment; per WhatsApp marketing message; email 0).
-- Illustrative figures of the providers' published price lists, marked as such: an operator loads
-- their contracted rates (a later effective_from wins).
INSERT INTO provider_rates (provider, channel, country, effective_from, unit_cost, currency, source) VALUES
  ('africastalking', 'SMS', 'KE', '2026-01-01', 0.8000, 'KES', 'default: illustrative'),
  ('africastalking', 'SMS', 'NG', '2026-01-01', 4.0000, 'NGN', 'default: illustrative'),
  ('africastalking', 'SMS', 'UG', '2026-01-01', 35.0000, 'UGX', 'default: illustrative'),
  ('africastalking', 'SMS', 'TZ', '2026-01-01', 25.0000, 'TZS', 'default: illustrative'),
  ('africastalking', 'SMS', 'RW', '2026-01-01', 15.0000, 'RWF', 'default: illustrative'),
  ('africastalking', 'SMS', 'GH', '2026-01-01', 0.0900, 'GHS', 'default: illustrative'),
  ('africastalking', 'SMS', 'ZA', '2026-01-01', 0.3500, 'ZAR', 'default: illustrative'),
  ('twilio', 'SMS', 'NG', '2026-01-01', 0.2700, 'USD', 'default: illustrative'),
  ('twilio', 'SMS', 'KE', '2026-01-01', 0.2100, 'USD', 'default: illustrative'),
  ('twilio', 'SMS', 'GH', '2026-01-01', 0.2500, 'USD', 'default: illustrative'),
  ('twilio', 'SMS', 'ZA', '2026-01-01', 0.0600, 'USD', 'default: illustrative'),
  ('twilio', 'SMS', 'EG', '2026-01-01', 0.2300, 'USD', 'default: illustrative'),
  ('twilio', 'SMS', 'UG', '2026-01-01', 0.2900, 'USD', 'default: illustrative'),
  ('whatsapp', 'WHATSAPP', 'NG', '2026-01-01', 0.0516, 'USD', 'default: illustrative'),
  ('whatsapp', 'WHATSAPP', 'ZA', '2026-01-01', 0.0379, 'USD', 'default: illustrative'),
  ('whatsapp', 'WHATSAPP', 'EG', '2026-01-01', 0.1073, 'USD', 'default: illustrative'),
  ('whatsapp', 'WHATSAPP', 'KE', '2026-01-01', 0.0225, 'USD', 'default: illustrative'),
  ('whatsapp', 'WHATSAPP', 'GH', '2026-01-01', 0.0225, 'USD', 'default: illustrative'),
  ('smtp', 'EMAIL', 'ZZ', '2026-01-01', 0.0000, 'USD', 'default: your own SMTP server');
