// A campaign metric over time, by campaign date: each bucket (day, week or month in the
// organization's time zone) holds the campaigns dated in it (sent, else scheduled, else created)
// with their figures to date — the same tallies as get_campaign_metrics (queries/campaign-counts.ts),
// summed. Buckets come from SQL so the time zone's calendar (DST, offsets) is PostgreSQL's.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import type { ChannelName } from "@marketsage/domain";
import type { CountKey } from "../metrics/definitions.ts";
import { campaignTallies, emptyTally, tallyKey, type Counts } from "./campaign-counts.ts";

export type Granularity = "day" | "week" | "month";

export interface Bucket {
  /** Local date of the bucket's first day: "2026-11-02" (day, week) or "2026-11" (month). */
  label: string;
  /** The bucket's local midnight as an instant. */
  start: Date;
  end: Date;
}

const LABEL_FORMAT: Record<Granularity, string> = { day: "YYYY-MM-DD", week: "YYYY-MM-DD", month: "YYYY-MM" };

/** Every bucket that overlaps [from, to), in the time zone (weeks start on Monday, as date_trunc's ISO weeks). */
export async function bucketsOf(db: DbHandle, timeZone: string, unit: Granularity, from: Date, to: Date): Promise<Bucket[]> {
  const step = `1 ${unit}`;
  return db.$queryRaw<Bucket[]>`
    select to_char(b, ${LABEL_FORMAT[unit]}) as label, b at time zone ${timeZone} as start, (b + ${step}::interval) at time zone ${timeZone} as "end"
      from generate_series(date_trunc(${unit}, ${from}::timestamptz at time zone ${timeZone}),
                           (${to}::timestamptz at time zone ${timeZone}) - interval '1 microsecond', ${step}::interval) b
     order by b`;
}

export interface SeriesQuery {
  org: Pick<OrgInfo, "id" | "reportingCurrency">;
  /** The channels counted (a rate counts only where it applies). */
  channels: readonly ChannelName[];
  /** Where each bucket of the range starts, ascending; the first is the range's start. */
  starts: readonly Date[];
  to: Date;
  previousFrom: Date;
  /** Read attributed conversions (conversion rate, revenue). */
  conversions: boolean;
  attributionDays: number;
}

export interface Tallies {
  campaigns: number;
  counts: Counts;
  /** In the reporting currency, over the amounts with an FX rate. */
  revenue: number;
}

export interface SeriesResult {
  /** One per bucket, in the order of `starts`. */
  buckets: Tallies[];
  current: Tallies;
  previous: Tallies;
  /** Some revenue had no FX rate and is left out. */
  fxIncomplete: boolean;
}

const zero = (): Tallies => ({ campaigns: 0, counts: emptyTally().counts, revenue: 0 });

function add(into: Tallies, counts: Counts, revenue: number): void {
  into.campaigns++;
  for (const k of Object.keys(counts) as Array<keyof Counts>) into.counts[k] += counts[k];
  into.revenue += revenue;
}

/** The campaigns dated in [previousFrom, to) on the channels, summed per bucket, over the range and over the previous period. */
export async function campaignSeries(db: DbHandle, q: SeriesQuery): Promise<SeriesResult> {
  const date = Prisma.sql`coalesce(c.sent_at, c.scheduled_at, c.created_at)`;
  const rows = await db.$queryRaw<Array<{ id: string; date: Date }>>`
    select c.id::text, ${date} as date from campaigns c
     where c.organization_id = ${q.org.id}::uuid and c.channel::text = any(${[...q.channels]})
       and ${date} >= ${q.previousFrom} and ${date} < ${q.to}`;
  const tallies = await campaignTallies(db, q.org, rows.map((r) => r.id), { variants: false, attributionDays: q.attributionDays, conversions: q.conversions, cost: false });
  const out: SeriesResult = { buckets: q.starts.map(zero), current: zero(), previous: zero(), fxIncomplete: false };
  const from = q.starts[0]!;
  for (const r of rows) {
    const t = tallies.get(tallyKey(r.id)) ?? emptyTally();
    out.fxIncomplete ||= t.revenue.incomplete;
    if (r.date < from) {
      add(out.previous, t.counts, t.revenue.total);
      continue;
    }
    let b = 0;
    while (b + 1 < q.starts.length && q.starts[b + 1]! <= r.date) b++;
    add(out.buckets[b]!, t.counts, t.revenue.total);
    add(out.current, t.counts, t.revenue.total);
  }
  return out;
}

export const countOf = (t: Tallies, k: CountKey): number => t.counts[k];
