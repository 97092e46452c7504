// generate_performance_report: an executive, marketing or technical report over a range of the
// organization's local days, composed only of what the other monitoring tools compute — the
// figures are get_kpi_dashboard's (its handler, same input), the outlook is
// analyze_performance_trends' (its handler: 90 days, 14-day horizon), the anomalies are
// get_anomaly_detection's scan (scanAnomalies, the days that fall in the range) and the alerts are
// get_alerts' open ones (read, not evaluated: the report only reads). The charts are drawn from
// the chart descriptors of the validated output (attachments), so a picture shows exactly the
// numbers the structured content and the text carry. The report is also a resource.
import { defineTool, lines, type ResourceDefinition, type ToolContext } from "@marketsage/core";
import { formatMoney, minorUnits } from "@marketsage/domain";
import { z } from "zod";
import { CHART_UNITS, type ChartSpec } from "../charts/spec.ts";
import { KPI_DEFS, KPI_NAMES, KpiRangeInput, localDate, type KpiName } from "../kpi/index.ts";
import { addDays } from "../series.ts";
import { getAlerts } from "./alerts.ts";
import { ANOMALY_KPIS, scanAnomalies } from "./anomalies.ts";
import { getKpiDashboard } from "./kpi.ts";
import { analyzePerformanceTrends } from "./trends.ts";

export const REPORT_KINDS = ["executive", "marketing", "technical"] as const;
type Kind = (typeof REPORT_KINDS)[number];

/** analyze_performance_trends' input for the outlook (its defaults, a 14-day horizon). */
export const OUTLOOK = { days: 90, horizon_days: 14, granularity: "day" } as const;
/** Days of actual values before the forecast in the outlook chart. */
export const OUTLOOK_HISTORY_DAYS = 14;
/** get_anomaly_detection's thresholds and its default history. */
export const ANOMALY_SCAN = { days: 90, warningZ: 3, criticalZ: 5 } as const;
export const MAX_ANOMALIES = 5;
export const MAX_ALERTS = 3;

interface Plan {
  title: string;
  figures: KpiName[];
  outlook: KpiName | null;
  anomalies: readonly KpiName[];
  /** Line charts of a KPI against the previous range, in order with the others below. */
  charts: Array<{ vs: KpiName } | { outlook: true } | { channels: true } | { rates: true }>;
}

const PLANS: Record<Kind, Plan> = {
  executive: {
    title: "Executive report",
    figures: ["contacts_total", "new_contacts", "messages_sent", "conversions", "revenue", "cost", "roi"],
    outlook: "revenue",
    anomalies: ["new_contacts", "messages_sent", "conversions", "revenue", "cost"],
    charts: [{ vs: "revenue" }, { outlook: true }, { channels: true }, { vs: "conversions" }],
  },
  marketing: {
    title: "Marketing report",
    figures: ["messages_sent", "messages_email", "messages_sms", "messages_whatsapp", "delivery_rate", "open_rate", "click_rate", "active_contacts", "conversions", "revenue", "visitors", "visitor_conversion_rate"],
    outlook: null,
    anomalies: ANOMALY_KPIS,
    charts: [{ channels: true }, { rates: true }, { vs: "conversions" }, { vs: "messages_sent" }],
  },
  technical: {
    title: "Technical report",
    figures: ["messages_sent", "messages_email", "messages_sms", "messages_whatsapp", "delivery_rate", "open_rate", "click_rate", "cost"],
    outlook: "delivery_rate",
    anomalies: ["delivery_rate", "messages_sent"],
    charts: [{ vs: "delivery_rate" }, { outlook: true }, { channels: true }, { vs: "messages_sent" }],
  },
};

const CHANNELS = [
  { kpi: "messages_email", name: "Email" },
  { kpi: "messages_sms", name: "SMS" },
  { kpi: "messages_whatsapp", name: "WhatsApp" },
] as const;
const RATES: readonly KpiName[] = ["delivery_rate", "open_rate", "click_rate"];

/** What a count counts, for the text. */
const NOUN: Partial<Record<KpiName, string>> = {
  contacts_total: "contacts", new_contacts: "contacts", active_contacts: "contacts", messages_sent: "messages", messages_email: "emails", messages_sms: "SMS",
  messages_whatsapp: "WhatsApp messages", conversions: "conversions", visitors: "visitors",
};

const Num = z.number().nullable();
const Unit = z.enum(CHART_UNITS);

