// Charts without a browser: a chart spec (the numbers a report's structured content carries) →
// ECharts' server-side SVG → a PNG by resvg with the system's fonts. Fixed size, no animation, no
// clock: the same spec gives the same picture. Two kinds: lines by day (optionally a previous
// range dashed, and a forecast band) and bars by category.
import { Resvg } from "@resvg/resvg-js";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TitleComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { chartFont } from "./font.ts";

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);
// Layout measures text in the font the PNG is drawn with (font.ts).
echarts.setPlatformAPI({
  measureText: (text: string, font?: string) => {
    const size = Number(/(\d+(?:\.\d+)?)px/.exec(font ?? "")?.[1] ?? 12);
    return { width: chartFont().measure(text ?? "", size, /\bbold\b|\b[6-9]00\b/.test(font ?? "")) };
  },
});

export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 400;
export { CHART_UNITS } from "./spec.ts";
export type { ChartUnit, ChartSeries, ChartSpec } from "./spec.ts";
import type { ChartSpec, ChartUnit } from "./spec.ts";

const COLORS = ["#2563eb", "#9ca3af", "#16a34a", "#ea580c", "#9333ea"];
const BAND_COLOR = "rgba(37, 99, 235, 0.18)";

/** Axis numbers for people: 1.2k, 3.4M; ratios as percent. */
export function axisNumber(v: number, unit: ChartUnit): string {
  if (unit === "ratio") return `${Number((v * 100).toFixed(1))}%`;
  const a = Math.abs(v);
  const s = (x: number, suffix: string) => `${Number(x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : 2))}${suffix}`;
  const body = a >= 1e9 ? s(a / 1e9, "B") : a >= 1e6 ? s(a / 1e6, "M") : a >= 1e3 ? s(a / 1e3, "k") : s(a, "");
  return v < 0 ? `-${body}` : body;
}

const isDay = (s: string) => /^\d{4}-\d\d-\d\d$/.test(s);
const axisName = (unit: ChartUnit, currency: string | null) => (unit === "money" ? (currency ?? "") : unit === "ratio" ? "%" : "count");

/** The ECharts option of a spec (exported for tests). */
export function chartOption(spec: ChartSpec, currency: string | null = null): echarts.EChartsCoreOption {
  const FONT = chartFont().family;
  const days = spec.x.every(isDay);
  const many = spec.x.length > 16;
  const line = spec.kind === "line";
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const series: any[] = [];
  if (line && spec.band) {
    const { lower, upper } = spec.band;
    // A band as a stack: an invisible lower line, then the width above it filled.
    series.push(
      { name: "band-base", type: "line", stack: "band", data: lower, symbol: "none", lineStyle: { opacity: 0 }, silent: true, z: 1 },
      {
        name: spec.band.name, type: "line", stack: "band", symbol: "none", lineStyle: { opacity: 0 }, areaStyle: { color: BAND_COLOR }, silent: true, z: 1,
        data: upper.map((u, i) => (u === null || lower[i] === null || lower[i] === undefined ? null : u - lower[i]!)),
      },
    );
  }
  spec.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    series.push(
      line
        ? {
            name: s.name, type: "line", data: s.values, color, z: 3, symbol: "circle", symbolSize: spec.x.length > 40 ? 0 : 4, showSymbol: spec.x.length <= 40,
            lineStyle: { width: 2, type: s.dashed ? "dashed" : "solid" },
            // A rate's missing day had nothing to divide: the line goes on to the next measured day.
            connectNulls: spec.unit === "ratio",
          }
        : { name: s.name, type: "bar", data: s.values, color, barMaxWidth: 48, label: { show: spec.x.length <= 8, position: "top", fontSize: 11, formatter: (p: { value: number }) => axisNumber(p.value, spec.unit) } },
    );
  });
  return {
    animation: false,
    backgroundColor: "#ffffff",
    textStyle: { fontFamily: FONT },
    title: { text: spec.title, left: 12, top: 8, textStyle: { fontSize: 15, fontWeight: "bold", color: "#111827", fontFamily: FONT } },
    legend: {
      top: 34, left: 12, itemWidth: 18, itemHeight: 10, itemGap: 16, textStyle: { fontSize: 12, color: "#374151" },
      data: [...spec.series.map((s) => s.name), ...(line && spec.band ? [{ name: spec.band.name, icon: "rect", itemStyle: { color: BAND_COLOR } }] : [])],
    },
    grid: { left: 64, right: 24, top: 84, bottom: many ? 56 : 40 },
    xAxis: {
      type: "category",
      data: spec.x,
      boundaryGap: !line,
      axisLabel: { fontSize: 11, color: "#374151", rotate: many ? 45 : 0, formatter: (v: string) => (days ? v.slice(5) : v) },
      axisLine: { lineStyle: { color: "#6b7280" } },
    },
    yAxis: {
      type: "value",
      name: axisName(spec.unit, currency),
      nameTextStyle: { fontSize: 11, color: "#374151", align: "right" },
      scale: false,
      axisLabel: { fontSize: 11, color: "#374151", formatter: (v: number) => axisNumber(v, spec.unit) },
      splitLine: { lineStyle: { color: "#e5e7eb" } },
    },
    series,
  };
}

/** The spec as an SVG document (CHART_WIDTH × CHART_HEIGHT). */
export function chartSvg(spec: ChartSpec, currency: string | null = null): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
  try {
    chart.setOption(chartOption(spec, currency));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** An SVG document as a PNG, text in the system's fonts. */
export function svgToPng(svg: string): Buffer {
  const f = chartFont();
  const r = new Resvg(svg, { font: { loadSystemFonts: true, fontFiles: f.files, defaultFontFamily: f.family }, background: "#ffffff", fitTo: { mode: "original" } });
  return r.render().asPng();
}

export const chartPng = (spec: ChartSpec, currency: string | null = null): Buffer => svgToPng(chartSvg(spec, currency));

/** Width and height from a PNG's IHDR chunk; null when the bytes are not a PNG. */
export function pngSize(png: Uint8Array): { width: number; height: number } | null {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || sig.some((b, i) => png[i] !== b)) return null;
  if (String.fromCharCode(png[12]!, png[13]!, png[14]!, png[15]!) !== "IHDR") return null;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
