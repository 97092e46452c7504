// Recompute and store predictions in batches. Two plans for the features, same answers:
// - a few contacts (one customer, a small segment): keyset pages of contacts, features by index
//   lookups per page;
// - many (the organization, a large segment): features for the whole set in one statement (one
//   scan and hash aggregate per history table), read through a cursor a page at a time.
// The model runs in memory; each page is one upsert.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { featuresQuery, loadFeatures, toFeatures, type FeatureRow } from "./features.ts";
import { MODEL_VERSION, predict, type Features } from "./model.ts";

export const REFRESH_BATCH = 10_000;
/** From this many contacts (and a quarter of the organization) the whole-set plan is used. */
export const SETWISE_FROM = 20_000;

export interface RefreshResult {
  written: number;
  batches: number;
  seconds: number;
  contacts_per_second: number;
  model_version: string;
}

export interface RefreshOptions {
  onBatch?: (done: number) => Promise<void>;
  /** Force a plan (tests compare both); by default chosen from the size of the set. */
  plan?: "by_ids" | "setwise";
}

const NIL = "00000000-0000-0000-0000-000000000000";

/**
 * Recompute predictions for the organization's contacts matching `member` (a SQL boolean over
 * contacts `c`; null for all). Works inside the caller's transaction.
 */
export async function refreshPredictions(db: DbHandle, org: OrgInfo, member: Prisma.Sql | null, now: Date, opts: RefreshOptions = {}): Promise<RefreshResult> {
  const started = performance.now();
  const where = Prisma.sql`c.organization_id = ${org.id}::uuid ${member ? Prisma.sql`and ${member}` : Prisma.empty}`;
  const plan = opts.plan ?? (await choosePlan(db, org, where));
  let written = 0;
  let batches = 0;
  const done = async (n: number) => {
    written += n;
    batches++;
    await opts.onBatch?.(written);
  };

  if (plan === "setwise") {
    // One statement computes every contact's features (hash aggregates need memory, not disk);
    // a cursor hands them over a page at a time while the upserts run in the same transaction.
    await db.$executeRaw`set local work_mem = '256MB'`;
    await db.$executeRaw`set local cursor_tuple_fraction = 1`;
    await db.$executeRaw`declare prediction_features no scroll cursor for ${featuresQuery(org, { member }, now)}`;
    for (;;) {
      const page = await db.$queryRaw<FeatureRow[]>`fetch ${Prisma.raw(String(REFRESH_BATCH))} from prediction_features`;
      if (page.length === 0) break;
      await done(await store(db, org, now, page.map((r) => [r.id, toFeatures(r, now)])));
      if (page.length < REFRESH_BATCH) break;
    }
    await db.$executeRaw`close prediction_features`;
  } else {
    for (let last = NIL; ; ) {
      const page = await db.$queryRaw<Array<{ id: string }>>`
        select c.id::text from contacts c where ${where} and c.id > ${last}::uuid order by c.id limit ${REFRESH_BATCH}`;
      if (page.length === 0) break;
      last = page[page.length - 1]!.id;
      const features = await loadFeatures(db, org, page.map((r) => r.id), now);
      await done(await store(db, org, now, [...features]));
      if (page.length < REFRESH_BATCH) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    written,
    batches,
    seconds: Math.round(seconds * 1000) / 1000,
    contacts_per_second: seconds > 0 ? Math.round(written / seconds) : written,
    model_version: MODEL_VERSION,
  };
}

async function choosePlan(db: DbHandle, org: OrgInfo, where: Prisma.Sql): Promise<"by_ids" | "setwise"> {
  const [r] = await db.$queryRaw<Array<{ target: number; total: number }>>`
    select count(*) filter (where ${where})::int as target, count(*)::int as total from contacts c where c.organization_id = ${org.id}::uuid`;
  return r && r.target >= SETWISE_FROM && r.target * 4 >= r.total ? "setwise" : "by_ids";
}

/** Predict and upsert one page; the features are stored beside the prediction as its inputs. */
async function store(db: DbHandle, org: OrgInfo, now: Date, page: Array<[string, Features]>): Promise<number> {
  if (page.length === 0) return 0;
  // One JSON document per page: one parameter to parse, instead of seven arrays in literal syntax.
  const rows = page.map(([contact_id, f]) => ({ contact_id, ...predict(f), inputs: f }));
  return db.$executeRaw`
    insert into predictions (id, organization_id, contact_id, model_version, churn_risk, lifetime_value, currency,
                             engagement_score, preferred_channel, next_best_action, inputs, computed_at)
    select gen_random_uuid(), ${org.id}::uuid, u.contact_id, ${MODEL_VERSION}, u.churn_risk, u.lifetime_value, ${org.reportingCurrency},
           u.engagement_score, u.preferred_channel::"Channel", u.next_best_action, u.inputs, ${now}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as u(contact_id uuid, churn_risk float8, lifetime_value numeric,
           engagement_score float8, preferred_channel text, next_best_action text, inputs jsonb)
    on conflict (contact_id, model_version) do update set
      churn_risk = excluded.churn_risk, lifetime_value = excluded.lifetime_value, currency = excluded.currency,
      engagement_score = excluded.engagement_score, preferred_channel = excluded.preferred_channel,
      next_best_action = excluded.next_best_action, inputs = excluded.inputs, computed_at = excluded.computed_at`;
}
