// @marketsage/monitoring: KPIs, trends and forecasts, anomalies, alerts, reports with charts,
// system health and the audit log (issue 14; not in the catalog yet). Today: the statistics.
export * from "./stats/index.ts";
