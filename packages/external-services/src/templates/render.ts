// Merge fields, logic-less (Mustache-style variables only: no sections, partials, lambdas or raw
// output, so nothing in a template can run or inject markup):
//   {{first_name}}               the contact's field or a variable the caller passed
//   {{ first_name | "there" }}   the same, with a declared default when it is missing or empty
// In an email's HTML part every value is HTML-escaped; in text parts (SMS, WhatsApp, email text and
// subject) it is inserted as is. A field with no value and no default is reported, never rendered
// as an empty gap: validate_message lists it as an error and a send refuses.

export const TAG = /\{\{\s*([a-z][a-z0-9_]*)\s*(?:\|\s*"([^"{}]*)"\s*)?\}\}/gi;
/** Anything that looks like a tag but is not one (a typo, a section, triple braces). */
const STRAY = /\{\{|\}\}/;

export type Values = Readonly<Record<string, string | number | null | undefined>>;

export interface Rendered {
  text: string;
  /** Fields used with no value and no default (in order of first use). */
  missing: string[];
  /** Fields that took their declared default. */
  defaulted: string[];
}

export class TemplateSyntaxError extends Error {}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The fields a template uses, with their declared defaults (checks the syntax). */
export function fieldsOf(source: string): Array<{ field: string; fallback: string | undefined }> {
  const out: Array<{ field: string; fallback: string | undefined }> = [];
  const rest = source.replace(TAG, (_m, field: string, fallback: string | undefined) => {
    out.push({ field: field.toLowerCase(), fallback });
    return "";
  });
  const triple = source.search(/\{\{\{|\}\}\}/);
  const stray = rest.search(STRAY);
  if (triple >= 0 || stray >= 0) {
    const [text, at] = triple >= 0 ? [source, triple] : [rest, stray];
    throw new TemplateSyntaxError(`unrecognised merge tag near "${text.slice(Math.max(0, at - 10), at + 20)}": use {{field}} or {{field | "default"}} (letters, digits and _; no sections)`);
  }
  return out;
}

export function render(source: string, values: Values, opts: { html: boolean }): Rendered {
  fieldsOf(source); // syntax first: a stray brace is an error, not text
  const missing: string[] = [];
  const defaulted: string[] = [];
  const text = source.replace(TAG, (_m, name: string, fallback: string | undefined) => {
    const field = name.toLowerCase();
    const raw = values[field];
    let v = raw === null || raw === undefined ? "" : String(raw).trim();
    if (v === "") {
      if (fallback !== undefined) {
        v = fallback;
        if (!defaulted.includes(field)) defaulted.push(field);
      } else if (!missing.includes(field)) missing.push(field);
    }
    return opts.html ? escapeHtml(v) : v;
  });
  return { text, missing, defaulted };
}
