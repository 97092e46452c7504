// The segment rule DSL: parsed by hand so that every mistake gets a message naming the exact
// place and the allowed values (a model fixes its rule from that message alone).
//
//   Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Condition
//   Condition (profile)   = { field, op, value }
//   Condition (behaviour) = { behavior: "message_event" | "visited" | "converted" | "consent", ... }
import { z } from "zod";
import { UserError } from "@marketsage/core";
import { CHANNELS, CONTACT_STATUSES, MESSAGE_EVENT_TYPES, type ChannelName, type MessageEventTypeName } from "@marketsage/domain";

export type Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Condition;

export type Condition =
  | { field: "country" | "status" | "city" | "company" | "source"; op: "eq" | "in" | "not_in" | "contains"; value: string | string[] }
  | { field: "tag"; op: "has" | "has_any"; value: string | string[] }
  | { field: "created_at"; op: "after" | "before"; value: string }
  | { field: "created_at"; op: "within_days"; value: number }
  | { field: "email" | "phone"; op: "exists" | "missing" }
  | { behavior: "message_event"; event: MessageEventName; channel?: ChannelName; within_days: number; min_count: number }
  | { behavior: "visited"; url_pattern: string; min_count: number; within_days?: number }
  | { behavior: "converted"; min_value?: number; within_days?: number; min_count: number }
  | { behavior: "consent"; channel: ChannelName; state: "subscribed" | "unsubscribed" | "unknown" };

/** Every message event type but QUEUED (our own bookkeeping, not something that happened to the contact). */
type MessageEventName = Exclude<MessageEventTypeName, "QUEUED">;
export const MESSAGE_EVENTS: readonly MessageEventName[] = MESSAGE_EVENT_TYPES.filter((t): t is MessageEventName => t !== "QUEUED");
export { CHANNELS };

const TEXT_FIELDS = ["country", "status", "city", "company", "source"] as const;
const FIELDS = [...TEXT_FIELDS, "tag", "created_at", "email", "phone"] as const;
const BEHAVIOURS = ["message_event", "visited", "converted", "consent"] as const;
const STATUSES = CONTACT_STATUSES;

const MAX_DEPTH = 6;
const MAX_CONDITIONS = 40;

// Written without JSON's quotes (inside a tools/list string each one costs an escape; a model reads
// {field: tag, op: has} as well), every field, operator and key still named: a model writes a
// rule from this alone, and parseRule's messages name the place and the fix when it does not.
export const RULE_GRAMMAR = `Rule: {all: [rule, …]} | {any: [rule, …]} | {not: rule} | condition. Profile {field, op, value}: \
country|status|city|company|source: eq|in|not_in|contains; tag: has|has_any; created_at: after|before (ISO date), \
within_days; email|phone: exists|missing (no value); in, not_in, has_any take lists. Behaviour \
(? optional, default): {behavior: message_event, event: DELIVERED|OPENED|CLICKED|REPLIED|…, channel?, \
within_days? 30, min_count? 1}; {behavior: visited, url_pattern: "/pricing", min_count? 1, within_days?}; {behavior: converted, \
min_value?, within_days?, min_count? 1}; {behavior: consent, channel, state: subscribed|unsubscribed|unknown}.`;

class RuleError extends UserError {
  constructor(path: string, message: string) {
    super(`Invalid rule at ${path}: ${message}`);
  }
}

const keysOf = (o: object) => Object.keys(o);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function oneOf<T extends string>(path: string, what: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== "string" || !allowed.includes(v as T)) {
    throw new RuleError(path, `unknown ${what} ${JSON.stringify(v)}; expected one of ${allowed.join(", ")}`);
  }
  return v as T;
}

function onlyKeys(path: string, o: Record<string, unknown>, allowed: string[]): void {
  const extra = keysOf(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw new RuleError(path, `unexpected key(s) ${extra.join(", ")}; allowed here: ${allowed.join(", ")}`);
}

function num(path: string, v: unknown, opts: { min: number; max: number; int?: boolean }): number {
  const r = (opts.int ? z.number().int() : z.number()).min(opts.min).max(opts.max).safeParse(v);
  if (!r.success) throw new RuleError(path, `expected ${opts.int ? "an integer" : "a number"} from ${opts.min} to ${opts.max}, got ${JSON.stringify(v)}`);
  return r.data;
}

function str(path: string, v: unknown, max = 200): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max) throw new RuleError(path, `expected a non-empty string (≤ ${max} characters)`);
  return v;
}

function strOrList(path: string, v: unknown, list: boolean): string | string[] {
  if (list) {
    if (!Array.isArray(v) || v.length === 0 || v.length > 200) throw new RuleError(path, "expected a non-empty list of strings");
    return v.map((x, i) => str(`${path}[${i}]`, x));
  }
  return str(path, v);
}

