// get_anomaly_detection: each chosen KPI's daily series (whole local days before today) against
// a seasonal baseline with a robust spread (stats/anomalies.ts: a leave-one-out weekly baseline,
// 1.4826·MAD of its residuals, |z| ≥ 3 warning, ≥ 5 critical). Ratios are judged only on days with
// enough volume behind them and must also leave 3 binomial standard errors (100% clicks of one
// message is no incident); days they could not be judged are filled for the baseline, never
// flagged. Counts that are zero most days (campaign bursts) have no weekly baseline to speak of:
// their non-zero days are compared with one another on a log scale. Cumulative and cross-day KPIs
// (contacts_total, roi) are not scanned. Every KPI says why nothing was flagged when nothing was.
import { defineTool, lines } from "@marketsage/core";
import { roundTo } from "@marketsage/domain";
import { z } from "zod";
import { KPI_DEFS, KPI_NAMES, type KpiName } from "../kpi/index.ts";
import { KpiSubset } from "../kpi/range.ts";
import { dailySeries, fillGaps } from "../series.ts";
import { detectAnomalies, MAD_NORMAL_SCALE, mad, meanAbsoluteDeviation, median } from "../stats/index.ts";
import { kpiRound, kpiText, unitOf } from "./trends.ts";

const SEVERITY_ORDER = { critical: 0, warning: 1 } as const;

const AnomalyOut = z.object({
  kpi: z.string(),
  day: z.string().describe("Local date"),
  value: z.number(),
  expected: z.number(),
  lower: z.number(),
  upper: z.number(),
  deviation: z.number().describe("value − expected"),
  z: z.number().describe("deviation / robust spread"),
  direction: z.enum(["above", "below"]),
  severity: z.enum(["warning", "critical"]),
});

type Status = "ok" | "intermittent" | "too_short" | "flat" | "no_data" | "not_applicable";
const STATUSES = ["ok", "intermittent", "too_short", "flat", "no_data", "not_applicable"] as const;

/** KPIs whose daily values are not events of their own: reported, never scanned. */
const NOT_DAILY: Partial<Record<KpiName, string>> = {
  contacts_total: "cumulative (each day is the day before plus new_contacts): its anomalies are new_contacts'",
  roi: "a day's ROI divides that day's conversion revenue by that day's message cost, which need not belong together: see revenue and cost",
};
/** The KPIs scanned by default. */
export const ANOMALY_KPIS: readonly KpiName[] = KPI_NAMES.filter((k) => !NOT_DAILY[k]);
/** Ratios: days with less volume behind them are not judged. */
export const MIN_VOLUME = 30;
/** Counts and money with at least this share of zero days are intermittent (campaign bursts). */
export const INTERMITTENT_ZERO_SHARE = 0.4;
const MIN_BURSTS = 8;

export interface AnomalyScan {
  time_zone: string;
  from: string;
  to: string;
  method: string;
  kpis: Array<{ kpi: string; unit: string; status: Status; reason: string; spread: number | null; anomalies: number }>;
  anomalies: Array<z.infer<typeof AnomalyOut>>;
}

interface Found { index: number; value: number; expected: number; lower: number; upper: number; z: number }

