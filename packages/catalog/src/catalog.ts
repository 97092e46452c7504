// The one list of servers. Config, flags, the client, the manager, the harness, the contract test,
// the build, `pnpm mcp:config`, the HTTP host and the bench all read it: adding a server is one
// entry here and one package. Nothing else spells a server's name.
import { camelCase, type Catalog, type CatalogEntry, type EntrySpec } from "./types.ts";

const ENTRIES = {
  "customer-data": {
    title: "Customer profiles, segments, predictions and consent",
    load: () => import("@marketsage/customer-data").then((m) => m.customerDataPackage),
    harness: () => import("@marketsage/customer-data/harness").then((m) => m.harness),
    afterSeed: () => import("@marketsage/customer-data").then((m) => m.afterSeed),
    bench: () => import("@marketsage/customer-data/bench").then((m) => m.bench),
  },
  "campaign-analytics": {
    title: "Email, SMS and WhatsApp campaign performance, A/B tests and trends",
    load: () => import("@marketsage/campaign-analytics").then((m) => m.campaignAnalyticsPackage),
    harness: () => import("@marketsage/campaign-analytics/harness").then((m) => m.harness),
    bench: () => import("@marketsage/campaign-analytics/bench").then((m) => m.bench),
  },
  leadpulse: {
    title: "Website visitors, journeys, funnels, pages, traffic sources and intent; the website collector",
    load: () => import("@marketsage/leadpulse").then((m) => m.leadpulsePackage),
    harness: () => import("@marketsage/leadpulse/harness").then((m) => m.harness),
    bench: () => import("@marketsage/leadpulse/bench").then((m) => m.bench),
    routes: (env: Readonly<Record<string, string | undefined>>) => import("@marketsage/leadpulse/routes").then((m) => m.collectorRoutes(env)),
  },
  "external-services": {
    title: "Email, SMS and WhatsApp sent through Africa's Talking, Twilio, SMTP and the WhatsApp Cloud API (sandbox emulators by default)",
    load: () => import("@marketsage/external-services").then((m) => m.externalServicesPackage),
    harness: () => import("@marketsage/external-services/harness").then((m) => m.harness),
    bench: () => import("@marketsage/external-services/bench").then((m) => m.bench),
    routes: (env: Readonly<Record<string, string | undefined>>) => import("@marketsage/external-services/routes").then((m) => m.routes(env)),
    worker: () => import("@marketsage/external-services/worker").then((m) => m.bulkWorker),
  },
  monitoring: {
    title: "KPIs, trends and forecasts, anomalies, alerts, reports with charts, system health and the audit log",
    load: () => import("@marketsage/monitoring").then((m) => m.monitoringPackage),
    harness: () => import("@marketsage/monitoring/harness").then((m) => m.harness),
    bench: () => import("@marketsage/monitoring/bench").then((m) => m.bench),
    worker: () => import("@marketsage/monitoring/worker").then((m) => m.alertsWorker),
  },
};
// Checked here rather than with `satisfies`, which would widen each loader's inferred type.
const checked: Record<string, EntrySpec> = ENTRIES;

export type CatalogEntries = typeof ENTRIES;

/** Builds a catalog from specs keyed by server name (tests build one with a fake entry). */
export function defineCatalog(specs: Record<string, EntrySpec>): Catalog {
  return Object.entries(specs).map(([name, spec]): CatalogEntry => ({ name, key: camelCase(name), ...spec }));
}

export const CATALOG: Catalog = defineCatalog(checked);

export function catalogEntry(name: string, catalog: Catalog = CATALOG): CatalogEntry | undefined {
  return catalog.find((e) => e.name === name);
}

export function serverNames(catalog: Catalog = CATALOG): string[] {
  return catalog.map((e) => e.name);
}
