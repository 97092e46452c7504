// "The text content carries what the structured content carries" (SPEC §3), as a check: every
// scalar leaf of the structured content — ids, names, numbers, times, enum values, a record's keys
// — must appear in the text. Formatting is allowed: a number rounded by at most 0.5% or written
// as a percentage, thousands separators, a time to the minute. Booleans and nulls are exempt (the
// text says them in words, e.g. "reachable", "masked").
import type { z } from "zod";

export interface MissingValue {
  path: string;
  value: string;
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function numberForms(n: number): string[] {
  const forms = new Set([String(n), n.toLocaleString("en-US")]);
  const close = (x: number, to: number) => Math.abs(x - to) <= Math.max(Math.abs(to) * 0.005, 1e-12);
  for (let d = 0; d <= 4; d++) {
    if (close(Number(n.toFixed(d)), n)) {
      forms.add(n.toFixed(d)).add(Number(n.toFixed(d)).toLocaleString("en-US", { maximumFractionDigits: d }));
      // Money as people read it: separators and the currency's minor-unit decimals ("58,450.00").
      forms.add(n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));
    }
    const pct = n * 100;
    if (close(Number(pct.toFixed(d)), pct)) forms.add(`${pct.toFixed(d)}%`).add(`${pct.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d })}%`);
  }
  return [...forms];
}

function numberIn(text: string, n: number): boolean {
  // A number stands alone: not part of a longer number, an id or a word.
  return numberForms(n).some((f) => new RegExp(`(?<![\\w.])${escape(f)}(?![\\d]|\\.\\d)`).test(text));
}

function stringIn(text: string, s: string): boolean {
  const t = text.toLowerCase();
  if (t.includes(s.toLowerCase())) return true;
  if (ISO_TIME.test(s)) return t.includes(s.slice(0, 16).toLowerCase()) || t.includes(s.slice(0, 16).replace("T", " ").toLowerCase());
  return false;
}

type Def = { type: string } & Record<string, unknown>;
const defOf = (s: z.ZodType | undefined): Def | undefined => (s ? (s._zod.def as unknown as Def) : undefined);

/** The values of `value` (shaped by `schema`, the tool's output schema) that the text does not show. */
export function valuesMissingFromText(value: unknown, schema: z.ZodType | undefined, text: string, path = ""): MissingValue[] {
  const miss = (v: string): MissingValue[] => [{ path: path || "(root)", value: v }];
  if (value === null || value === undefined || typeof value === "boolean") return [];
  if (typeof value === "number") return numberIn(text, value) ? [] : miss(String(value));
  if (typeof value === "string") return value === "" || stringIn(text, value) ? [] : miss(value);

  const def = defOf(schema);
  switch (def?.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "nonoptional":
    case "catch":
      return valuesMissingFromText(value, def.innerType as z.ZodType, text, path);
    case "pipe":
      return valuesMissingFromText(value, def.out as z.ZodType, text, path);
    case "lazy":
      return valuesMissingFromText(value, (def.getter as () => z.ZodType)(), text, path);
  }
  if (Array.isArray(value)) {
    const element = def?.type === "array" ? (def.element as z.ZodType) : undefined;
    return value.flatMap((v, i) => valuesMissingFromText(v, element, text, `${path}[${i}]`));
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (def?.type === "object") {
    const shape = def.shape as Record<string, z.ZodType>;
    return entries.flatMap(([k, v]) => valuesMissingFromText(v, shape[k], text, path ? `${path}.${k}` : k));
  }
  // A record's keys are data (channels, actions): they must show too. Anything else untyped
  // (z.unknown(): rules, a model's inputs) is checked by its values.
  const isRecord = def?.type === "record";
  return entries.flatMap(([k, v]) => [
    ...(isRecord && !stringIn(text, k) ? [{ path: `${path}{key}`, value: k }] : []),
    ...valuesMissingFromText(v, isRecord ? (def.valueType as z.ZodType) : undefined, text, path ? `${path}.${k}` : k),
  ]);
}