const ReportOut = z.object({
  kind: z.enum(REPORT_KINDS),
  title: z.string(),
  range: z.object({
    from: z.string(), to: z.string(), previous_from: z.string(), first_day: z.string(), last_day: z.string(), days: z.number().int(), time_zone: z.string(), period: z.string().nullable(),
  }),
  currency: z.string(),
  granularity: z.enum(["day", "week"]),
  figures: z.array(z.object({ kpi: z.enum(KPI_NAMES), label: z.string(), unit: Unit, value: Num, previous: Num, change: Num, change_ratio: Num })),
  fx_missing: z.number().int(),
  outlook: z
    .object({
      kpi: z.enum(KPI_NAMES), direction: z.string(), theil_sen: Num, mann_kendall_p: Num, method: z.string(), beats_seasonal_naive: z.boolean().nullable(),
      history_from: z.string(), history_to: z.string(), horizon_days: z.number().int(),
    })
    .nullable(),
  anomalies: z.object({ kpis: z.array(z.enum(KPI_NAMES)), total: z.number().int(), list: z.array(z.object({ kpi: z.string(), day: z.string(), value: z.number(), expected: z.number(), lower: z.number(), upper: z.number(), z: z.number(), severity: z.enum(["warning", "critical"]) })) }),
  alerts: z.object({ open: z.number().int(), list: z.array(z.object({ id: z.string(), metric: z.string(), severity: z.string(), message: z.string(), fired_at: z.string() })) }),
  sections: z.array(z.object({ title: z.string(), markdown: z.string() })),
  charts: z.array(
    z.object({
      title: z.string(), kind: z.enum(["line", "bar"]), unit: Unit, x: z.array(z.string()),
      series: z.array(z.object({ name: z.string(), values: z.array(Num), dashed: z.boolean() })),
      band: z.object({ name: z.string(), lower: z.array(Num), upper: z.array(Num) }).nullable(),
    }),
  ),
  images: z.boolean(),
});
type ReportOut = z.infer<typeof ReportOut>;
type Figure = ReportOut["figures"][number];

// ---- numbers as text -------------------------------------------------------------------------

const count = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const sign = (s: string, x: number) => (x > 0 ? `+${s}` : s);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
/** A plain number of a unit: money with its minor-unit decimals and no code, ratios in percent. */
function plain(unit: ChartSpec["unit"], x: number | null, currency: string): string {
  if (x === null) return "–";
  if (unit === "ratio") return pct(x);
  if (unit === "money") {
    const d = minorUnits(currency);
    return x.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  }
  return count.format(x);
}
/** A KPI value with its unit spelled out: "1,234.00 NGN", "95.12%", "12,345 messages". */
function spelled(kpi: KpiName, x: number | null, currency: string): string {
  if (x === null) return "n/a";
  const unit = KPI_DEFS[kpi].unit;
  if (unit === "money") return formatMoney({ amount: x, currency });
  if (unit === "ratio") return pct(x);
  return `${count.format(x)} ${NOUN[kpi] ?? ""}`.trim();
}
function changeText(f: Figure, currency: string): string {
  if (f.change === null) return "n/a";
  return sign(f.unit === "money" ? formatMoney({ amount: f.change, currency }) : f.unit === "ratio" ? `${pct(f.change)} pts` : count.format(f.change), f.change);
}

// ---- the handler's parts -----------------------------------------------------------------------

type RangeInput = { period?: "7d" | "14d" | "30d" | "90d" | "180d"; from?: string; to?: string };

const bucketDays = (first: string, n: number, step: number) => Array.from({ length: n }, (_, i) => addDays(first, i * step));
const daysBetween = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000);

async function dashboard(ctx: ToolContext, range: RangeInput, kpis: KpiName[]) {
  return getKpiDashboard.output.parse(await getKpiDashboard.handler({ ...range, kpis }, ctx));
}

function figureSection(o: Pick<ReportOut, "figures" | "currency" | "range" | "fx_missing">): string {
  return [
    `| KPI | Value | Previous | Change (rates: points) | Change % |`,
    `|---|---|---|---|---|`,
    ...o.figures.map((f) => {
      const k = f.kpi as KpiName;
      return `| ${f.label} (${f.kpi}, ${f.unit}) | ${spelled(k, f.value, o.currency)} | ${spelled(k, f.previous, o.currency)} | ${changeText(f, o.currency)} | ${f.change_ratio === null ? "n/a" : sign(pct(f.change_ratio), f.change_ratio)} |`;
    }),
    "",
    `Previous: the equal span before the range (from ${o.range.previous_from}). Money in ${o.currency} at the stored FX rate of each day` +
      `${o.fx_missing ? `; ${o.fx_missing} amount(s) without a stored rate left out` : "; amounts without a stored FX rate: 0"}.`,
  ].join("\n");
}

