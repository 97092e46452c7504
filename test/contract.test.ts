// Every tool of every server: names, words, schemas, annotations, scopes, strict input; one
// snapshot file per tool of what tools/list shows (test/__toolsnaps__/<server>/<tool>.json, as
// github-mcp-server does), so a change to one tool's public face is one small reviewed diff; and
// the token budget of tools/list (SPEC §3: the five servers together under 15,000).
// Update the snapshots after an intended change: pnpm vitest run test/contract.test.ts -u
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loadCatalog } from "@marketsage/catalog";
import { describeTool, SCOPES, type AnyTool, type ServerModule } from "@marketsage/core";
import { FAKE_CATALOG, FAKE_NAME } from "../packages/catalog/test/fixtures/fake-server.ts";

/** Every catalog server: a new entry is checked here with no edit to this file. */
const SERVERS: ServerModule[] = (await loadCatalog()).map((e) => e.pkg.module);
const VERBS = ["search", "get", "list", "preview", "refresh", "update", "analyze", "compare", "identify", "track", "validate", "send", "save", "set", "delete", "generate", "query", "verify", "cancel"];
/** chars/4 of the JSON of the tools/list result. */
const AVERAGE_TOKENS_PER_TOOL = 400;
const ALL_SERVERS_TOKENS = 15_000;
const SNAPS = new URL("./__toolsnaps__/", import.meta.url);
const approxTokens = (v: unknown) => Math.ceil(JSON.stringify(v).length / 4);

type Schema = Record<string, unknown>;
/** Every sub-schema of a JSON Schema, with where it is. */
function* schemas(s: unknown, at = "#"): Generator<[string, Schema]> {
  if (!s || typeof s !== "object" || Array.isArray(s)) return;
  const node = s as Schema;
  yield [at, node];
  for (const [k, v] of Object.entries(node)) {
    if ((k === "properties" || k === "$defs" || k === "definitions") && v && typeof v === "object") {
      for (const [p, sub] of Object.entries(v)) yield* schemas(sub, `${at}/${k}/${p}`);
    } else if (Array.isArray(v)) {
      for (const [i, sub] of v.entries()) yield* schemas(sub, `${at}/${k}/${i}`);
    } else if (v && typeof v === "object" && k !== "default" && k !== "enum" && k !== "const") {
      yield* schemas(v, `${at}/${k}`);
    }
  }
}

/** The contract of one tool (the snapshot aside): names, words, annotations, scopes, strict and lean schemas. */
function expectToolContract(name: string, tool: AnyTool) {
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

  // Strict input, at every depth: an object with declared keys refuses any other key. (A map —
  // an object without declared properties, e.g. segment rules — validates its keys itself.)
  for (const [at, s] of schemas(d.inputSchema)) if (s.properties) expect(s.additionalProperties, `${name} input ${at}`).toBe(false);
  // Every output field is always there (null says "none"): so tools/list can leave out `required`.
  for (const [k, v] of Object.entries(tool.output.shape)) expect((v as z.ZodType)._zod.optout, `${name} output ${k} is optional`).toBeUndefined();
  // Lean: what the compaction removes never comes back.
  const json = JSON.stringify(d);
  expect(json).not.toContain("9007199254740991");
  expect(json).not.toContain('"$schema"');
  for (const [at, s] of [...schemas(d.inputSchema), ...schemas(d.outputSchema)]) {
    if (s.format === "uuid" || s.format === "date-time") expect(s.pattern, `${name} ${at}: the format says it`).toBeUndefined();
  }
}

describe.each(SERVERS.map((s) => [s.name, s] as const))("%s", (serverName, server) => {
  it.each(server.tools.map((t) => [t.name, t] as const))("%s follows the tool contract", async (name, tool) => {
    expectToolContract(name, tool);
    const d = describeTool(tool);
    await expect(`${JSON.stringify(d, null, 2)}\n`).toMatchFileSnapshot(new URL(`${serverName}/${name}.json`, SNAPS).pathname);
  });

  it("has a snapshot file for each of its tools and none for tools it no longer has", () => {
    let files: string[] = [];
    try {
      files = readdirSync(new URL(`${serverName}/`, SNAPS)).filter((f) => f.endsWith(".json"));
    } catch {
      // no directory yet: the per-tool test above writes it
    }
    const stale = files.map((f) => f.slice(0, -".json".length)).filter((f) => !server.tools.some((t) => t.name === f));
    expect(stale, "delete these snapshot files").toEqual([]);
  });

  it(`tools/list stays within ${AVERAGE_TOKENS_PER_TOOL} tokens per tool on average`, () => {
    const list = { tools: server.tools.map(describeTool) };
    const total = approxTokens(list);
    const lines = server.tools.map((t) => `  ${t.name.padEnd(28)} ${String(approxTokens(describeTool(t))).padStart(5)}`);
    process.stderr.write(`[tokens] ${serverName}: tools/list ${total} tokens for ${server.tools.length} tools (${Math.round(total / server.tools.length)} per tool)\n${lines.join("\n")}\n`);
    expect(total / server.tools.length).toBeLessThanOrEqual(AVERAGE_TOKENS_PER_TOOL);
  });
});

describe("all servers", () => {
  it(`tools/list of every server together stays under ${ALL_SERVERS_TOKENS} tokens`, () => {
    const total = SERVERS.reduce((n, s) => n + approxTokens({ tools: s.tools.map(describeTool) }), 0);
    process.stderr.write(`[tokens] all ${SERVERS.length} server(s): ${total} tokens\n`);
    expect(total).toBeLessThan(ALL_SERVERS_TOKENS);
  });
});

describe("a fake catalog entry", () => {
  it("is checked like every other server's tools (the contract runs on whatever the catalog holds)", async () => {
    const fake = (await loadCatalog(FAKE_CATALOG)).find((e) => e.name === FAKE_NAME)!;
    expect(fake.pkg.module.tools.length).toBeGreaterThan(0);
    for (const t of fake.pkg.module.tools) expectToolContract(t.name, t);
    // And a tool that breaks the contract is caught.
    const bad = { ...fake.pkg.module.tools[0]!, name: "FetchThing", description: "short" };
    expect(() => expectToolContract(bad.name, bad)).toThrow();
  });
});
