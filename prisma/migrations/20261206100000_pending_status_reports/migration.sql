-- external-services: delivery reports that arrive before the send is settled. A fast provider can
-- report before our settle has written the provider message id; such a (verified) report is kept
-- here and applied when the send settles (settleSend claims the rows with DELETE … RETURNING).
-- A provider's retry is stored once (unique report key per message id); rows older than the
-- 10-minute TTL are deleted opportunistically, by received_at.
-- CreateTable
CREATE TABLE "pending_status_reports" (
    "id" BIGSERIAL NOT NULL,
    "provider" TEXT NOT NULL,
    "provider_message_id" TEXT NOT NULL,
    "report" JSONB NOT NULL,
    "report_key" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pending_status_reports_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "pending_status_reports_received_at_idx" ON "pending_status_reports"("received_at");

-- CreateIndex
CREATE UNIQUE INDEX "pending_status_reports_provider_provider_message_id_report__key" ON "pending_status_reports"("provider", "provider_message_id", "report_key");

