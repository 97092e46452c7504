// Samples, percentiles and the one table `pnpm bench` prints. A sample's values are in its unit
// (milliseconds unless it says otherwise); the field keeps its historical name `ms`.
export type Unit = "ms" | "MB";

export interface Sample {
  name: string;
  /** The measured values, in `unit`. */
  ms: number[];
  unit?: Unit;
  /** The same measure of a reference (the bare SDK, hand-written SQL), taken in the same run. */
  reference?: { name: string; ms: number[] };
  note?: string;
}

export const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

export const median = (xs: number[]) => pct(xs, 50);

export async function time(n: number, fn: (i: number) => Promise<unknown>, warmup = Math.min(5, n)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * Time several measures in turns (a, b, c, a, b, c, …) rather than one after another, so that a
 * machine shared with other work slows each of them alike and their ratio stays meaningful.
 */
export async function timeInterleaved(n: number, fns: ReadonlyArray<(i: number) => Promise<unknown>>, warmup = 2): Promise<number[][]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn(i);
  const out = fns.map(() => [] as number[]);
  for (let i = 0; i < n; i++) {
    for (const [j, fn] of fns.entries()) {
      const t = performance.now();
      await fn(i);
      out[j]!.push(performance.now() - t);
    }
  }
  return out;
}

const f = (x: number) => (Number.isFinite(x) ? (Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1)) : "—");

/** measure | n | median | p95 | reference | ref median | ref p95 | ratio and difference of the medians. */
export function printTable(samples: Sample[]): void {
  const rows = [["measure", "n", "median", "p95", "reference", "ref median", "ref p95", "ratio (p50)", "Δ (p50)"]];
  for (const s of samples) {
    const u = ` ${s.unit ?? "ms"}`;
    const m = pct(s.ms, 50);
    const rm = s.reference ? pct(s.reference.ms, 50) : NaN;
    rows.push([
      s.name + (s.note ? ` (${s.note})` : ""),
      String(s.ms.length),
      f(m) + u,
      f(pct(s.ms, 95)) + u,
      s.reference?.name ?? "—",
      s.reference ? f(rm) + u : "—",
      s.reference ? f(pct(s.reference.ms, 95)) + u : "—",
      s.reference ? `${(m / rm).toFixed(2)}×` : "—",
      s.reference ? `${m - rm >= 0 ? "+" : ""}${f(m - rm)}${u}` : "—",
    ]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    process.stdout.write(`${r.map((c, j) => c.padEnd(w[j]!)).join("  ")}\n`);
    if (i === 0) process.stdout.write(`${w.map((n) => "-".repeat(n)).join("  ")}\n`);
  }
}
