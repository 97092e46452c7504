// Every tool of every catalog server, called through the real SDK Client on the tiny test data with
// its harness arguments: the Client validates structuredContent against the outputSchema that
// tools/list shows (so the compaction of describeTool can never make valid output fail), the text
// carries every value of the structured content, and an unknown argument is refused by name.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, type LoadedEntry } from "@marketsage/catalog";
import type { BuilderContext, HarnessSpec, Runtime } from "@marketsage/core";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { valuesMissingFromText } from "./support/text-carries.ts";

const ORG = DEMO_ORGS[0]!;
const entries: Array<LoadedEntry & { harnessSpec: HarnessSpec }> = await Promise.all(
  (await loadCatalog()).map(async (e) => ({ ...e, harnessSpec: await e.harness() })),
);
const text = (r: unknown) => (((r as { content?: unknown }).content as Array<{ type: string; text?: string }>) ?? []).map((c) => c.text ?? "").join("\n");

const tdb = useTestDatabase();
let runtime: Runtime;
let sql: pg.Client;
let ctx: BuilderContext;
beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => tdb.now });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  ctx = { q: async (text, params) => (await sql.query(text, params)).rows, orgId: ORG.id };
});
afterAll(async () => {
  await sql?.end();
  await runtime?.close();
});

describe.each(entries.map((e) => [e.name, e] as const))("%s", (_name, entry) => {
  let tc: TestClient;
  beforeAll(async () => {
    // Every scope, so every tool is listed and callable; personal data unmasked.
    tc = await connectTestClient({ server: entry.name, tools: entry.pkg.module.tools, runtime, apiKey: demoApiKey(ORG, "SUPER_ADMIN") });
    // listTools caches the Client's validators: from here on every callTool checks structuredContent
    // against the listed outputSchema and throws when it does not match.
    const listed = await tc.client.listTools();
    expect(listed.tools.map((t) => t.name).sort()).toEqual(entry.pkg.module.tools.map((t) => t.name).sort());
  });
  afterAll(async () => {
    await tc?.close();
  });

  it.each(entry.pkg.module.tools.map((t) => [t.name, t] as const))("%s: output matches its listed schema and the text carries it", async (name, tool) => {
    const build = entry.harnessSpec.builders[name];
    expect(build, `harness builder for ${name}`).toBeDefined();
    const args = await build!(ctx);
    const r = await tc.client.callTool({ name, arguments: args });
    expect(r.isError, text(r)).toBeFalsy();
    expect(r.structuredContent).toBeDefined();
    const shown = text(r);
    expect(shown).not.toContain("[truncated");
    expect(valuesMissingFromText(r.structuredContent, tool.output, shown)).toEqual([]);
  });

  it.each(entry.pkg.module.tools.map((t) => [t.name, t] as const))("%s refuses an unknown argument by name, listing the accepted ones", async (name, tool) => {
    const args = await entry.harnessSpec.builders[name]!(ctx);
    const r = await tc.client.callTool({ name, arguments: { ...args, zz_not_an_argument: 1 } });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain(`INVALID_INPUT: Invalid arguments for ${name}: Unknown argument "zz_not_an_argument"; accepted: ${Object.keys(tool.input.shape).join(", ")}`);
  });
});
