-- Alerts (monitoring): at most one open alert per threshold, so evaluators running at once in
-- several processes (the worker, the HTTP host, get_alerts on demand) fire a breach once.
CREATE UNIQUE INDEX "alerts_open_threshold_key" ON "alerts" ("threshold_id") WHERE "resolved_at" IS NULL;
CREATE INDEX "alert_thresholds_enabled_idx" ON "alert_thresholds" ("organization_id") WHERE "enabled";
