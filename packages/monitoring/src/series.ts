// KPI series for the statistics: whole local days of the organization ending before today (today
// is partial and would read as a drop), gaps in ratio series (a day with nothing to divide by)
// filled from the same weekday a week earlier or later, else the nearest day, and counted.
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { kpiSeries, type KpiName } from "./kpi/index.ts";

const DAY = 86_400_000;

export interface DailySeries {
  kpi: KpiName;
  /** Ratios: the volume behind each day's value (see DENOMINATOR); null for counts and money. */
  volume: Array<number | null> | null;
  /** Local dates (YYYY-MM-DD), oldest first. */
  days: string[];
  /** As measured; null where the ratio had no denominator. */
  raw: Array<number | null>;
  /** Gaps filled (see the header); empty when every value is null. */
  values: number[];
  filled: number;
  /** Weekday of days[0] (0 = Sunday). */
  firstWeekday: number;
}

/** The local midnight of `now`'s day and of `days` days before it, in the organization's zone. */
export async function localDayWindow(db: DbHandle, timeZone: string, now: Date, days: number): Promise<{ from: Date; to: Date }> {
  const [r] = await db.$queryRaw<Array<{ from: Date; to: Date }>>`
    select (date_trunc('day', ${now}::timestamptz at time zone ${timeZone}) - make_interval(days => ${days}::int)) at time zone ${timeZone} as "from",
           date_trunc('day', ${now}::timestamptz at time zone ${timeZone}) at time zone ${timeZone} as "to"`;
  return { from: r!.from, to: r!.to };
}

export function fillGaps(raw: ReadonlyArray<number | null>, period = 7): { values: number[]; filled: number } {
  if (raw.every((v) => v === null)) return { values: [], filled: raw.length };
  let filled = 0;
  const values = raw.map((v, i) => {
    if (v !== null) return v;
    filled++;
    for (const j of [i - period, i + period]) if (raw[j] !== undefined && raw[j] !== null) return raw[j]!;
    for (let d = 1; d < raw.length; d++) {
      if (raw[i - d] !== undefined && raw[i - d] !== null) return raw[i - d]!;
      if (raw[i + d] !== undefined && raw[i + d] !== null) return raw[i + d]!;
    }
    return 0;
  });
  return { values, filled };
}

/**
 * The volume a ratio's day rests on, from the companion KPIs: delivery rate — messages sent; click
 * rate — messages delivered (sent × delivery rate); open rate — emails sent (the delivered emails
 * are slightly fewer); visitor conversion rate — visitors. ROI has none (money over money).
 */
const DENOMINATOR: Partial<Record<KpiName, { kpis: KpiName[]; of: (v: Map<KpiName, number | null>) => number | null }>> = {
  delivery_rate: { kpis: ["messages_sent"], of: (v) => v.get("messages_sent") ?? null },
  click_rate: { kpis: ["messages_sent", "delivery_rate"], of: (v) => Math.round((v.get("messages_sent") ?? 0) * (v.get("delivery_rate") ?? 0)) },
  open_rate: { kpis: ["messages_email"], of: (v) => v.get("messages_email") ?? null },
  visitor_conversion_rate: { kpis: ["visitors"], of: (v) => v.get("visitors") ?? null },
};

/** Daily series of the KPIs over the `days` whole local days before today. */
export async function dailySeries(db: DbHandle, org: OrgInfo, kpis: readonly KpiName[], now: Date, days: number): Promise<{ from: Date; to: Date; series: DailySeries[] }> {
  const { from, to } = await localDayWindow(db, org.timeZone, now, days);
  const companions = kpis.flatMap((k) => DENOMINATOR[k]?.kpis ?? []);
  const all = [...new Set([...kpis, ...companions])];
  const m = await kpiSeries(db, org, { kpis: all, from, to, granularity: "day" });
  const series = kpis.map((kpi): DailySeries => {
    const points = m.get(kpi) ?? [];
    const raw = points.map((p) => p.value);
    const { values, filled } = fillGaps(raw);
    const first = points[0]?.start;
    const den = DENOMINATOR[kpi];
    const volume = den ? points.map((_, i) => den.of(new Map(den.kpis.map((k) => [k, m.get(k)?.[i]?.value ?? null] as const)))) : null;
    return { kpi, volume, days: points.map((p) => p.start), raw, values, filled, firstWeekday: first ? new Date(`${first}T00:00:00Z`).getUTCDay() : 0 };
  });
  return { from, to, series };
}

/** The local date `n` days after a YYYY-MM-DD date. */
export const addDays = (day: string, n: number): string => new Date(new Date(`${day}T00:00:00Z`).getTime() + n * DAY).toISOString().slice(0, 10);
