// Recompute and store predictions in batches. Two plans for the features, same answers:
// - a few contacts (one customer, a small segment): keyset pages of contacts, features by index
//   lookups per page;
// - many (the organization, a large segment): features for the whole set in one statement (one
//   scan and hash aggregate per history table) into a temporary table, then read back in pages.
// The model runs in memory; each page is one upsert.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { featuresQuery, loadFeatures } from "./features.ts";
import { MODEL_VERSION, predict, type Features } from "./model.ts";

export const REFRESH_BATCH = 5000;
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
    await db.$executeRaw`drop table if exists pg_temp.prediction_features`;
    await db.$executeRaw`create temp table prediction_features on commit drop as ${featuresQuery(org, { member }, now)}`;
    await db.$executeRaw`alter table pg_temp.prediction_features add primary key (id)`;
    for (let last = NIL; ; ) {
      const page = await db.$queryRaw<Array<{ id: string; features: string }>>`
        select id::text, features::text from pg_temp.prediction_features where id > ${last}::uuid order by id limit ${REFRESH_BATCH}`;
      if (page.length === 0) break;
      last = page[page.length - 1]!.id;
      await done(await store(db, org, now, page.map((r) => [r.id, JSON.parse(r.features) as Features]), "temp_table"));
      if (page.length < REFRESH_BATCH) break;
    }
    await db.$executeRaw`drop table if exists pg_temp.prediction_features`;
  } else {
    for (let last = NIL; ; ) {
      const page = await db.$queryRaw<Array<{ id: string }>>`
        select c.id::text from contacts c where ${where} and c.id > ${last}::uuid order by c.id limit ${REFRESH_BATCH}`;
      if (page.length === 0) break;
      last = page[page.length - 1]!.id;
      const features = await loadFeatures(db, org, page.map((r) => r.id), now);
      await done(await store(db, org, now, [...features], "given"));
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

/** Predict and upsert one page. Inputs come from the page (`given`) or from the temporary feature table. */
async function store(db: DbHandle, org: OrgInfo, now: Date, page: Array<[string, Features]>, inputs: "given" | "temp_table"): Promise<number> {
  if (page.length === 0) return 0;
  const ids: string[] = [], churn: number[] = [], ltv: number[] = [], eng: number[] = [], pref: (string | null)[] = [], nba: string[] = [];
  const given: string[] = [];
  for (const [id, f] of page) {
    const p = predict(f);
    ids.push(id);
    churn.push(p.churn_risk);
    ltv.push(p.lifetime_value);
    eng.push(p.engagement_score);
    pref.push(p.preferred_channel);
    nba.push(p.next_best_action);
    if (inputs === "given") given.push(JSON.stringify(f));
  }
  const arrays = Prisma.sql`${ids}::uuid[], ${churn}::float8[], ${ltv}::numeric[], ${eng}::float8[], ${pref}::text[], ${nba}::text[]`;
  const source =
    inputs === "given"
      ? Prisma.sql`unnest(${arrays}, ${given}::jsonb[]) as u(contact_id, churn, ltv, eng, pref, nba, inputs)`
      : Prisma.sql`unnest(${arrays}) as u(contact_id, churn, ltv, eng, pref, nba) join pg_temp.prediction_features f on f.id = u.contact_id`;
  const inputsCol = inputs === "given" ? Prisma.sql`u.inputs` : Prisma.sql`f.features`;
  return db.$executeRaw`
    insert into predictions (id, organization_id, contact_id, model_version, churn_risk, lifetime_value, currency,
                             engagement_score, preferred_channel, next_best_action, inputs, computed_at)
    select gen_random_uuid(), ${org.id}::uuid, u.contact_id, ${MODEL_VERSION}, u.churn, u.ltv, ${org.reportingCurrency},
           u.eng, u.pref::"Channel", u.nba, ${inputsCol}, ${now}
      from ${source}
    on conflict (contact_id, model_version) do update set
      churn_risk = excluded.churn_risk, lifetime_value = excluded.lifetime_value, currency = excluded.currency,
      engagement_score = excluded.engagement_score, preferred_channel = excluded.preferred_channel,
      next_best_action = excluded.next_best_action, inputs = excluded.inputs, computed_at = excluded.computed_at`;
}
