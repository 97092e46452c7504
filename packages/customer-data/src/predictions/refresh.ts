// Recompute and store predictions in batches: one keyset page of contacts at a time, features
// in one SQL statement per batch, the model in memory, one upsert per batch.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { loadFeatures } from "./features.ts";
import { MODEL_VERSION, predict } from "./model.ts";

export const REFRESH_BATCH = 5000;

export interface RefreshResult {
  written: number;
  batches: number;
  seconds: number;
  contacts_per_second: number;
  model_version: string;
}

/**
 * Recompute predictions for the organization's contacts matching `member` (a SQL boolean over
 * contacts `c`; Prisma.empty for all). Works inside the caller's transaction.
 */
export async function refreshPredictions(
  db: DbHandle,
  org: OrgInfo,
  member: Prisma.Sql | null,
  now: Date,
  onBatch?: (done: number) => Promise<void>,
): Promise<RefreshResult> {
  const started = performance.now();
  let last = "00000000-0000-0000-0000-000000000000";
  let written = 0;
  let batches = 0;
  for (;;) {
    const page = await db.$queryRaw<Array<{ id: string }>>`
      select c.id::text from contacts c
       where c.organization_id = ${org.id}::uuid and c.id > ${last}::uuid ${member ? Prisma.sql`and ${member}` : Prisma.empty}
       order by c.id limit ${REFRESH_BATCH}`;
    if (page.length === 0) break;
    last = page[page.length - 1]!.id;
    const ids = page.map((r) => r.id);
    const features = await loadFeatures(db, org, ids, now);
    const cols = { ids: [] as string[], churn: [] as number[], ltv: [] as number[], eng: [] as number[], pref: [] as (string | null)[], nba: [] as string[], inputs: [] as string[] };
    for (const [id, f] of features) {
      const p = predict(f);
      cols.ids.push(id);
      cols.churn.push(p.churn_risk);
      cols.ltv.push(p.lifetime_value);
      cols.eng.push(p.engagement_score);
      cols.pref.push(p.preferred_channel);
      cols.nba.push(p.next_best_action);
      cols.inputs.push(JSON.stringify(f));
    }
    written += await db.$executeRaw`
      insert into predictions (id, organization_id, contact_id, model_version, churn_risk, lifetime_value, currency,
                               engagement_score, preferred_channel, next_best_action, inputs, computed_at)
      select gen_random_uuid(), ${org.id}::uuid, u.contact_id, ${MODEL_VERSION}, u.churn, u.ltv, ${org.reportingCurrency},
             u.eng, u.pref::"Channel", u.nba, u.inputs, ${now}
        from unnest(${cols.ids}::uuid[], ${cols.churn}::float8[], ${cols.ltv}::numeric[], ${cols.eng}::float8[],
                    ${cols.pref}::text[], ${cols.nba}::text[], ${cols.inputs}::jsonb[]) as u(contact_id, churn, ltv, eng, pref, nba, inputs)
      on conflict (contact_id, model_version) do update set
        churn_risk = excluded.churn_risk, lifetime_value = excluded.lifetime_value, currency = excluded.currency,
        engagement_score = excluded.engagement_score, preferred_channel = excluded.preferred_channel,
        next_best_action = excluded.next_best_action, inputs = excluded.inputs, computed_at = excluded.computed_at`;
    batches++;
    await onBatch?.(written);
    if (page.length < REFRESH_BATCH) break;
  }
  const seconds = (performance.now() - started) / 1000;
  return { written, batches, seconds: Math.round(seconds * 1000) / 1000, contacts_per_second: seconds > 0 ? Math.round(written / seconds) : written, model_version: MODEL_VERSION };
}