export const generatePerformanceReport = defineTool({
  name: "generate_performance_report",
  title: "Performance report",
  description:
    "Markdown report (executive, marketing or technical) over local days vs the previous equal range: key KPIs, forecast, anomalies, " +
    "open alerts, up to 4 PNG charts. Its figures are get_kpi_dashboard's, analyze_performance_trends', get_anomaly_detection's and get_alerts'.",
  scopes: ["monitoring:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    kind: z.enum(REPORT_KINDS).default("executive"),
    ...KpiRangeInput,
    charts: z.boolean().default(true),
  }),
  output: ReportOut,
  handler: async (i, ctx) => {
    const plan = PLANS[i.kind];
    const range: RangeInput = { ...(i.period ? { period: i.period } : {}), ...(i.from ? { from: i.from } : {}), ...(i.to ? { to: i.to } : {}) };
    const vs = plan.charts.flatMap((c) => ("vs" in c ? [c.vs] : []));
    const wanted = [...new Set<KpiName>([...plan.figures, ...vs, ...CHANNELS.map((c) => c.kpi), ...(plan.charts.some((c) => "rates" in c) ? RATES : [])])];
    const cur = await dashboard(ctx, range, KPI_NAMES.filter((k) => wanted.includes(k)));
    const r = cur.range;
    const step = cur.series_granularity === "day" ? 1 : 7;
    const prevFirst = addDays(r.first_day, -r.days);
    const prevLast = addDays(r.first_day, -1);
    // The anomaly scan covers every whole day of the range before today (at least its default 90).
    const scanDays = Math.min(365, Math.max(ANOMALY_SCAN.days, daysBetween(r.first_day, localDate(ctx.now(), ctx.org.timeZone))));
    const [prev, trend, scan, open] = await Promise.all([
      vs.length ? dashboard(ctx, { from: prevFirst, to: prevLast }, KPI_NAMES.filter((k) => vs.includes(k))) : null,
      plan.outlook ? analyzePerformanceTrends.output.parse(await analyzePerformanceTrends.handler({ kpi: plan.outlook, ...OUTLOOK }, ctx)) : null,
      scanAnomalies(ctx, { kpis: plan.anomalies, days: scanDays, warningZ: ANOMALY_SCAN.warningZ, criticalZ: ANOMALY_SCAN.criticalZ }),
      (async () => getAlerts.output.parse(await getAlerts.handler({ status: "open", limit: MAX_ALERTS, evaluate: false }, ctx)))(),
    ]);
    const kpi = (k: KpiName) => cur.kpis.find((x) => x.kpi === k)!;
    const currency = ctx.org.reportingCurrency;
    const x = bucketDays(r.first_day, kpi(wanted[0]!).series.length, step);

    const figures = plan.figures.map((k) => {
      const f = kpi(k);
      return { kpi: f.kpi, label: f.label, unit: f.unit, value: f.value, previous: f.previous, change: f.change, change_ratio: f.change_ratio };
    });
    const inRange = scan.anomalies.filter((a) => a.day >= r.first_day && a.day <= r.last_day);
    const anomalies = {
      kpis: plan.anomalies.filter((k) => scan.kpis.some((s) => s.kpi === k && s.status !== "not_applicable")),
      total: inRange.length,
      list: inRange.slice(0, MAX_ANOMALIES).map((a) => ({ kpi: a.kpi, day: a.day, value: a.value, expected: a.expected, lower: a.lower, upper: a.upper, z: a.z, severity: a.severity })),
    };
    const alerts = { open: open.open, list: open.alerts.map((a) => ({ id: a.id, metric: a.metric, severity: a.severity, message: a.message, fired_at: a.fired_at })) };

    const charts: ReportOut["charts"] = [];
    for (const c of plan.charts) {
      if ("vs" in c) {
        const k = c.vs;
        const per = step === 1 ? "day" : "week";
        charts.push({
          title: `${KPI_DEFS[k].label} by ${per}: ${r.first_day} – ${r.last_day} vs ${prevFirst} – ${prevLast}`,
          kind: "line", unit: KPI_DEFS[k].unit, x, band: null,
          series: [
            { name: "this range", values: kpi(k).series, dashed: false },
            { name: `previous ${r.days} days`, values: prev!.kpis.find((p) => p.kpi === k)!.series, dashed: true },
          ],
        });
      } else if ("outlook" in c && trend) {
        const hist = trend.series.slice(-OUTLOOK_HISTORY_DAYS);
        const pts = trend.forecast.points;
        const pad = (n: number) => Array<null>(n).fill(null);
        charts.push({
          title: `${KPI_DEFS[plan.outlook!].label}: last ${hist.length} days and ${pts.length}-day forecast (${trend.forecast.method})`,
          kind: "line", unit: KPI_DEFS[plan.outlook!].unit,
          x: [...hist.map((p) => p.start), ...pts.map((p) => p.day)],
          series: [
            { name: "actual", values: [...hist.map((p) => p.value), ...pad(pts.length)], dashed: false },
            { name: "forecast", values: [...pad(hist.length), ...pts.map((p) => p.mean)], dashed: true },
          ],
          band: { name: "80% band", lower: [...pad(hist.length), ...pts.map((p) => p.lower80)], upper: [...pad(hist.length), ...pts.map((p) => p.upper80)] },
        });
      } else if ("channels" in c) {
        charts.push({
          title: `Messages sent by channel: ${r.first_day} – ${r.last_day} vs previous`, kind: "bar", unit: "count", x: CHANNELS.map((ch) => ch.name), band: null,
          series: [
            { name: "this range", values: CHANNELS.map((ch) => kpi(ch.kpi).value), dashed: false },
            { name: "previous range", values: CHANNELS.map((ch) => kpi(ch.kpi).previous), dashed: false },
          ],
        });
      } else if ("rates" in c) {
        charts.push({
          title: `Delivery, open and click rates by ${step === 1 ? "day" : "week"}`, kind: "line", unit: "ratio", x, band: null,
          series: RATES.map((k) => ({ name: KPI_DEFS[k].label, values: kpi(k).series, dashed: false })),
        });
      }
    }

    const outlook = trend
      ? {
          kpi: trend.kpi as KpiName, direction: trend.slope.direction, theil_sen: trend.slope.theil_sen, mann_kendall_p: trend.slope.mann_kendall_p, method: trend.forecast.method,
          beats_seasonal_naive: trend.forecast.beats_seasonal_naive, history_from: trend.from, history_to: trend.to, horizon_days: trend.forecast.points.length,
        }
      : null;

    const base = { range: r, currency, figures, fx_missing: cur.fx_missing };
    const sections: ReportOut["sections"] = [{ title: "Headline figures", markdown: figureSection(base) }];
    if (outlook) {
      const k = outlook.kpi;
      const unitWord = KPI_DEFS[k].unit === "money" ? `${currency} per day` : KPI_DEFS[k].unit === "ratio" ? "(ratio 0–1) per day" : "per day";
      sections.push({
        title: `${KPI_DEFS[k].label} outlook`,
        markdown:
          `${KPI_DEFS[k].label} (${k}) over ${outlook.history_from} – ${outlook.history_to}: ${outlook.direction} (Theil–Sen slope ${outlook.theil_sen ?? "n/a"} ${unitWord}, ` +
          `Mann–Kendall p ${outlook.mann_kendall_p ?? "n/a"}). Forecast for the next ${outlook.horizon_days} days by ${outlook.method}` +
          (outlook.beats_seasonal_naive === false ? ", which did not beat seasonal naive in the backtest: read it as 'like the same weekday recently'." : outlook.beats_seasonal_naive ? ", which beat seasonal naive in the backtest." : ".") +
          ` Daily values and the 80% band: see the chart data below.`,
      });
    }
    sections.push({
      title: "Anomalies",
      markdown: anomalies.total
        ? lines(
            `${anomalies.total} anomalous day(s) in the range among ${anomalies.kpis.join(", ")}${anomalies.total > anomalies.list.length ? `; the ${anomalies.list.length} most severe` : ""}:`,
            anomalies.list.map((a) => {
              const k = a.kpi as KpiName;
              const u = KPI_DEFS[k].unit;
              return `- ${a.severity} ${a.day} ${KPI_DEFS[k].label} (${a.kpi}): ${plain(u, a.value, currency)} vs expected ${plain(u, a.expected, currency)} (range ${plain(u, a.lower, currency)} – ${plain(u, a.upper, currency)}${u === "money" ? ` ${currency}` : ""}), z ${a.z}`;
            }),
          )
        : `No anomalous day in the range among ${anomalies.kpis.join(", ")} (weekly baseline, robust z ≥ ${ANOMALY_SCAN.warningZ}).`,
    });
    sections.push({
      title: "Open alerts",
      markdown: alerts.open
        ? lines(
            `${alerts.open} open alert(s)${alerts.open > alerts.list.length ? `, the ${alerts.list.length} newest` : ""}:`,
            alerts.list.map((a) => `- ${a.severity} ${a.metric}: ${a.message} (fired ${a.fired_at}; alert ${a.id})`),
          )
        : "No open alerts.",
    });
    return { kind: i.kind, title: `${plan.title}: ${r.first_day} – ${r.last_day}`, ...base, granularity: cur.series_granularity, outlook, anomalies, alerts, sections, charts, images: i.charts };
  },
  render: (o) => renderReport(o),
  // The renderer (ECharts, resvg's native module) loads with the first chart, not with the server.
  attachments: async (o) => {
    if (!o.images) return [];
    const { chartPng } = await import("../charts/index.ts");
    return o.charts.map((c) => ({ type: "image" as const, data: chartPng(c, o.currency).toString("base64"), mimeType: "image/png" }));
  },
});