/** Bursts of an intermittent series against each other: robust z of log values among non-zero days. */
function burstAnomalies(values: readonly number[], warningZ: number): { found: Found[]; spread: number; bursts: number } | null {
  const idx = values.map((v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0);
  if (idx.length < MIN_BURSTS) return null;
  const logs = idx.map((i) => Math.log(values[i]!));
  const med = median(logs);
  let spread = mad(logs) * MAD_NORMAL_SCALE;
  if (spread === 0) spread = Math.sqrt(Math.PI / 2) * meanAbsoluteDeviation(logs);
  spread = Math.max(spread, 0.05);
  const found: Found[] = [];
  idx.forEach((i, k) => {
    const z = (logs[k]! - med) / spread;
    if (Math.abs(z) >= warningZ) found.push({ index: i, value: values[i]!, expected: Math.exp(med), lower: Math.exp(med - warningZ * spread), upper: Math.exp(med + warningZ * spread), z });
  });
  return { found, spread, bursts: idx.length };
}

/** The scan behind the tool (also the report's anomaly section). */
export async function scanAnomalies(
  ctx: { db: Parameters<typeof dailySeries>[0]; org: Parameters<typeof dailySeries>[1]; now: () => Date },
  o: { kpis: readonly KpiName[]; days: number; warningZ: number; criticalZ: number },
): Promise<AnomalyScan> {
  const scanned = o.kpis.filter((k) => !NOT_DAILY[k]);
  const { series } = await dailySeries(ctx.db, ctx.org, scanned.length ? scanned : ["messages_sent"], ctx.now(), o.days);
  const out: AnomalyScan = {
    time_zone: ctx.org.timeZone,
    from: series[0]?.days[0] ?? "",
    to: series[0]?.days.at(-1) ?? "",
    method:
      `daily series: a leave-one-out weekly baseline (median of the 15 days around each day without it + the same-weekday median), spread 1.4826·MAD of the residuals; ` +
      `ratios only on days with ≥ ${MIN_VOLUME} behind them and beyond 3 binomial standard errors too; intermittent counts (≥ ${INTERMITTENT_ZERO_SHARE * 100}% zero days) ` +
      `compare their non-zero days with each other on a log scale; |z| ≥ ${o.warningZ} warning, ≥ ${o.criticalZ} critical`,
    kpis: [],
    anomalies: [],
  };
  const severity = (z: number): "warning" | "critical" => (Math.abs(z) >= o.criticalZ ? "critical" : "warning");
  // The expected range within what the KPI can be: counts and money are never negative, shares at most 1.
  const push = (kpi: KpiName, day: string, f: Found) =>
    out.anomalies.push({
      kpi, day, value: kpiRound(kpi, f.value), expected: kpiRound(kpi, f.expected),
      lower: kpiRound(kpi, Math.max(0, f.lower)), upper: kpiRound(kpi, KPI_DEFS[kpi].unit === "ratio" ? Math.min(1, f.upper) : f.upper),
      deviation: kpiRound(kpi, f.value - f.expected), z: roundTo(f.z, 2), direction: f.z > 0 ? "above" : "below", severity: severity(f.z),
    });
  for (const kpi of o.kpis) {
    const unit = unitOf(kpi, ctx.org.reportingCurrency);
    const why = NOT_DAILY[kpi];
    if (why) {
      out.kpis.push({ kpi, unit, status: "not_applicable", reason: why, spread: null, anomalies: 0 });
      continue;
    }
    const s = series.find((x) => x.kpi === kpi)!;
    const before = out.anomalies.length;
    if (s.volume) {
      // A ratio: judged only where enough is behind it.
      const raw = s.raw.map((v, i) => (v !== null && (s.volume![i] ?? 0) >= MIN_VOLUME ? v : null));
      const judged = raw.filter((v) => v !== null).length;
      if (!judged) {
        out.kpis.push({ kpi, unit, status: "no_data", reason: `no day had ${MIN_VOLUME} or more behind the ratio`, spread: null, anomalies: 0 });
        continue;
      }
      const { values } = fillGaps(raw);
      const r = detectAnomalies(values, { period: 7, times: s.days, warningZ: o.warningZ, criticalZ: o.criticalZ });
      for (const a of r.anomalies) {
        if (raw[a.index] === null) continue;
        const n = s.volume[a.index]!;
        const e = Math.min(1 - 0.5 / n, Math.max(0.5 / n, a.expected));
        if (Math.abs(a.value - a.expected) < 3 * Math.sqrt((e * (1 - e)) / n)) continue;
        push(kpi, a.time!, a);
      }
      const skipped = s.raw.filter((v, i) => v !== null && raw[i] === null).length;
      const reason = `${r.reason}${skipped ? `; ${skipped} day(s) with fewer than ${MIN_VOLUME} behind the ratio not judged` : ""}`;
      out.kpis.push({ kpi, unit, status: r.status, reason, spread: r.spread === null ? null : kpiRound(kpi, r.spread), anomalies: out.anomalies.length - before });
      continue;
    }
    if (!s.values.length) {
      out.kpis.push({ kpi, unit, status: "no_data", reason: "no value on any day (nothing to measure)", spread: null, anomalies: 0 });
      continue;
    }
    const zeros = s.values.filter((v) => v === 0).length;
    if (zeros / s.values.length >= INTERMITTENT_ZERO_SHARE && zeros < s.values.length) {
      const b = burstAnomalies(s.values, o.warningZ);
      const lead = `intermittent: ${zeros} of ${s.values.length} days are 0 (activity comes in bursts, e.g. campaigns)`;
      if (!b) {
        out.kpis.push({ kpi, unit, status: "too_short", reason: `${lead}, and only ${s.values.length - zeros} non-zero days (need ${MIN_BURSTS}) to compare them`, spread: null, anomalies: 0 });
        continue;
      }
      for (const f of b.found) push(kpi, s.days[f.index]!, f);
      out.kpis.push({
        kpi, unit, status: "intermittent", spread: roundTo(b.spread, 3), anomalies: out.anomalies.length - before,
        reason: `${lead}: each of the ${b.bursts} non-zero days is compared with the others on a log scale (median/MAD, spread ${roundTo(b.spread, 3)} in log units); zero days are not judged`,
      });
      continue;
    }
    const r = detectAnomalies(s.values, { period: 7, times: s.days, warningZ: o.warningZ, criticalZ: o.criticalZ });
    for (const a of r.anomalies) if (s.raw[a.index] !== null) push(kpi, a.time!, a);
    out.kpis.push({ kpi, unit, status: r.status, reason: r.reason, spread: r.spread === null ? null : kpiRound(kpi, r.spread), anomalies: out.anomalies.length - before });
  }
  out.anomalies.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || Math.abs(b.z) - Math.abs(a.z) || a.day.localeCompare(b.day));
  return out;
}

