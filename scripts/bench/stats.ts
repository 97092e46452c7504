export interface Sample {
  name: string;
  ms: number[];
  reference?: { name: string; ms: number[] };
  note?: string;
}

export const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

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

const f = (x: number) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : "—");

export function printTable(samples: Sample[]): void {
  const rows = [["measure", "n", "median ms", "p95 ms", "reference", "ref median", "ref p95", "ratio (p50)"]];
  for (const s of samples) {
    const m = pct(s.ms, 50);
    const rm = s.reference ? pct(s.reference.ms, 50) : NaN;
    rows.push([
      s.name + (s.note ? ` (${s.note})` : ""),
      String(s.ms.length),
      f(m),
      f(pct(s.ms, 95)),
      s.reference?.name ?? "—",
      f(rm),
      s.reference ? f(pct(s.reference.ms, 95)) : "—",
      s.reference ? `${(m / rm).toFixed(2)}×` : "—",
    ]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    process.stdout.write(`${r.map((c, j) => c.padEnd(w[j]!)).join("  ")}\n`);
    if (i === 0) process.stdout.write(`${w.map((n) => "-".repeat(n)).join("  ")}\n`);
  }
}
