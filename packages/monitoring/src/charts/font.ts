// Text widths for ECharts' layout without a browser: ECharts measures text to place legends,
// labels and axis names, and without a canvas it guesses with Helvetica-like widths, narrower
// than the font resvg then draws with (legend entries ran into each other). So the font the PNG
// is drawn in is found on the system and its advance widths (TrueType hmtx via cmap) are the
// measure. No such font: ECharts' guess, widened a little.
import { existsSync, readFileSync } from "node:fs";

const CANDIDATES = [
  { family: "DejaVu Sans", regular: "DejaVuSans.ttf", bold: "DejaVuSans-Bold.ttf" },
  { family: "Liberation Sans", regular: "LiberationSans-Regular.ttf", bold: "LiberationSans-Bold.ttf" },
];
const DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts/truetype/liberation", "/usr/share/fonts/liberation", "/Library/Fonts", "C:\\Windows\\Fonts"];

export interface ChartFont {
  family: string;
  files: string[];
  /** Width in px of `text` at `size` px. */
  measure(text: string, size: number, bold: boolean): number;
}

/** Advance widths per code point (in em) of a TrueType font; null when it cannot be read. */
export function advanceWidths(buf: Buffer): { widths: Map<number, number>; fallback: number } | null {
  try {
    const tables = new Map<string, number>();
    const n = buf.readUInt16BE(4);
    for (let i = 0; i < n; i++) tables.set(buf.toString("latin1", 12 + i * 16, 16 + i * 16), buf.readUInt32BE(20 + i * 16));
    const head = tables.get("head"), hhea = tables.get("hhea"), hmtx = tables.get("hmtx"), cmap = tables.get("cmap");
    if (head === undefined || hhea === undefined || hmtx === undefined || cmap === undefined) return null;
    const upem = buf.readUInt16BE(head + 18);
    const metrics = buf.readUInt16BE(hhea + 34);
    const advance = (glyph: number) => buf.readUInt16BE(hmtx + 4 * Math.min(glyph, metrics - 1)) / upem;
    // The Unicode BMP subtable (platform 3 encoding 1, or platform 0), format 4.
    let sub = -1;
    for (let i = 0; i < buf.readUInt16BE(cmap + 2); i++) {
      const p = buf.readUInt16BE(cmap + 4 + i * 8), e = buf.readUInt16BE(cmap + 6 + i * 8), off = buf.readUInt32BE(cmap + 8 + i * 8);
      if (((p === 3 && e === 1) || p === 0) && buf.readUInt16BE(cmap + off) === 4) sub = cmap + off;
    }
    if (sub < 0) return null;
    const segs = buf.readUInt16BE(sub + 6) / 2;
    const ends = sub + 14, starts = ends + segs * 2 + 2, deltas = starts + segs * 2, ranges = deltas + segs * 2;
    const widths = new Map<number, number>();
    // Latin, punctuation, the dashes, arrows and signs a chart's text uses.
    const wanted = (c: number) => (c >= 0x20 && c <= 0x24f) || (c >= 0x2000 && c <= 0x22ff);
    for (let s = 0; s < segs; s++) {
      const end = buf.readUInt16BE(ends + s * 2), start = buf.readUInt16BE(starts + s * 2);
      const delta = buf.readInt16BE(deltas + s * 2), rangeOff = buf.readUInt16BE(ranges + s * 2);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        if (!wanted(c)) continue;
        let g: number;
        if (rangeOff === 0) g = (c + delta) & 0xffff;
        else {
          g = buf.readUInt16BE(ranges + s * 2 + rangeOff + (c - start) * 2);
          if (g !== 0) g = (g + delta) & 0xffff;
        }
        if (g !== 0) widths.set(c, advance(g));
      }
    }
    return { widths, fallback: widths.get(0x4d) ?? 0.8 };
  } catch {
    return null;
  }
}

function find(file: string): string | null {
  for (const d of DIRS) {
    const p = `${d}/${file}`;
    if (existsSync(p)) return p;
  }
  return null;
}

let cached: ChartFont | undefined;

/** The chart font: the first candidate present on the system, measured from its file. */
export function chartFont(): ChartFont {
  if (cached) return cached;
  for (const c of CANDIDATES) {
    const regular = find(c.regular);
    if (!regular) continue;
    const bold = find(c.bold);
    const r = advanceWidths(readFileSync(regular));
    if (!r) continue;
    const b = (bold && advanceWidths(readFileSync(bold))) || r;
    const width = (m: { widths: Map<number, number>; fallback: number }, text: string) => {
      let w = 0;
      for (const ch of text) w += m.widths.get(ch.codePointAt(0)!) ?? m.fallback;
      return w;
    };
    cached = { family: c.family, files: bold ? [regular, bold] : [regular], measure: (text, size, isBold) => width(isBold ? b : r, text) * size };
    return cached;
  }
  // ECharts' own guess for a sans-serif, made wider: most system sans fonts are wider than Helvetica.
  cached = { family: "sans-serif", files: [], measure: (text, size) => [...text].length * size * 0.62 };
  return cached;
}
