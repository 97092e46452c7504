// What a chart is: the numbers it draws (a report's structured content carries them). Apart from
// the renderer (index.ts: ECharts and resvg, loaded only when a chart is drawn).
export const CHART_UNITS = ["count", "ratio", "money"] as const;
export type ChartUnit = (typeof CHART_UNITS)[number];

export interface ChartSeries {
  name: string;
  values: Array<number | null>;
  /** Drawn dashed (a previous range, a forecast). */
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  kind: "line" | "bar";
  /** ratio: 0–1 shown as percent; money: in `currency`. */
  unit: ChartUnit;
  /** Days (YYYY-MM-DD) for lines, categories for bars. */
  x: string[];
  series: ChartSeries[];
  /** Lines: a shaded band (e.g. a forecast's 80% interval), null where it does not apply. */
  band?: { name: string; lower: Array<number | null>; upper: Array<number | null> } | null;
}