function parseCondition(path: string, o: Record<string, unknown>): Condition {
  if ("behavior" in o) {
    const b = oneOf(`${path}.behavior`, "behavior", o.behavior, BEHAVIOURS);
    if (b === "message_event") {
      onlyKeys(path, o, ["behavior", "event", "channel", "within_days", "min_count"]);
      return {
        behavior: b,
        event: oneOf(`${path}.event`, "event", o.event, MESSAGE_EVENTS),
        ...(o.channel !== undefined ? { channel: oneOf(`${path}.channel`, "channel", o.channel, CHANNELS) } : {}),
        within_days: num(`${path}.within_days`, o.within_days ?? 30, { min: 1, max: 3650, int: true }),
        min_count: num(`${path}.min_count`, o.min_count ?? 1, { min: 1, max: 10_000, int: true }),
      };
    }
    if (b === "visited") {
      onlyKeys(path, o, ["behavior", "url_pattern", "min_count", "within_days"]);
      const pattern = str(`${path}.url_pattern`, o.url_pattern, 300);
      return {
        behavior: b,
        url_pattern: pattern,
        min_count: num(`${path}.min_count`, o.min_count ?? 1, { min: 1, max: 10_000, int: true }),
        ...(o.within_days !== undefined ? { within_days: num(`${path}.within_days`, o.within_days, { min: 1, max: 3650, int: true }) } : {}),
      };
    }
    if (b === "converted") {
      onlyKeys(path, o, ["behavior", "min_value", "within_days", "min_count"]);
      return {
        behavior: b,
        ...(o.min_value !== undefined ? { min_value: num(`${path}.min_value`, o.min_value, { min: 0, max: 1e12 }) } : {}),
        ...(o.within_days !== undefined ? { within_days: num(`${path}.within_days`, o.within_days, { min: 1, max: 3650, int: true }) } : {}),
        min_count: num(`${path}.min_count`, o.min_count ?? 1, { min: 1, max: 10_000, int: true }),
      };
    }
    onlyKeys(path, o, ["behavior", "channel", "state"]);
    return {
      behavior: b,
      channel: oneOf(`${path}.channel`, "channel", o.channel, CHANNELS),
      state: oneOf(`${path}.state`, "state", o.state, ["subscribed", "unsubscribed", "unknown"] as const),
    };
  }
  if (!("field" in o)) {
    throw new RuleError(path, `expected a group (all, any, not) or a condition with "field" or "behavior"; got keys ${keysOf(o).join(", ") || "(none)"}`);
  }
  const field = oneOf(`${path}.field`, "field", o.field, FIELDS);
  if (field === "tag") {
    onlyKeys(path, o, ["field", "op", "value"]);
    const op = oneOf(`${path}.op`, "operator for tag", o.op, ["has", "has_any"] as const);
    return { field, op, value: strOrList(`${path}.value`, o.value, op === "has_any") };
  }
  if (field === "created_at") {
    onlyKeys(path, o, ["field", "op", "value"]);
    const op = oneOf(`${path}.op`, "operator for created_at", o.op, ["after", "before", "within_days"] as const);
    if (op === "within_days") return { field, op, value: num(`${path}.value`, o.value, { min: 1, max: 36500, int: true }) };
    const v = str(`${path}.value`, o.value, 40);
    if (Number.isNaN(Date.parse(v))) throw new RuleError(`${path}.value`, `expected an ISO 8601 date, got ${JSON.stringify(v)}`);
    return { field, op, value: new Date(v).toISOString() };
  }
  if (field === "email" || field === "phone") {
    onlyKeys(path, o, ["field", "op"]);
    return { field, op: oneOf(`${path}.op`, `operator for ${field}`, o.op, ["exists", "missing"] as const) };
  }
  onlyKeys(path, o, ["field", "op", "value"]);
  const op = oneOf(`${path}.op`, `operator for ${field}`, o.op, ["eq", "in", "not_in", "contains"] as const);
  const value = strOrList(`${path}.value`, o.value, op === "in" || op === "not_in");
  if (field === "status") {
    if (op === "contains") throw new RuleError(`${path}.op`, "status supports eq, in and not_in");
    for (const [i, s] of (Array.isArray(value) ? value : [value]).entries()) oneOf(`${path}.value${Array.isArray(value) ? `[${i}]` : ""}`, "status", s, STATUSES);
  }
  if (field === "country") {
    for (const s of Array.isArray(value) ? value : [value]) {
      if (!/^[A-Za-z]{2}$/.test(s)) throw new RuleError(`${path}.value`, `countries are ISO 3166 two-letter codes such as NG or KE, got ${JSON.stringify(s)}`);
    }
    return { field, op, value: Array.isArray(value) ? value.map((s) => s.toUpperCase()) : value.toUpperCase() };
  }
  return { field, op, value };
}

/** Validate untrusted JSON into a Rule, or throw a UserError naming the place and the fix. */
export function parseRule(input: unknown): Rule {
  let count = 0;
  const walk = (v: unknown, path: string, depth: number): Rule => {
    if (depth > MAX_DEPTH) throw new RuleError(path, `rules nest at most ${MAX_DEPTH} levels deep`);
    if (!isObj(v)) throw new RuleError(path, "expected an object");
    if ("all" in v || "any" in v) {
      const k = "all" in v ? "all" : "any";
      onlyKeys(path, v, [k]);
      const list = v[k];
      if (!Array.isArray(list) || list.length === 0) throw new RuleError(`${path}.${k}`, "expected a non-empty list of rules");
      const rules = list.map((x, i) => walk(x, `${path}.${k}[${i}]`, depth + 1));
      return k === "all" ? { all: rules } : { any: rules };
    }
    if ("not" in v) {
      onlyKeys(path, v, ["not"]);
      return { not: walk(v.not, `${path}.not`, depth + 1) };
    }
    if (++count > MAX_CONDITIONS) throw new RuleError(path, `at most ${MAX_CONDITIONS} conditions per rule set`);
    return parseCondition(path, v);
  };
  return walk(input, "rules", 0);
}
