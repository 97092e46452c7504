// The dashboard's range in the organization's local days: a preset is the last N days with today
// (so far) included; from/to are local dates, both included, the range ending at the end of `to`
// or now, whichever is first. The previous range is the equal-length span just before it.
import { z } from "zod";
import { UserError, type DbHandle, type OrgInfo } from "@marketsage/core";
import { addDays, localDate } from "./series.ts";
import { isKpiName, KPI_NAMES } from "./definitions.ts";
import type { Granularity } from "./queries.ts";

export const KPI_PERIODS = ["7d", "14d", "30d", "90d", "180d"] as const;
export type KpiPeriod = (typeof KPI_PERIODS)[number];

/** At most 31 weekly points in a sparkline. */
export const MAX_RANGE_DAYS = 217;
/** Daily points up to this many days, weekly (7-day blocks from the first day) beyond. */
export const MAX_DAILY_POINTS = 31;

export const KpiRangeInput = {
  period: z.enum(KPI_PERIODS).optional().describe("Last N local days with today; default 30d"),
  from: z.iso.date().optional().describe("Or first local day"),
  to: z.iso.date().optional().describe("Last local day, included"),
};

/** One KPI by name (the tools that take one list the names). */
export const KpiEnum = z.enum(KPI_NAMES);

/**
 * A subset of the KPIs by name. Checked against KPI_NAMES with the names in the error, not listed
 * as an enum: the names are in the trend and alert tools' enums and every dashboard answer, and
 * another copy in each tool's schema is ~65 tokens of every conversation.
 */
export const KpiSubset = z
  .array(z.string().refine(isKpiName, { message: `a KPI name: one of ${KPI_NAMES.join(", ")}` }))
  .min(1)
  .max(KPI_NAMES.length);

export interface KpiRange {
  from: Date;
  to: Date;
  previousFrom: Date;
  firstDay: string;
  lastDay: string;
  days: number;
  granularity: Granularity;
  period: KpiPeriod | null;
}

const dayCount = (first: string, last: string) => Math.round((Date.parse(last) - Date.parse(first)) / 86_400_000) + 1;

export async function resolveKpiRange(db: DbHandle, org: Pick<OrgInfo, "timeZone">, i: { period?: KpiPeriod; from?: string; to?: string }, now: Date): Promise<KpiRange> {
  if (i.period && (i.from || i.to)) throw new UserError("Give either period or from/to, not both.");
  const today = localDate(now, org.timeZone);
  let firstDay: string, lastDay: string;
  if (i.from || i.to) {
    lastDay = i.to ?? today;
    firstDay = i.from ?? addDays(lastDay, -29);
    if (firstDay > lastDay) throw new UserError(`The range is empty: from (${firstDay}) is after to (${lastDay}).`);
    if (firstDay > today) throw new UserError(`The range starts after today (${today} in ${org.timeZone}).`);
    if (lastDay > today) lastDay = today;
    if (dayCount(firstDay, lastDay) > MAX_RANGE_DAYS) throw new UserError(`The range is ${dayCount(firstDay, lastDay)} days; at most ${MAX_RANGE_DAYS}.`);
  } else {
    const n = Number((i.period ?? "30d").slice(0, -1));
    lastDay = today;
    firstDay = addDays(today, 1 - n);
  }
  // Local midnights as instants: PostgreSQL's calendar for the zone.
  const [r] = await db.$queryRaw<Array<{ start: Date; end: Date }>>`
    select (${firstDay}::date::timestamp at time zone ${org.timeZone}) as start,
           ((${lastDay}::date + 1)::timestamp at time zone ${org.timeZone}) as "end"`;
  const from = r!.start;
  const to = r!.end.getTime() > now.getTime() ? now : r!.end;
  const days = dayCount(firstDay, lastDay);
  return {
    from,
    to,
    previousFrom: new Date(from.getTime() - (to.getTime() - from.getTime())),
    firstDay,
    lastDay,
    days,
    granularity: days <= MAX_DAILY_POINTS ? "day" : "week",
    period: i.from || i.to ? null : (i.period ?? "30d"),
  };
}

