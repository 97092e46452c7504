// JSON Schema compaction for tools/list: every tool definition is part of every conversation, so
// what zod emits is cut to what a model (and a validating client) needs, without changing which
// values are valid — except, in output schemas, `additionalProperties: false` and defaults, which
// only ever reject or describe what the server never sends.
//
// Measured on customer-data before this pass: 54% of tools/list was output schemas; every integer
// carried ±9007199254740991 bounds and every uuid / date-time its 100–300-character regex.

export type JsonSchema = Record<string, unknown>;

export interface CompactOptions {
  /** input: what the caller sends (keep defaults, strictness); output: what the server sends. */
  io: "input" | "output";
  /**
   * Output only: levels of properties spelled out (default 1: the root's). Below, a value keeps its
   * type, enum and description only (see `shallow`).
   */
  schemaLevels?: number;
}

const SAFE = Number.MAX_SAFE_INTEGER;
// Formats whose zod regex says nothing a model or a format-aware validator does not already know.
const SELF_EXPLAINING_FORMATS = new Set(["uuid", "guid", "date-time", "date", "time", "email", "uri", "url", "ipv4", "ipv6", "duration"]);
const SUBSCHEMA_LISTS = ["anyOf", "oneOf", "allOf", "prefixItems"];
const SUBSCHEMA_ONE = ["items", "additionalProperties", "not", "propertyNames", "contains", "if", "then", "else"];
const SUBSCHEMA_MAPS = ["properties", "$defs", "definitions", "patternProperties"];

const isObj = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

/** A compact, equivalent (input) or equally-accepting (output) copy of a JSON Schema. */
export function compactSchema(schema: JsonSchema, opts: CompactOptions): JsonSchema {
  let out = compactNode(schema, opts);
  if (opts.io === "output") out = shallow(out, 0, opts.schemaLevels ?? 1);
  out = dropEnumTypes(out) as JsonSchema;
  delete out.$schema;
  return out;
}

function compactNode(node: JsonSchema, opts: CompactOptions): JsonSchema {
  const s: JsonSchema = { ...node };
  for (const k of SUBSCHEMA_LISTS) if (Array.isArray(s[k])) s[k] = (s[k] as unknown[]).map((x) => (isObj(x) ? compactNode(x, opts) : x));
  for (const k of SUBSCHEMA_ONE) if (isObj(s[k])) s[k] = compactNode(s[k] as JsonSchema, opts);
  for (const k of SUBSCHEMA_MAPS) {
    if (isObj(s[k])) s[k] = Object.fromEntries(Object.entries(s[k] as JsonSchema).map(([p, v]) => [p, isObj(v) ? compactNode(v, opts) : v]));
  }

  // Integer bounds that only restate JavaScript's safe range.
  if (s.minimum === -SAFE) delete s.minimum;
  if (s.maximum === SAFE) delete s.maximum;
  // A named format carries the meaning; the generated regex only repeats it at length.
  if (typeof s.format === "string" && SELF_EXPLAINING_FORMATS.has(s.format)) delete s.pattern;
  // JSON object keys are strings already.
  if (isObj(s.propertyNames) && Object.keys(s.propertyNames).length === 1 && s.propertyNames.type === "string") delete s.propertyNames;
  // `{}` as additionalProperties of a record means "anything": the default.
  if (isObj(s.additionalProperties) && Object.keys(s.additionalProperties).length === 0 && !s.properties) delete s.additionalProperties;

  if (opts.io === "output") {
    // The server builds its output from the same zod schema (unknown keys stripped, every key
    // present: the contract test refuses optional output fields, null says "none"), so closing
    // objects, listing required keys and stating defaults there tell a model nothing.
    if (s.additionalProperties === false) delete s.additionalProperties;
    if (Array.isArray(s.required) && isObj(s.properties)) delete s.required;
    delete s.default;
  }
  return collapseNullable(s);
}

/** An enum whose values all have the stated type says the type already (zod emits both): the type goes, at any depth. */
function dropEnumTypes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropEnumTypes);
  if (!isObj(v)) return v;
  const out: JsonSchema = {};
  for (const [k, x] of Object.entries(v)) out[k] = k === "enum" || k === "default" || k === "const" ? x : dropEnumTypes(x);
  if (Array.isArray(out.enum)) {
    const types = typesOf(out);
    const jsonType = (x: unknown) => (x === null ? "null" : Number.isInteger(x) ? "integer" : typeof x);
    // Each allowed value already has one of the stated types: the enum alone admits the same values.
    if (types.length && out.enum.every((x) => types.includes(jsonType(x)) || (jsonType(x) === "integer" && types.includes("number")))) delete out.type;
  }
  return out;
}

/** `anyOf: [X, {type: "null"}]` → X with "null" added to its type (and enum), when X is a simple typed schema. */
function collapseNullable(s: JsonSchema): JsonSchema {
  const any = s.anyOf;
  if (!Array.isArray(any) || any.length !== 2) return s;
  const nullIdx = any.findIndex((x) => isObj(x) && x.type === "null" && Object.keys(x).length === 1);
  if (nullIdx < 0) return s;
  const other = any[1 - nullIdx] as JsonSchema;
  if (!isObj(other)) return s;
  const { anyOf: _drop, ...rest } = s;
  // Anything (`{}`, zod's unknown) already admits null.
  if (Object.keys(other).length === 0) return rest;
  if (other.anyOf || other.oneOf || other.allOf || other.$ref || other.const !== undefined) return s;
  const types = typeof other.type === "string" ? [other.type] : Array.isArray(other.type) ? (other.type as string[]) : null;
  if (!types) return s;
  // Keys of the branch win only where the outer schema says nothing (its description is the field's).
  for (const k of Object.keys(other)) if (k in rest && k !== "type") return s;
  const merged: JsonSchema = { ...other, ...rest, type: types.includes("null") ? types : [...types, "null"] };
  if (Array.isArray(other.enum) && !other.enum.includes(null)) merged.enum = [...other.enum, null];
  return merged;
}

// Output shapes below the top level are not spelled out. A customer summary alone costs ~115
// tokens of `{"type":…}` punctuation in every tool that returns one, in every conversation; a model
// reads nested fields from the result itself (structured and text), and what it must know before
// calling (units, thresholds, what null means) belongs in the tool's description. A validating
// client still checks the top level; below it anything is accepted, so valid output never fails.
const typesOf = (s: JsonSchema): string[] => (typeof s.type === "string" ? [s.type] : Array.isArray(s.type) ? (s.type as string[]) : []);

function shallow(s: JsonSchema, level: number, keep: number): JsonSchema {
  if (level >= keep && level > 0) {
    const out: JsonSchema = {};
    for (const k of ["type", "enum", "description", "minimum", "maximum", "format"]) if (s[k] !== undefined) out[k] = s[k];
    if (out.type === undefined && (isObj(s.properties) || isObj(s.additionalProperties))) out.type = typesOf(s).length ? s.type : "object";
    return out;
  }
  const out: JsonSchema = { ...s };
  if (isObj(s.properties)) {
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, isObj(v) ? shallow(v, level + 1, keep) : v]));
  }
  if (isObj(s.items)) out.items = shallow(s.items as JsonSchema, level, keep);
  if (isObj(s.additionalProperties)) out.additionalProperties = shallow(s.additionalProperties as JsonSchema, level + 1, keep);
  return out;
}

/** Tokens as the issue measures them: characters of the JSON divided by four. */
export function approxTokens(value: unknown): number {
  return Math.ceil(JSON.stringify(value).length / 4);
}
