// Input strictness is structural: defineTool closes every object of every tool's input, at any
// depth, and the refusal names the unknown key and the accepted ones.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "../src/index.ts";
import { strictInput } from "../src/strict-input.ts";

const tool = defineTool({
  name: "get_thing",
  title: "Thing",
  description: "A tool whose input has nested objects, arrays of objects, wrappers and a refinement.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    query: z.string().max(10).optional().describe("Free text."),
    range: z.object({ from: z.string().optional(), to: z.string().optional() }).optional().describe("A window."),
    steps: z.array(z.object({ event: z.string() })).max(3).default([]),
    ref: z
      .object({ id: z.string().optional(), email: z.string().optional() })
      .refine((r) => (r.id === undefined) !== (r.email === undefined), { message: "Give exactly one of id or email." })
      .nullable()
      .optional(),
    bag: z.record(z.string(), z.unknown()).optional(),
  }),
  output: z.object({ ok: z.boolean() }),
  handler: () => ({ ok: true }),
});

const issues = (args: unknown) => {
  const r = tool.input.safeParse(args);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join("."), code: i.code, message: i.message }));
};

describe("strictInput (through defineTool)", () => {
  it("refuses an unknown top-level argument, naming it and the accepted ones", () => {
    expect(issues({ query: "x", city: "Lagos" })).toEqual([
      { path: "", code: "unrecognized_keys", message: 'Unknown argument "city"; accepted: query, range, steps, ref, bag' },
    ]);
    expect(issues({ city: "Lagos", town: "Abuja" })[0]!.message).toBe('Unknown arguments "city", "town"; accepted: query, range, steps, ref, bag');
  });

  it("refuses unknown keys in nested objects, in array items and behind wrappers", () => {
    expect(issues({ range: { from: "a", until: "b" } })).toEqual([{ path: "range", code: "unrecognized_keys", message: 'unknown key "until"; accepted: from, to' }]);
    expect(issues({ steps: [{ event: "a" }, { event: "b", url: "/x" }] })).toEqual([
      { path: "steps.1", code: "unrecognized_keys", message: 'unknown key "url"; accepted: event' },
    ]);
    expect(issues({ ref: { id: "1", phone: "2" } }).map((i) => i.message)).toContain('unknown key "phone"; accepted: id, email');
  });

  it("keeps what the schema already did: refinements, defaults, descriptions, other messages, records", () => {
    expect(issues({ ref: { id: "1", email: "a@b" } })).toEqual([{ path: "ref", code: "custom", message: "Give exactly one of id or email." }]);
    expect(tool.input.parse({})).toEqual({ steps: [] });
    expect(issues({ query: 5 })[0]).toMatchObject({ path: "query", code: "invalid_type" });
    // A record's keys are data, not arguments.
    expect(issues({ bag: { anything: 1 } })).toEqual([]);
    const json = z.toJSONSchema(tool.input, { io: "input" }) as { additionalProperties?: unknown; properties: Record<string, { description?: string }> };
    expect(json.additionalProperties).toBe(false);
    expect(json.properties.query!.description).toBe("Free text.");
    expect(json.properties.range!.description).toBe("A window.");
  });

  it("leaves an object that chose its own catchall, and schemas without objects, as they are", () => {
    const loose = z.object({ a: z.string() }).loose();
    expect(strictInput(z.object({ meta: loose })).safeParse({ meta: { a: "x", b: 1 } }).success).toBe(true);
    const flat = z.string().max(3);
    expect(strictInput(flat)).toBe(flat);
  });
});
