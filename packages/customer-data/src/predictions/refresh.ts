// Recompute and store predictions. The features and the model both run in PostgreSQL, so no
// contact's history crosses to Node. Two plans for the features, same answers (tested):
// - a few contacts (one customer, a small segment): keyset pages of contacts, features by index
//   lookups per page, one upsert per page;
// - many (the organization, a large segment): features and predictions for the whole set in one
//   statement (one scan and hash aggregate per history table) into a temporary table, then one
//   update joined in table order (heap-only updates, no index probe per row) and one insert of
//   the contacts that had no prediction yet.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { roundTo } from "@marketsage/domain";
import { predictionsQuery } from "./features.ts";
import { INPUT_COLUMNS, MODEL_VERSION } from "./model.ts";

export const REFRESH_BATCH = 10_000;
/** From this many contacts (and a quarter of the organization) the whole-set plan is used. */
export const SETWISE_FROM = 20_000;

export interface RefreshResult {
  written: number;
  batches: number;
  plan: "by_ids" | "setwise";
  seconds: number;
  contacts_per_second: number;
  model_version: string;
}

export interface RefreshOptions {
  /** Called after each step with the predictions written so far and the total when known. */
  onProgress?: (done: number, total: number | undefined, message: string) => Promise<void>;
  /** Force a plan (tests compare both); by default chosen from the size of the set. */
  plan?: "by_ids" | "setwise";
}

const NIL = "00000000-0000-0000-0000-000000000000";
/** The columns a refresh writes, besides the keys. */
const WRITTEN = ["churn_risk", "lifetime_value", "currency", "engagement_score", "preferred_channel", "next_best_action", ...INPUT_COLUMNS, "computed_at"];
const COLUMNS = Prisma.raw(["id", "organization_id", "contact_id", "model_version", ...WRITTEN].join(", "));
const SET_EXCLUDED = Prisma.raw(WRITTEN.map((c) => `${c} = excluded.${c}`).join(", "));
const SET_FROM_R = Prisma.raw(WRITTEN.map((c) => `${c} = r.${c}`).join(", "));
const R_WRITTEN = Prisma.raw(WRITTEN.map((c) => `r.${c}`).join(", "));

/**
 * Recompute predictions for the organization's contacts matching `member` (a SQL boolean over
 * contacts `c`; null for all). Works inside the caller's transaction.
 */
export async function refreshPredictions(db: DbHandle, org: OrgInfo, member: Prisma.Sql | null, now: Date, opts: RefreshOptions = {}): Promise<RefreshResult> {
  const started = performance.now();
  const where = Prisma.sql`c.organization_id = ${org.id}::uuid ${member ? Prisma.sql`and ${member}` : Prisma.empty}`;
  const plan = opts.plan ?? (await choosePlan(db, org, where));
  const progress = opts.onProgress ?? (async () => undefined);
  // The rows to store: the model's columns, plus the organization's currency and the clock.
  const rows = (target: Parameters<typeof predictionsQuery>[1]) =>
    Prisma.sql`select p.*, ${org.reportingCurrency}::char(3) as currency, ${now}::timestamptz as computed_at from (${predictionsQuery(org, target, now)}) p`;
  const insert = (source: Prisma.Sql, tail: Prisma.Sql) => db.$executeRaw`
    insert into predictions (${COLUMNS})
    select gen_random_uuid(), ${org.id}::uuid, r.contact_id, ${MODEL_VERSION}, ${R_WRITTEN} from ${source} r ${tail}`;
  let written = 0;
  let batches = 0;

  if (plan === "setwise") {
    // Hash aggregates over the history need memory, not disk.
    await db.$executeRaw`set local work_mem = '256MB'`;
    const total = await db.$executeRaw`create temporary table refresh_rows on commit drop as ${rows({ member })}`;
    await progress(0, total, `features and predictions computed for ${total} customers`);
    // The joins below pair a million rows with a million rows: hash joins only. Statistics on
    // predictions may be stale (empty at the last ANALYZE, before a first refresh), and a nested
    // loop chosen on them rescans a growing table per row (measured: minutes, not seconds).
    await db.$executeRaw`analyze refresh_rows`;
    await db.$executeRaw`set local enable_nestloop = off`;
    written += await db.$executeRaw`
      update predictions t set ${SET_FROM_R} from refresh_rows r
       where t.contact_id = r.contact_id and t.model_version = ${MODEL_VERSION} and t.organization_id = ${org.id}::uuid`;
    await progress(written, total, `${written} predictions updated`);
    written += await insert(
      Prisma.sql`refresh_rows`,
      Prisma.sql`where not exists (select 1 from predictions t where t.contact_id = r.contact_id and t.model_version = ${MODEL_VERSION})`,
    );
    await progress(written, total, `${written} predictions written`);
    await db.$executeRaw`drop table refresh_rows`;
    batches = 1;
  } else {
    for (let last = NIL; ; ) {
      const page = await db.$queryRaw<Array<{ id: string }>>`
        select c.id::text from contacts c where ${where} and c.id > ${last}::uuid order by c.id limit ${REFRESH_BATCH}`;
      if (page.length === 0) break;
      last = page[page.length - 1]!.id;
      written += await insert(Prisma.sql`(${rows({ ids: page.map((r) => r.id) })})`, Prisma.sql`on conflict (contact_id, model_version) do update set ${SET_EXCLUDED}`);
      batches++;
      await progress(written, undefined, `${written} predictions written`);
      if (page.length < REFRESH_BATCH) break;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    written,
    batches,
    plan,
    seconds: roundTo(seconds, 3),
    contacts_per_second: seconds > 0 ? Math.round(written / seconds) : written,
    model_version: MODEL_VERSION,
  };
}

async function choosePlan(db: DbHandle, org: OrgInfo, where: Prisma.Sql): Promise<"by_ids" | "setwise"> {
  const [r] = await db.$queryRaw<Array<{ target: number; total: number }>>`
    select count(*) filter (where ${where})::int as target, count(*)::int as total from contacts c where c.organization_id = ${org.id}::uuid`;
  return r && r.target >= SETWISE_FROM && r.target * 4 >= r.total ? "setwise" : "by_ids";
}
