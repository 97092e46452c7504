// seedDatabase: the whole load, in dependency order, with the secondary indexes of the big
// tables dropped during COPY and rebuilt (same definitions) afterwards.
import { loadAccounts } from "./accounts.ts";
import { loadCampaigns, planCampaigns } from "./campaigns.ts";
import { SIZES, type Scale } from "./config.ts";
import { loadContacts } from "./contacts.ts";
import type { SeedContext } from "./context.ts";
import { Loader } from "./copy.ts";
import { DEMO_ORGS } from "./demo-accounts.ts";
import { loadMessages } from "./messages.ts";
import { loadAlerts, loadConversions, loadFxRates } from "./misc.ts";
import { BIG_TABLES, advanceSequences, appTables, dropIndexes, organizationCount, recreateIndexes, secondaryIndexes, type IndexDef } from "./schema-ops.ts";
import { loadSegments } from "./segments.ts";
import { loadWeb } from "./web.ts";
import { timeline } from "./time.ts";

export interface SeedOptions {
  scale: Scale;
  seed: number;
  now: Date;
  log?: (m: string) => void;
}

export interface SeedSummary {
  scale: Scale;
  seed: number;
  now: string;
  seconds: number;
  tables: Array<{ table: string; rows: number; seconds: number; rowsPerSecond: number }>;
}

export class SeedError extends Error {
  override name = "SeedError";
}

export async function seedDatabase(databaseUrl: string, opts: SeedOptions): Promise<SeedSummary> {
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  if (!Number.isFinite(opts.now.getTime())) throw new SeedError("now must be a valid date");
  const loader = await Loader.connect(databaseUrl, 3);
  let dropped: IndexDef[] = [];
  let ok = false;
  try {
    const tables = await appTables(loader.admin);
    for (const t of ["organizations", ...BIG_TABLES]) if (!tables.includes(t)) throw new SeedError(`table ${t} is missing: run \`pnpm db:migrate\` first`);
    if ((await organizationCount(loader.admin)) > 0) {
      throw new SeedError("the database already has organizations; seed an empty database, or pass --reset (or --if-empty to skip)");
    }
    const ctx: SeedContext = { loader, tl: timeline(opts.now), seed: opts.seed, scale: opts.scale, sizes: SIZES[opts.scale], orgs: DEMO_ORGS, log };
    log(`seeding scale=${opts.scale} seed=${opts.seed} now=${opts.now.toISOString()}`);

    dropped = await secondaryIndexes(loader.admin, BIG_TABLES);
    await dropIndexes(loader.admin, dropped);
    log(`dropped ${dropped.length} secondary indexes on ${BIG_TABLES.length} tables for the load`);

    await loadAccounts(loader, ctx.tl);
    log("contacts and consent events…");
    const stores = await loadContacts(ctx);
    log("segments…");
    const segments = await loadSegments(ctx, stores);
    const plans = stores.map((s) => planCampaigns(ctx, s.orgIndex, segments[s.orgIndex]!));
    await loadCampaigns(ctx, plans);
    log(`campaigns: ${plans.map((p, i) => `${DEMO_ORGS[i]!.slug} ${p.length}`).join(", ")}`);
    log("messages and events…");
    const attributed = await loadMessages(ctx, stores, plans);
    log("visitors, sessions and touchpoints…");
    const organic = await loadWeb(ctx, stores, plans);
    await loadConversions(ctx, [...attributed, ...organic]);
    await loadFxRates(ctx);
    await loadAlerts(ctx);
    log("contacts' latest delivery and engagement…");
    await loader.admin.query(`SELECT marketsage_rebuild_engagement_state(NULL)`);
    log("segment members' contact state…");
    await loader.admin.query(`SELECT marketsage_rebuild_member_state(NULL)`);
    log("contacts' rule facts and counts…");
    await loader.admin.query(`SELECT marketsage_rebuild_contact_facts(NULL)`);
    log("campaign stats and costs…");
    await loader.admin.query(`SELECT marketsage_rebuild_campaign_stats(NULL)`);
    log("messages' KPI slots and contacts' active days…");
    await loader.admin.query(`SELECT marketsage_rebuild_message_kpis(NULL)`);
    await loader.admin.query(`SELECT marketsage_rebuild_active_days(NULL)`);
    log("sessions' page views, landings and exits, and their visitors' previous sessions…");
    await loader.admin.query(`SELECT marketsage_rebuild_session_pages(NULL)`);
    await loader.admin.query(`SELECT marketsage_rebuild_session_order(NULL)`);

    log(`recreating ${dropped.length} indexes…`);
    const ti = performance.now();
    await recreateIndexes(loader.clients.slice(0, 2), dropped, log);
    dropped = [];
    log(`indexes rebuilt in ${((performance.now() - ti) / 1000).toFixed(1)} s; vacuuming and analyzing`);
    await advanceSequences(loader.admin);
    // VACUUM too: the visibility map lets the covering indexes answer without visiting the heap.
    await loader.admin.query(`VACUUM (ANALYZE) ${(await appTables(loader.admin)).map((t) => `"${t}"`).join(", ")}`);
    ok = true;
  } finally {
    await loader.close();
    if (!ok && dropped.length) {
      // Leave the schema as the migrations made it even when the load failed (on a fresh
      // connection: the load's own may be inside an aborted transaction).
      const fresh = await Loader.connect(databaseUrl, 1).catch(() => undefined);
      if (fresh) {
        await recreateIndexes(fresh.clients, dropped, log).catch((e: Error) => log(`could not restore indexes: ${e.message}`));
        await fresh.close();
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    scale: opts.scale,
    seed: opts.seed,
    now: opts.now.toISOString(),
    seconds,
    tables: loader.stats.map((s) => ({ table: s.table, rows: s.rows, seconds: s.seconds, rowsPerSecond: s.seconds > 0 ? s.rows / s.seconds : s.rows })),
  };
}
