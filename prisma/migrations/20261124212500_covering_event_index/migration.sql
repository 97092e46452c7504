-- CreateIndex
CREATE INDEX "message_events_organization_id_type_occurred_at_channel_con_idx" ON "message_events"("organization_id", "type", "occurred_at", "channel", "contact_id");
