// Anomalies in a daily (period 7) or hourly (period 24) series: residuals from a robust seasonal
// baseline, measured in robust z units.
//
// Baseline (retrospective, leave-one-out): `robustDecompose` gives the season and a first trend;
// the expected value of point t is then the median of the deseasonalised values in the 2·period + 1
// window around t *without t* plus the median of the same-phase detrended values *without t*. The
// point never votes on its own expectation, so a collapse cannot hide itself, and the residuals are
// honest prediction errors: plain in-sample residuals of a median fit are shrunk towards 0 (many sit
// exactly on the median), which made the MAD ~25% too small and tripled false alarms on white noise.
// Spread: 1.4826·MAD of those residuals (σ for normal noise). When the MAD is 0 (most residuals are
// exactly 0 but not all) it falls back to √(π/2)·mean absolute deviation (also σ for normal noise);
// either way it is at least `minRelativeSpread` × median |value|, so a 0.1% wiggle in an otherwise
// constant series is not "infinitely" anomalous.
// Severity: |z| ≥ warningZ (3) is a warning, |z| ≥ criticalZ (5) critical; the expected range is
// expected ± warningZ·spread.
import { MAD_NORMAL_SCALE, mad, meanAbsoluteDeviation, median } from "./robust.ts";
import { robustDecompose } from "./seasonality.ts";

export interface Anomaly {
  index: number;
  time: string | null;
  value: number;
  expected: number;
  lower: number;
  upper: number;
  /** (value − expected) / spread. */
  z: number;
  direction: "above" | "below";
  severity: "warning" | "critical";
}

export interface AnomalyReport {
  status: "ok" | "too_short" | "flat";
  /** Why nothing could be flagged (too_short, flat), or the method in one line (ok). */
  reason: string;
  period: number;
  /** Expected value per point (trend + season); empty when too short. */
  expected: number[];
  spread: number | null;
  spreadMethod: "mad" | "mean_absolute_deviation" | "relative_floor" | null;
  anomalies: Anomaly[];
}

export interface AnomalyOptions {
  /** 7 for daily data with a weekly season, 24 for hourly data with a daily one. */
  period?: number;
  /** Labels for the points (e.g. ISO dates), same length as the values. */
  times?: readonly string[];
  warningZ?: number;
  criticalZ?: number;
  /** Full periods needed before anything is flagged (default 3: three weeks of daily data). */
  minPeriods?: number;
  /** Smallest spread as a fraction of median |value| (default 0.01). */
  minRelativeSpread?: number;
}

const SQRT_HALF_PI = Math.sqrt(Math.PI / 2);

/** Seasonal-baseline anomaly detection: leave-one-out robust baseline residuals scaled by 1.4826·MAD
 *  (fallbacks above), flagged at |z| ≥ warningZ, critical at |z| ≥ criticalZ. */
export function detectAnomalies(values: readonly number[], options: AnomalyOptions = {}): AnomalyReport {
  const { period = 7, times, warningZ = 3, criticalZ = 5, minPeriods = 3, minRelativeSpread = 0.01 } = options;
  if (times && times.length !== values.length) throw new RangeError(`detectAnomalies: ${times.length} times for ${values.length} values`);
  if (!(warningZ > 0 && criticalZ >= warningZ)) throw new RangeError(`detectAnomalies: need 0 < warningZ ≤ criticalZ, got ${warningZ}, ${criticalZ}`);
  for (const v of values) if (!Number.isFinite(v)) throw new RangeError(`detectAnomalies: values must be finite, got ${v}`);
  const empty = { period, expected: [], spread: null, spreadMethod: null, anomalies: [] };
  const needed = Math.max(minPeriods * period, 2 * period + 1);
  if (values.length < needed) {
    return { ...empty, status: "too_short", reason: `too short: ${values.length} points, need at least ${needed} (${minPeriods} full periods of ${period}) for a seasonal baseline` };
  }
  if (values.every((v) => v === values[0])) {
    return { ...empty, status: "flat", reason: `flat: every value is ${values[0]}, nothing can deviate` };
  }
  const expected = leaveOneOutBaseline(values, period);
  const residuals = values.map((v, i) => v - expected[i]!);
  const floor = minRelativeSpread * median(values.map(Math.abs));
  let spread = mad(residuals) * MAD_NORMAL_SCALE;
  let spreadMethod: AnomalyReport["spreadMethod"] = "mad";
  if (spread === 0) [spread, spreadMethod] = [SQRT_HALF_PI * meanAbsoluteDeviation(residuals), "mean_absolute_deviation"];
  if (spread < floor) [spread, spreadMethod] = [floor, "relative_floor"];
  if (spread === 0) {
    // Only reachable when median |value| is 0 and every residual is 0: the series follows its baseline exactly.
    return { ...empty, expected, status: "flat", reason: "flat: the series follows its seasonal baseline exactly" };
  }
  const anomalies: Anomaly[] = [];
  values.forEach((value, index) => {
    const z = (value - expected[index]!) / spread;
    if (Math.abs(z) < warningZ) return;
    anomalies.push({
      index,
      time: times?.[index] ?? null,
      value,
      expected: expected[index]!,
      lower: expected[index]! - warningZ * spread,
      upper: expected[index]! + warningZ * spread,
      z,
      direction: z > 0 ? "above" : "below",
      severity: Math.abs(z) >= criticalZ ? "critical" : "warning",
    });
  });
  return {
    status: "ok",
    reason: `leave-one-out baseline (median of the ${2 * period + 1}-point window + same-phase median, period ${period}), spread ${spreadMethod} = ${spread.toPrecision(4)}; |z| ≥ ${warningZ} warning, ≥ ${criticalZ} critical`,
    period,
    expected,
    spread,
    spreadMethod,
    anomalies,
  };
}

/** Expected value of each point from the others only (see the header). */
function leaveOneOutBaseline(values: readonly number[], period: number): number[] {
  const d = robustDecompose(values, period);
  const n = values.length;
  const window = 2 * period + 1;
  const half = period;
  const deseasonalised = values.map((v, i) => v - d.seasonal[i]!);
  const detrended = values.map((v, i) => v - d.trend[i]!);
  return values.map((_, t) => {
    const start = Math.min(Math.max(t - half, 0), n - window);
    const around: number[] = [];
    for (let k = start; k < start + window; k++) if (k !== t) around.push(deseasonalised[k]!);
    const samePhase: number[] = [];
    for (let k = t % period; k < n; k += period) if (k !== t) samePhase.push(detrended[k]!);
    return median(around) + median(samePhase);
  });
}
