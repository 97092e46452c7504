// The tools/list compaction: what it removes, and that it never changes which inputs are valid or
// makes a valid output fail (checked with the validator the SDK Client itself uses).
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { compactSchema, type JsonSchema } from "../src/json-schema.ts";
import { strictInput } from "../src/strict-input.ts";

const ajv = new AjvJsonSchemaValidator();
const json = (s: z.ZodType, io: "input" | "output") => z.toJSONSchema(s, { target: "draft-7", io }) as JsonSchema;
const valid = (schema: JsonSchema, value: unknown) => ajv.getValidator(schema)(value).valid;

const Input = strictInput(
  z.object({
    id: z.uuid().describe("Contact id."),
    since: z.iso.datetime({ offset: true }).optional(),
    limit: z.number().int().min(1).max(50).default(10),
    count: z.number().int().optional(),
    channel: z.enum(["EMAIL", "SMS"]).nullable().optional().describe("A channel, or null for all."),
    note: z.string().max(20).nullable().optional(),
    range: z.object({ from: z.string().optional(), to: z.string().optional() }).optional(),
    rules: z.record(z.string(), z.unknown()).optional(),
  }),
);

const Output = z.object({
  id: z.string(),
  total: z.number().int(),
  rate: z.number().nullable().describe("null when nothing was sent."),
  kind: z.enum(["rules", "static"]).nullable(),
  rules: z.unknown().nullable(),
  customer: z.object({ id: z.string(), tags: z.array(z.string()), city: z.string().nullable() }).nullable(),
  items: z.array(z.object({ at: z.string(), value: z.number().int() })),
});

describe("compactSchema, input", () => {
  const full = json(Input, "input");
  const lean = compactSchema(full, { io: "input" });

  it("drops what only restates the obvious: $schema, safe-integer bounds, format regexes, string keys of maps", () => {
    const text = JSON.stringify(lean);
    expect(JSON.stringify(full)).toContain("9007199254740991");
    expect(text).not.toContain("9007199254740991");
    expect(text).not.toContain("$schema");
    expect(text).not.toContain("pattern");
    expect(text).not.toContain("propertyNames");
    expect(text.length).toBeLessThan(JSON.stringify(full).length * 0.6);
    const p = lean.properties as Record<string, JsonSchema>;
    expect(p.id).toEqual({ type: "string", format: "uuid", description: "Contact id." });
    expect(p.since).toEqual({ type: "string", format: "date-time" });
    expect(p.limit).toEqual({ default: 10, type: "integer", minimum: 1, maximum: 50 });
  });

  it("writes nullables compactly, keeping null among an enum's values", () => {
    const p = lean.properties as Record<string, JsonSchema>;
    // The enum says the type (and null) already.
    expect(p.channel).toEqual({ enum: ["EMAIL", "SMS", null], description: "A channel, or null for all." });
    expect(p.note).toEqual({ type: ["string", "null"], maxLength: 20 });
  });

  it("keeps strictness and requirements: the same values are valid before and after", () => {
    expect(lean.additionalProperties).toBe(false);
    expect((lean.properties as Record<string, JsonSchema>).range!.additionalProperties).toBe(false);
    expect(lean.required).toEqual(["id"]);
    const id = "6f1c2a9e-1b2c-4d3e-8f40-1234567890ab";
    const samples: unknown[] = [
      { id },
      { id, since: "2026-11-20T12:00:00Z", limit: 50, count: 2 ** 40, channel: null, note: null, range: { from: "a" }, rules: { all: [] } },
      { id, channel: "SMS", note: "short" },
      { id: "not-a-uuid" },
      { id, since: "yesterday" },
      { id, limit: 0 },
      { id, limit: 1.5 },
      { id, channel: "PIGEON" },
      { id, note: "x".repeat(21) },
      { id, range: { from: "a", until: "b" } },
      { id, city: "Lagos" },
      {},
    ];
    for (const s of samples) expect(valid(lean, s), JSON.stringify(s)).toBe(valid(full, s));
    // and they agree with zod itself
    for (const s of samples) expect(valid(lean, s), JSON.stringify(s)).toBe(Input.safeParse(s).success);
  });
});

describe("compactSchema, output", () => {
  const full = json(Output, "output");
  const lean = compactSchema(full, { io: "output" });

  it("keeps the top level typed and writes nested shapes as their type only", () => {
    const p = lean.properties as Record<string, JsonSchema>;
    expect(p.total).toEqual({ type: "integer" });
    expect(p.rate).toEqual({ type: ["number", "null"], description: "null when nothing was sent." });
    expect(p.kind).toEqual({ enum: ["rules", "static", null] });
    expect(p.rules).toEqual({});
    expect(p.customer).toEqual({ type: ["object", "null"] });
    expect(p.items).toEqual({ type: "array" });
    expect(lean.required).toBeUndefined();
    expect(lean.additionalProperties).toBeUndefined();
    // Levels are a choice: spelled out further down on request.
    const deep = compactSchema(full, { io: "output", schemaLevels: 3 }) as { properties: { customer: { properties: Record<string, unknown> } } };
    expect(Object.keys(deep.properties.customer.properties)).toEqual(["id", "tags", "city"]);
  });

  it("never makes a valid output fail, and still refuses a wrong top level", () => {
    const outputs: unknown[] = [
      { id: "a", total: 3, rate: 0.5, kind: "rules", rules: { all: [] }, customer: { id: "c", tags: ["vip"], city: null }, items: [{ at: "t", value: 1 }] },
      { id: "a", total: 0, rate: null, kind: null, rules: null, customer: null, items: [] },
    ];
    for (const o of outputs) {
      expect(Output.safeParse(o).success).toBe(true);
      expect(valid(lean, o), JSON.stringify(o)).toBe(true);
    }
    expect(valid(lean, { ...(outputs[0] as object), total: "3" })).toBe(false);
    expect(valid(lean, { ...(outputs[0] as object), kind: "dynamic" })).toBe(false);
    expect(valid(lean, { ...(outputs[0] as object), items: {} })).toBe(false);
  });
});
