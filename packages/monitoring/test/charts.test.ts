// The chart module: each kind (lines with a dashed previous range, lines with a forecast band,
// bars by category) renders a real PNG of the fixed size that is not blank (resvg decodes it
// back to pixels: several colours, not one); the same spec gives the same bytes; axis numbers.
import { writeFileSync } from "node:fs";
import { Resvg } from "@resvg/resvg-js";
import { describe, expect, it } from "vitest";
import { CHART_HEIGHT, CHART_WIDTH, axisNumber, chartPng, chartSvg, pngSize, type ChartSpec } from "../src/charts/index.ts";
import { chartFont } from "../src/charts/font.ts";

const days = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2026, 9, 1 + i)).toISOString().slice(0, 10));
const wave = (base: number, amp: number, phase = 0) => days.map((_, i) => Math.round((base + amp * Math.sin(i / 3 + phase)) * 100) / 100);

const SPECS: Record<string, ChartSpec> = {
  "line vs previous": {
    title: "Revenue by day vs the previous 30 days", kind: "line", unit: "money", x: days,
    series: [{ name: "2026-10-01 – 2026-10-30", values: wave(120_000, 40_000) }, { name: "previous 30 days", values: wave(100_000, 30_000, 1), dashed: true }],
  },
  "line with forecast band": {
    title: "Revenue forecast (80% band)", kind: "line", unit: "money", x: days,
    series: [
      { name: "actual", values: [...wave(120_000, 40_000).slice(0, 16), ...Array(14).fill(null)] },
      { name: "forecast", values: [...Array(15).fill(null), ...wave(125_000, 10_000).slice(15)], dashed: true },
    ],
    band: { name: "80% band", lower: [...Array(15).fill(null), ...wave(95_000, 10_000).slice(15)], upper: [...Array(15).fill(null), ...wave(155_000, 10_000).slice(15)] },
  },
  "rates lines": {
    title: "Rates by day", kind: "line", unit: "ratio", x: days,
    series: [{ name: "Delivery rate", values: wave(0.93, 0.03) }, { name: "Email open rate", values: wave(0.3, 0.05) }, { name: "Click rate", values: [null, ...wave(0.05, 0.01).slice(1)] }],
  },
  "bars by category": {
    title: "Messages sent by channel", kind: "bar", unit: "count", x: ["Email", "SMS", "WhatsApp"],
    series: [{ name: "this range", values: [12_345, 6_789, 2_345] }, { name: "previous range", values: [11_000, 7_100, 1_900] }],
  },
};

/** RGBA pixels of a PNG, decoded by resvg (an <image> of it, rendered at its own size). */
function pixels(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  const { width, height } = pngSize(png)!;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}"><image width="${width}" height="${height}" xlink:href="data:image/png;base64,${png.toString("base64")}"/></svg>`;
  const r = new Resvg(svg, { font: { loadSystemFonts: false } }).render();
  return { width: r.width, height: r.height, rgba: new Uint8Array(r.pixels) };
}

describe("charts", () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    it(`${name}: a PNG of ${CHART_WIDTH}×${CHART_HEIGHT}, not blank, deterministic`, () => {
      const png = chartPng(spec, "NGN");
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
      const px = pixels(png);
      expect(px.width).toBe(CHART_WIDTH);
      const colours = new Set<number>();
      let nonWhite = 0;
      for (let i = 0; i < px.rgba.length; i += 4) {
        const [r, g, b] = [px.rgba[i]!, px.rgba[i + 1]!, px.rgba[i + 2]!];
        colours.add((r << 16) | (g << 8) | b);
        if (r < 250 || g < 250 || b < 250) nonWhite++;
      }
      expect(colours.size).toBeGreaterThan(10);
      // Text, axes and lines: a few percent of the picture at least, far from all of it.
      expect(nonWhite / (px.rgba.length / 4)).toBeGreaterThan(0.01);
      expect(nonWhite / (px.rgba.length / 4)).toBeLessThan(0.6);
      expect(chartPng(spec, "NGN").equals(png)).toBe(true);
      if (name === "line with forecast band") writeFileSync("/tmp/report-chart-band.png", png);
      if (name === "line vs previous") writeFileSync("/tmp/report-chart-line.png", png);
      if (name === "bars by category") writeFileSync("/tmp/report-chart-bars.png", png);
      if (name === "rates lines") writeFileSync("/tmp/report-chart-rates.png", png);
    });
  }

  it("the SVG carries the title, the legend and the axis labels as text", () => {
    const svg = chartSvg(SPECS["line vs previous"]!, "NGN");
    expect(svg).toMatch(/^<svg/);
    for (const s of ["Revenue by day vs the previous 30 days", "previous 30 days", "NGN", "10-01"]) expect(svg).toContain(s);
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it("an empty series still draws (axes and title)", () => {
    const png = chartPng({ title: "Nothing yet", kind: "line", unit: "count", x: days.slice(0, 3), series: [{ name: "none", values: [null, null, null] }] });
    expect(pngSize(png)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
  });

  it("text is measured in the drawing font: wide letters wider than narrow ones, bold wider than regular", () => {
    const f = chartFont();
    expect(f.measure("MMMM", 12, false)).toBeGreaterThan(f.measure("iiii", 12, false) * 2);
    expect(f.measure("Revenue", 24, false)).toBeCloseTo(f.measure("Revenue", 12, false) * 2, 6);
    if (f.files.length > 1) expect(f.measure("Revenue", 12, true)).toBeGreaterThan(f.measure("Revenue", 12, false));
  });

  it("axis numbers", () => {
    expect(axisNumber(0.934, "ratio")).toBe("93.4%");
    expect(axisNumber(1_250_000, "money")).toBe("1.25M");
    expect(axisNumber(12_500, "count")).toBe("12.5k");
    expect(axisNumber(250, "count")).toBe("250");
    expect(axisNumber(-3_000, "money")).toBe("-3k");
  });
});
