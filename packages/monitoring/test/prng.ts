// Deterministic pseudo-random numbers for tests only (the library never draws random numbers).

/** mulberry32 (Tommy Ettinger, public domain): a 32-bit seeded generator of uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws by the Box–Muller transform over a mulberry32 stream. */
export function gaussian(seed: number): () => number {
  const u = mulberry32(seed);
  return () => {
    const u1 = 1 - u(); // (0, 1]: log is finite
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u());
  };
}

/** A daily series: level + slope·t + weekly[t mod 7] + noiseSd·N(0, 1). */
export function weeklySeries(opts: { days: number; level: number; slope: number; weekly: readonly number[]; noiseSd: number; seed: number }): number[] {
  const z = gaussian(opts.seed);
  return Array.from({ length: opts.days }, (_, t) => opts.level + opts.slope * t + opts.weekly[t % 7]! + opts.noiseSd * z());
}