export const getAnomalyDetection = defineTool({
  name: "get_anomaly_detection",
  title: "KPI anomalies",
  description:
    "Days whose KPI value leaves its weekly seasonal baseline by ≥ 3 robust standard deviations (median/MAD), with expected range, deviation and " +
    "severity; all KPIs by default. Short or flat series are reported with the reason nothing was flagged.",
  scopes: ["monitoring:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    kpis: KpiSubset.optional().describe("KPI names; default all but contacts_total, roi"),
    days: z.number().int().min(21).max(365).default(90),
    min_severity: z.enum(["warning", "critical"]).default("warning"),
    limit: z.number().int().min(1).max(100).default(20),
  }),
  output: z.object({
    time_zone: z.string(),
    from: z.string(),
    to: z.string(),
    method: z.string(),
    kpis: z.array(z.object({ kpi: z.string(), unit: z.string(), status: z.enum(STATUSES), reason: z.string(), spread: z.number().nullable(), anomalies: z.number().int() })),
    total: z.number().int(),
    anomalies: z.array(AnomalyOut),
  }),
  handler: async (i, ctx) => {
    const kpis = (i.kpis ? [...new Set(i.kpis)] : ANOMALY_KPIS) as KpiName[];
    const scan = await scanAnomalies(ctx, { kpis, days: i.days, warningZ: 3, criticalZ: 5 });
    const kept = scan.anomalies.filter((a) => i.min_severity === "warning" || a.severity === "critical");
    return { ...scan, total: kept.length, anomalies: kept.slice(0, i.limit) };
  },
  render: (o) => {
    const cur = (unit: string) => (unit === "count" || unit === "ratio (0–1)" ? "" : unit);
    const unitOfKpi = new Map(o.kpis.map((k) => [k.kpi, k.unit]));
    return lines(
      `Anomalies in ${o.time_zone}, ${o.from} → ${o.to}: ${o.total} found${o.anomalies.length < o.total ? `, the ${o.anomalies.length} most severe shown` : ""}. Method: ${o.method}.`,
      o.anomalies.map((a) => {
        const k = a.kpi as KpiName;
        const v = (x: number) => kpiText(k, x, cur(unitOfKpi.get(a.kpi) ?? ""));
        return `- ${a.severity.toUpperCase()} ${a.day} ${a.kpi} (${KPI_DEFS[k].label}): ${v(a.value)}, ${a.direction} the expected ${v(a.expected)} (range ${v(a.lower)}–${v(a.upper)}); deviation ${a.deviation > 0 ? "+" : ""}${a.deviation}, z ${a.z}`;
      }),
      "Per KPI:",
      o.kpis.map((k) => `- ${k.kpi} (${k.unit}): status ${k.status}, ${k.anomalies ? `${k.anomalies} anomalies` : "nothing flagged"}${k.spread === null ? "" : `, spread ${k.spread}`}: ${k.reason}`),
    );
  },
});
