// Recompute and store predictions. The features and the model both run in PostgreSQL, so no
// contact's history crosses to Node; two plans for the features, same answers:
// - a few contacts (one customer, a small segment): keyset pages of contacts, features by index
//   lookups per page, one insert-select per page;
// - many (the organization, a large segment): features and predictions for the whole set in one
//   statement (one scan and hash aggregate per history table) into a temporary table, then
//   upserted a batch at a time so the caller sees progress.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { predictionsQuery } from "./features.ts";
import { MODEL_VERSION } from "./model.ts";

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
    // Hash aggregates over the history need memory, not disk.
    await db.$executeRaw`set local work_mem = '256MB'`;
    const total = await db.$executeRaw`
      create temporary table refresh_rows on commit drop as
      select row_number() over () as n, p.* from (${predictionsQuery(org, { member }, now)}) p`;
    await db.$executeRaw`create index on refresh_rows (n)`;
    for (let from = 0; from < total; from += REFRESH_BATCH) {
      await done(await store(db, org, now, Prisma.sql`select * from refresh_rows where n > ${from} and n <= ${from + REFRESH_BATCH}`));
    }
    await db.$executeRaw`drop table refresh_rows`;
  } else {
    for (let last = NIL; ; ) {
      const page = await db.$queryRaw<Array<{ id: string }>>`
        select c.id::text from contacts c where ${where} and c.id > ${last}::uuid order by c.id limit ${REFRESH_BATCH}`;
      if (page.length === 0) break;
      last = page[page.length - 1]!.id;
      await done(await store(db, org, now, predictionsQuery(org, { ids: page.map((r) => r.id) }, now)));
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

/** Upsert prediction rows (the columns of modelQuery); the inputs are stored beside each prediction. */
async function store(db: DbHandle, org: OrgInfo, now: Date, rows: Prisma.Sql): Promise<number> {
  return db.$executeRaw`
    insert into predictions (id, organization_id, contact_id, model_version, churn_risk, lifetime_value, currency,
                             engagement_score, preferred_channel, next_best_action, inputs, computed_at)
    select gen_random_uuid(), ${org.id}::uuid, u.contact_id::uuid, ${MODEL_VERSION}, u.churn_risk, u.lifetime_value, ${org.reportingCurrency},
           u.engagement_score, u.preferred_channel::"Channel", u.next_best_action, u.inputs, ${now}
      from (${rows}) u
    on conflict (contact_id, model_version) do update set
      churn_risk = excluded.churn_risk, lifetime_value = excluded.lifetime_value, currency = excluded.currency,
      engagement_score = excluded.engagement_score, preferred_channel = excluded.preferred_channel,
      next_best_action = excluded.next_best_action, inputs = excluded.inputs, computed_at = excluded.computed_at`;
}
