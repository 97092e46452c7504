// generate_performance_report through the production seam (the real SDK client) on the demo data:
// every figure, chart series, outlook, anomaly and alert in the report's structured content equals
// what get_kpi_dashboard, analyze_performance_trends, get_anomaly_detection and get_alerts return
// for the same input (called here too); the answer carries one real PNG of the chart size per
// chart; the text carries every structured value; strict input; organization B sees its own
// numbers, never A's; the report as a resource (JSON, no images). A speed note goes to stderr.
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { generatePerformanceReport, reportResource, OUTLOOK, OUTLOOK_HISTORY_DAYS, MAX_ALERTS, MAX_ANOMALIES } from "../src/tools/report.ts";
import { getKpiDashboard } from "../src/tools/kpi.ts";
import { analyzePerformanceTrends } from "../src/tools/trends.ts";
import { getAnomalyDetection } from "../src/tools/anomalies.ts";
import { getAlerts, setAlertThreshold } from "../src/tools/alerts.ts";
import { CHART_HEIGHT, CHART_WIDTH, pngSize } from "../src/charts/index.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";

const TOOLS = [generatePerformanceReport, getKpiDashboard, analyzePerformanceTrends, getAnomalyDetection, getAlerts, setAlertThreshold];
type Org = (typeof DEMO_ORGS)[number];
const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const B = DEMO_ORGS[1]!;
let runtime: Runtime;
const clients = new Map<string, TestClient>();

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => tdb.now });
});
afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await runtime?.close();
});

async function as(org: Org, role: Role = "USER"): Promise<TestClient> {
  const k = `${org.slug}:${role}`;
  let c = clients.get(k);
  if (!c) {
    c = await connectTestClient({ server: "monitoring", tools: TOOLS, resources: [reportResource], runtime, apiKey: demoApiKey(org, role) });
    clients.set(k, c);
  }
  return c;
}

interface Answer {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  out: any;
  text: string;
  images: Array<{ data: string; mimeType: string }>;
  ms: number;
}
async function call(org: Org, name: string, args: Record<string, unknown>, role: Role = "USER"): Promise<Answer> {
  const c = await as(org, role);
  const t0 = performance.now();
  const r = await c.client.callTool({ name, arguments: args });
  const ms = performance.now() - t0;
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  const content = r.content as Array<{ type: string; text?: string; data?: string; mimeType?: string }>;
  const text = content.filter((x) => x.type === "text").map((x) => x.text!).join("\n");
  expect(valuesMissingFromText(r.structuredContent, TOOLS.find((t) => t.name === name)!.output, text), text.slice(0, 3000)).toEqual([]);
  return { out: r.structuredContent, text, images: content.filter((x) => x.type === "image").map((x) => ({ data: x.data!, mimeType: x.mimeType! })), ms };
}

const plusDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const localDay = (d: Date, tz: string) => new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
const daysBetween = (a: string, b: string) => Math.round((Date.parse(b) - Date.parse(a)) / 86_400_000);

function expectPngs(images: Answer["images"], n: number): Buffer[] {
  expect(images).toHaveLength(n);
  return images.map((im) => {
    expect(im.mimeType).toBe("image/png");
    const png = Buffer.from(im.data, "base64");
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    return png;
  });
}

