// Time helpers: the history window before `now` and a fast timestamp formatter for COPY (tens
// of millions of timestamps are written at bench scale, so Date#toISOString per row is avoided).
import type { Rng } from "./prng.ts";

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** ~13 months of history before `now`. */
export const HISTORY_DAYS = 395;

let cachedDay = Number.NaN;
let cachedPrefix = "";
const P2: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const P3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));

/** ISO-8601 UTC with milliseconds, e.g. 2026-11-20T12:00:00.000Z (PostgreSQL accepts it in COPY). */
export function ts(ms: number): string {
  const t = Math.floor(ms);
  const day = Math.floor(t / DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  let r = t - day * DAY;
  const h = Math.floor(r / HOUR);
  r -= h * HOUR;
  const m = Math.floor(r / MINUTE);
  r -= m * MINUTE;
  const s = Math.floor(r / 1000);
  return `${cachedPrefix}${P2[h]}:${P2[m]}:${P2[s]}.${P3[r - s * 1000]}Z`;
}

/** YYYY-MM-DD (UTC). */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export interface Timeline {
  now: number;
  start: number;
  /**
   * A time in the history, denser recently: the business grows, so later months hold more
   * sign-ups, sends and visits. `growth` > 1 skews towards now.
   */
  growthTime(rng: Rng, growth?: number): number;
}

export function timeline(now: Date): Timeline {
  const n = now.getTime();
  const start = n - HISTORY_DAYS * DAY;
  return {
    now: n,
    start,
    growthTime(rng, growth = 1.7) {
      // Density ∝ x^(growth-1) on [0,1]: inverse CDF is u^(1/growth).
      return start + Math.pow(rng.next(), 1 / growth) * (n - start);
    },
  };
}

/** The current time truncated to the hour, UTC: the default anchor for the CLI. */
export function defaultNow(): Date {
  const d = new Date();
  d.setUTCMinutes(0, 0, 0);
  return d;
}
