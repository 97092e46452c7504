// A rule in words, shown with every preview so the person and the model can check the intent.
import type { Condition, Rule } from "./rules.ts";

const list = (v: string | string[]) => (Array.isArray(v) ? v.join(", ") : v);
const times = (n: number) => (n === 1 ? "at least once" : `at least ${n} times`);
const window = (d?: number) => (d ? ` in the last ${d} days` : "");

function condition(c: Condition): string {
  if ("behavior" in c) {
    switch (c.behavior) {
      case "message_event":
        return `had a ${c.channel ? `${c.channel} ` : ""}message ${c.event.toLowerCase()} ${times(c.min_count)}${window(c.within_days)}`;
      case "visited":
        return `visited ${c.url_pattern} ${times(c.min_count)}${window(c.within_days)}`;
      case "converted":
        return `converted ${times(c.min_count)}${c.min_value !== undefined ? ` with value ≥ ${c.min_value}` : ""}${window(c.within_days)}`;
      case "consent":
        return c.state === "unknown" ? `was never asked for ${c.channel} consent` : `is ${c.state} to ${c.channel}`;
    }
  }
  switch (c.field) {
    case "tag":
      return c.op === "has" ? `is tagged ${c.value}` : `has any tag of ${list(c.value)}`;
    case "created_at":
      return c.op === "within_days" ? `joined in the last ${c.value} days` : `joined ${c.op} ${c.value}`;
    case "email":
    case "phone":
      return `${c.op === "exists" ? "has" : "has no"} ${c.field}`;
    default: {
      const ops = { eq: "is", in: "is one of", not_in: "is not one of", contains: "contains" } as const;
      return `${c.field} ${ops[c.op]} ${list(c.value)}`;
    }
  }
}

export function describeRule(rule: Rule): string {
  if ("all" in rule) return rule.all.length === 1 ? describeRule(rule.all[0]!) : `(${rule.all.map(describeRule).join(" AND ")})`;
  if ("any" in rule) return rule.any.length === 1 ? describeRule(rule.any[0]!) : `(${rule.any.map(describeRule).join(" OR ")})`;
  if ("not" in rule) return `NOT ${describeRule(rule.not)}`;
  return condition(rule);
}