/** The Markdown report: header, sections, and the data each chart is drawn from. */
export function renderReport(o: ReportOut): string {
  const r = o.range;
  const head =
    `# ${o.title}\n\n${o.kind} report, ${r.days} local days in ${r.time_zone}${r.period ? ` (${r.period})` : ""}, ${r.from} – ${r.to}, by ${o.granularity}; ` +
    `units: counts, rates as % (ratio 0–1), money in ${o.currency}.`;
  const body = o.sections.map((s) => `## ${s.title}\n\n${s.markdown}`);
  // One table per x axis: charts drawn over the same days share their rows.
  const groups = new Map<string, number[]>();
  o.charts.forEach((c, n) => {
    const key = `${c.kind}:${c.x.join(",")}`;
    groups.set(key, [...(groups.get(key) ?? []), n]);
  });
  const charts = [...groups.values()].map((ns) => {
    const cs = ns.map((n) => o.charts[n]!);
    const cols = ns.flatMap((n) => {
      const c = o.charts[n]!;
      return [...c.series.map((s) => ({ name: `${n + 1}: ${s.name}`, values: s.values, unit: c.unit })), ...(c.band ? [{ name: `${n + 1}: ${c.band.name} low`, values: c.band.lower, unit: c.unit }, { name: `${n + 1}: ${c.band.name} high`, values: c.band.upper, unit: c.unit }] : [])];
    });
    return lines(
      ns.map((n) => {
        const c = o.charts[n]!;
        return `### Chart ${n + 1} (${c.kind}, ${c.unit}${c.unit === "money" ? ` ${o.currency}` : ""}): ${c.title}`;
      }),
      `| ${cs[0]!.kind === "bar" ? "" : "day"} | ${cols.map((c) => c.name).join(" | ")} |`,
      `|---|${cols.map(() => "---").join("|")}|`,
      cs[0]!.x.map((x, i) => `| ${x} | ${cols.map((c) => plain(c.unit, c.values[i] ?? null, o.currency)).join(" | ")} |`),
    );
  });
  return [
    head,
    ...body,
    ...(o.charts.length ? [`## Chart data\n\n${o.images ? `The ${o.charts.length} chart(s) follow as PNG images, drawn from these numbers.` : "Charts not drawn (charts: false); their numbers:"}`] : []),
    ...charts,
  ].join("\n\n");
}

/** The report as a resource: report://{kind}/{period}, JSON without images. */
export const reportResource: ResourceDefinition = {
  name: "performance_report",
  title: "Performance report",
  description: "generate_performance_report as JSON, without images: report://executive/30d (kind: executive, marketing, technical; period: 7d, 14d, 30d, 90d, 180d).",
  uriTemplate: "report://{kind}/{period}",
  tool: "generate_performance_report",
  args: (p) => ({ kind: p.kind, period: p.period, charts: false }),
};
