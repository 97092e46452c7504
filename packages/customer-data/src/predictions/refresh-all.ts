// Used after seeding (pnpm db:seed, the test template, the tour): the same code as refresh_predictions,
// then every rule segment evaluated into its member list (the same code as a read of a stale one).
import { openDb } from "@marketsage/db";
import { evaluateAllRuleSegments } from "../segments/membership.ts";
import { refreshPredictions, type RefreshResult } from "./refresh.ts";

export async function refreshAllOrganizations(url: string, now: Date, log: (m: string) => void = () => undefined): Promise<RefreshResult[]> {
  const db = openDb(url, { max: 2 });
  try {
    const orgs = await db.$queryRaw<Array<{ id: string; name: string; reporting_currency: string; default_country: string; time_zone: string }>>`
      select id::text, name, trim(reporting_currency) as reporting_currency, trim(default_country) as default_country, time_zone from organizations order by name`;
    const out: RefreshResult[] = [];
    for (const o of orgs) {
      const org = { id: o.id, name: o.name, reportingCurrency: o.reporting_currency, defaultCountry: o.default_country, timeZone: o.time_zone };
      const r = await db.$transaction((tx) => refreshPredictions(tx, org, null, now), { timeout: 30 * 60_000 });
      log(`predictions for ${o.name}: ${r.written} in ${r.seconds} s (${r.contacts_per_second}/s)`);
      const started = performance.now();
      const n = await evaluateAllRuleSegments(db, org, now);
      log(`rule segments for ${o.name}: ${n} evaluated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      out.push(r);
    }
    return out;
  } finally {
    await db.$disconnect();
  }
}
