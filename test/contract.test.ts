// Every tool of every server: names, words, schemas, annotations, scopes; and a snapshot of
// what tools/list shows, so any change to a tool's public face is a reviewed diff.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeTool, SCOPES, type ServerModule } from "@marketsage/core";
import { customerDataServer } from "@marketsage/customer-data";

const SERVERS: ServerModule[] = [customerDataServer];
const VERBS = ["search", "get", "list", "preview", "refresh", "update", "analyze", "compare", "identify", "track", "validate", "send", "set", "delete", "generate", "query", "verify"];

describe.each(SERVERS.map((s) => [s.name, s] as const))("%s", (_name, server) => {
  it.each(server.tools.map((t) => [t.name, t] as const))("%s follows the tool contract", (name, tool) => {
    expect(name).toMatch(/^[a-z]+(_[a-z0-9]+)+$/);
    expect(VERBS).toContain(name.split("_")[0]);
    expect(tool.title.length).toBeGreaterThan(3);
    expect(tool.description.length).toBeGreaterThan(80);
    expect(tool.scopes.length).toBeGreaterThan(0);
    for (const s of tool.scopes) expect(SCOPES).toContain(s);
    for (const k of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) expect(typeof tool.annotations[k]).toBe("boolean");
    const d = describeTool(tool);
    expect(d.inputSchema.type).toBe("object");
    expect(d.outputSchema?.type).toBe("object");
    // Field names the model sees are snake_case.
    const keys = (schema: unknown): string[] =>
      schema && typeof schema === "object"
        ? Object.entries(schema as Record<string, unknown>).flatMap(([k, v]) => (k === "properties" && v && typeof v === "object" ? [...Object.keys(v), ...Object.values(v).flatMap(keys)] : keys(v)))
        : [];
    for (const k of [...keys(d.inputSchema), ...keys(d.outputSchema)]) expect(k).toMatch(/^[a-z0-9_]+$|^[A-Z_]+$/);
    // Write tools say so.
    if (tool.scopes.some((s) => s.endsWith(":write") || s === "messages:send")) expect(tool.annotations.readOnlyHint).toBe(false);
    expect(tool.input).toBeInstanceOf(z.ZodObject);
  });

  it("tools/list is as reviewed (snapshot)", () => {
    expect(server.tools.map(describeTool)).toMatchSnapshot();
  });
});