/** The report's figures, charts, outlook, anomalies and alerts against the other tools' answers for the same input. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function checkAgainstTools(org: Org, rep: any, range: Record<string, unknown>): Promise<void> {
  const kpis = rep.figures.map((f: { kpi: string }) => f.kpi);
  const dash = (await call(org, "get_kpi_dashboard", { ...range })).out;
  expect(rep.range).toEqual(dash.range);
  expect(rep.granularity).toBe(dash.series_granularity);
  expect(rep.currency).toBe(org.reportingCurrency);
  expect(rep.fx_missing).toBe(dash.fx_missing);
  const byKpi = new Map(dash.kpis.map((k: { kpi: string }) => [k.kpi, k]));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const d = (k: string): any => byKpi.get(k);
  for (const f of rep.figures) {
    const { series: _s, currency: _c, ...want } = d(f.kpi);
    expect(f, f.kpi).toEqual(want);
  }
  // A subset of KPIs gives the same numbers (the report asks for a subset).
  const sub = (await call(org, "get_kpi_dashboard", { ...range, kpis })).out;
  for (const k of sub.kpis) expect(k, k.kpi).toEqual(d(k.kpi));

  const r = rep.range;
  const step = rep.granularity === "day" ? 1 : 7;
  const x = d("messages_sent").series.map((_: unknown, i: number) => plusDays(r.first_day, i * step));
  const prevRange = { from: plusDays(r.first_day, -r.days), to: plusDays(r.first_day, -1) };
  let prev: Map<string, { series: Array<number | null> }> | undefined;
  for (const c of rep.charts) {
    if (c.kind === "bar") {
      expect(c.x).toEqual(["Email", "SMS", "WhatsApp"]);
      expect(c.series[0].values).toEqual(["messages_email", "messages_sms", "messages_whatsapp"].map((k) => d(k).value));
      expect(c.series[1].values).toEqual(["messages_email", "messages_sms", "messages_whatsapp"].map((k) => d(k).previous));
    } else if (c.band) {
      const kpi = rep.outlook.kpi;
      const t = (await call(org, "analyze_performance_trends", { kpi, ...OUTLOOK })).out;
      const hist = t.series.slice(-OUTLOOK_HISTORY_DAYS);
      const pts = t.forecast.points;
      expect(c.x).toEqual([...hist.map((p: { start: string }) => p.start), ...pts.map((p: { day: string }) => p.day)]);
      expect(c.series[0].values.slice(0, hist.length)).toEqual(hist.map((p: { value: number | null }) => p.value));
      expect(c.series[1].values.slice(hist.length)).toEqual(pts.map((p: { mean: number }) => p.mean));
      expect(c.band.lower.slice(hist.length)).toEqual(pts.map((p: { lower80: number }) => p.lower80));
      expect(c.band.upper.slice(hist.length)).toEqual(pts.map((p: { upper80: number }) => p.upper80));
      expect(rep.outlook).toEqual({
        kpi, direction: t.slope.direction, theil_sen: t.slope.theil_sen, mann_kendall_p: t.slope.mann_kendall_p, method: t.forecast.method,
        beats_seasonal_naive: t.forecast.beats_seasonal_naive, history_from: t.from, history_to: t.to, horizon_days: pts.length,
      });
    } else if (c.series.length === 2) {
      // A KPI against the previous range: both series are get_kpi_dashboard's.
      const kpi = dash.kpis.find((k: { label: string }) => c.title.startsWith(`${k.label} by`)).kpi;
      prev ??= new Map((await call(org, "get_kpi_dashboard", prevRange)).out.kpis.map((k: { kpi: string }) => [k.kpi, k]));
      expect(c.x).toEqual(x);
      expect(c.series[0].values).toEqual(d(kpi).series);
      expect(c.series[1].values).toEqual(prev.get(kpi)!.series);
      expect(c.series[1].values).toHaveLength(x.length);
    } else {
      expect(c.x).toEqual(x);
      expect(c.series.map((s: { values: unknown }) => s.values)).toEqual(["delivery_rate", "open_rate", "click_rate"].map((k) => d(k).series));
    }
  }
  if (!rep.charts.some((c: { band: unknown }) => c.band)) expect(rep.outlook).toBeNull();

  // Anomalies: get_anomaly_detection's over the same KPIs and history, the days in the range.
  const today = localDay(tdb.now, org.timeZone);
  const days = Math.min(365, Math.max(90, daysBetween(r.first_day, today)));
  const an = (await call(org, "get_anomaly_detection", { kpis: rep.anomalies.kpis, days, limit: 100 })).out;
  const inRange = an.anomalies.filter((a: { day: string }) => a.day >= r.first_day && a.day <= r.last_day);
  expect(rep.anomalies.total).toBe(inRange.length);
  expect(rep.anomalies.list).toEqual(
    inRange.slice(0, MAX_ANOMALIES).map((a: Record<string, unknown>) => ({ kpi: a.kpi, day: a.day, value: a.value, expected: a.expected, lower: a.lower, upper: a.upper, z: a.z, severity: a.severity })),
  );
  // Alerts: get_alerts' open ones, read without evaluating.
  const al = (await call(org, "get_alerts", { evaluate: false, limit: MAX_ALERTS })).out;
  expect(rep.alerts.open).toBe(al.open);
  expect(rep.alerts.list).toEqual(al.alerts.map((a: Record<string, unknown>) => ({ id: a.id, metric: a.metric, severity: a.severity, message: a.message, fired_at: a.fired_at })));
}

describe("generate_performance_report", () => {
  it("executive, last 30 days, org A: every figure is the other tools'; 4 PNG charts; the text carries it all (speed note on stderr)", async () => {
    const rep = await call(A, "generate_performance_report", {});
    const warm = await call(A, "generate_performance_report", {});
    const bare = await call(A, "generate_performance_report", { charts: false });
    process.stderr.write(
      `[speed] generate_performance_report executive 30d, demo scale: first call ${rep.ms.toFixed(0)} ms, again ${warm.ms.toFixed(0)} ms with 4 charts, ` +
        `${bare.ms.toFixed(0)} ms without (text ${rep.text.length} chars, PNGs ${rep.images.map((i) => Math.round((i.data.length * 3) / 4 / 1024)).join("/")} KiB)\n`,
    );
    expect({ ...bare.out, images: true }).toEqual(rep.out);
    expect(rep.out.kind).toBe("executive");
    expect(rep.out.images).toBe(true);
    expect(rep.out.range.period).toBe("30d");
    expect(rep.out.figures.map((f: { kpi: string }) => f.kpi)).toEqual(["contacts_total", "new_contacts", "messages_sent", "conversions", "revenue", "cost", "roi"]);
    expect(rep.out.outlook.kpi).toBe("revenue");
    expect(rep.out.charts.map((c: { kind: string }) => c.kind)).toEqual(["line", "line", "bar", "line"]);
    await checkAgainstTools(A, rep.out, {});
    const pngs = expectPngs(rep.images, 4);
    writeFileSync("/tmp/report-chart.png", pngs[0]!);
    pngs.forEach((p, i) => writeFileSync(`/tmp/report-chart-${i + 1}.png`, p));
    writeFileSync("/tmp/report.md", rep.text);
    expect(rep.text.length).toBeLessThan(6000);
    // Money with its currency, rates as percent, counts with their unit.
    const revenue = rep.out.figures.find((f: { kpi: string }) => f.kpi === "revenue");
    expect(rep.text).toContain(`${revenue.value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${A.reportingCurrency}`);
    expect(rep.text).toMatch(/\| Messages sent \(messages_sent, count\) \| [\d,]+ messages \|/);
    expect(rep.text).toMatch(/^# Executive report: /);
    // The demo data give the report something to say.
    expect(revenue.value).toBeGreaterThan(0);
    expect(rep.out.charts[0].series[0].values.some((v: number | null) => v !== null && v > 0)).toBe(true);
  });

  it("marketing and technical, org B, a custom 14-day range: the same equalities, rates chart, delivery-rate outlook", async () => {
    const last = plusDays(localDay(tdb.now, B.timeZone), -3);
    const range = { from: plusDays(last, -13), to: last };
    const m = await call(B, "generate_performance_report", { kind: "marketing", ...range });
    expect(m.out.range).toMatchObject({ first_day: range.from, last_day: range.to, days: 14, period: null });
    expect(m.out.outlook).toBeNull();
    expect(m.out.anomalies.kpis.length).toBeGreaterThan(5);
    expect(m.out.charts.map((c: { kind: string }) => c.kind)).toEqual(["bar", "line", "line", "line"]);
    await checkAgainstTools(B, m.out, range);
    expectPngs(m.images, 4);
    expect(m.text.length).toBeLessThan(6000);

    const t = await call(B, "generate_performance_report", { kind: "technical", ...range });
    expect(t.out.outlook.kpi).toBe("delivery_rate");
    expect(t.out.anomalies.kpis).toEqual(["delivery_rate", "messages_sent"]);
    await checkAgainstTools(B, t.out, range);
    expectPngs(t.images, 4);
    expect(t.text).toMatch(/^# Technical report: /);
    expect(t.text.length).toBeLessThan(6000);
  });

  it("a 90-day range is weekly; charts: false answers the same numbers without images", async () => {
    const w = await call(A, "generate_performance_report", { kind: "marketing", period: "90d", charts: false });
    expect(w.out.granularity).toBe("week");
    expect(w.out.images).toBe(false);
    expect(w.images).toHaveLength(0);
    expect(w.out.charts[1].x).toHaveLength(13);
    await checkAgainstTools(A, w.out, { period: "90d" });
    const withImages = await call(A, "generate_performance_report", { kind: "marketing", period: "90d" });
    expect({ ...withImages.out, images: false }).toEqual(w.out);
    expectPngs(withImages.images, 4);
  });

  it("open alerts are get_alerts' (read, not evaluated)", async () => {
    const rule = await call(A, "set_alert_threshold", { name: "report-test-sends", metric: "messages_sent", operator: "above", value: 0, window_minutes: 43_200, severity: "WARNING" }, "ADMIN");
    const before = await call(A, "generate_performance_report", { kind: "technical", charts: false });
    // The report only reads: the rule has not fired yet.
    expect(before.out.alerts.list.some((a: { metric: string }) => a.metric === "messages_sent")).toBe(false);
    const fired = await call(A, "get_alerts", {}, "ADMIN");
    expect(fired.out.evaluated.fired).toBeGreaterThanOrEqual(1);
    const after = await call(A, "generate_performance_report", { kind: "technical", charts: false });
    expect(after.out.alerts.open).toBeGreaterThanOrEqual(before.out.alerts.open + 1);
    const mine = after.out.alerts.list.find((a: { metric: string }) => a.metric === "messages_sent");
    expect(mine).toBeDefined();
    expect(after.text).toContain(mine.id);
    await checkAgainstTools(A, after.out, {});
    expect(rule.out.threshold.name).toBe("report-test-sends");
    // The longest text: 31 daily points, open alerts listed.
    const today = localDay(tdb.now, A.timeZone);
    for (const kind of ["executive", "marketing", "technical"]) {
      const big = await call(A, "generate_performance_report", { kind, from: plusDays(today, -30), to: today });
      expect(big.out.alerts.list.length).toBeGreaterThan(0);
      expect(big.out.charts[0].x.length).toBeGreaterThanOrEqual(3);
      process.stderr.write(`[size] ${kind} 31 days with alerts: text ${big.text.length} chars\n`);
      writeFileSync(`/tmp/report-${kind}-31d.md`, big.text);
      expect(big.text.length, kind).toBeLessThan(6000);
      expectPngs(big.images, 4).forEach((png, i) => writeFileSync(`/tmp/report-${kind}-31d-${i + 1}.png`, png));
    }
  });

  it("organization B never sees A's numbers", async () => {
    const a = (await call(A, "generate_performance_report", { period: "7d", charts: false })).out;
    const b = (await call(B, "generate_performance_report", { period: "7d", charts: false })).out;
    expect(b.currency).toBe(B.reportingCurrency);
    expect(b.range.time_zone).toBe(B.timeZone);
    expect(b.figures).not.toEqual(a.figures);
    expect(b.charts).not.toEqual(a.charts);
    for (const k of ["contacts_total", "messages_sent", "revenue"]) {
      expect(b.figures.find((f: { kpi: string }) => f.kpi === k).value, k).not.toBe(a.figures.find((f: { kpi: string }) => f.kpi === k).value);
    }
    const dashB = (await call(B, "get_kpi_dashboard", { period: "7d" })).out;
    for (const f of b.figures) expect(f.value, f.kpi).toBe(dashB.kpis.find((k: { kpi: string }) => k.kpi === f.kpi).value);
    const ids = new Set(a.alerts.list.map((x: { id: string }) => x.id));
    expect(b.alerts.list.some((x: { id: string }) => ids.has(x.id))).toBe(false);
  });

  it("strict input and clear refusals", async () => {
    const c = await as(A);
    const unknown = await c.client.callTool({ name: "generate_performance_report", arguments: { kind: "executive", organization_id: B.id } });
    expect(unknown.isError).toBe(true);
    expect(JSON.stringify(unknown.content)).toMatch(/Unknown argument \\"organization_id\\"/);
    const kind = await c.client.callTool({ name: "generate_performance_report", arguments: { kind: "board" } });
    expect(kind.isError).toBe(true);
    const both = await c.client.callTool({ name: "generate_performance_report", arguments: { period: "7d", from: "2026-01-01" } });
    expect(JSON.stringify(both.content)).toMatch(/either period or from\/to/);
    const listed = (await c.client.listTools()).tools.find((t) => t.name === "generate_performance_report")!;
    expect(listed.annotations?.readOnlyHint).toBe(true);
    expect(generatePerformanceReport.scopes).toEqual(["monitoring:read"]);
    expect(generatePerformanceReport.description.split(/\s+/).length).toBeLessThanOrEqual(60);
  });

  it("the report as a resource: report://{kind}/{period}, JSON without images, the tool's numbers", async () => {
    const c = await as(B);
    const res = await c.client.readResource({ uri: "report://technical/7d" });
    expect(res.contents[0]!.mimeType).toBe("application/json");
    const json = JSON.parse((res.contents[0] as { text: string }).text);
    expect(json.images).toBe(false);
    expect(json.kind).toBe("technical");
    const tool = (await call(B, "generate_performance_report", { kind: "technical", period: "7d", charts: false })).out;
    expect(json).toEqual(tool);
    await expect(c.client.readResource({ uri: "report://board/7d" })).rejects.toThrow();
  });
});
