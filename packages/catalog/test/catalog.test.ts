// The catalog is the one list of servers: it matches the server packages on disk, tool names are
// unique, every entry loads and has a harness builder for every tool; and a fake entry added to a
// catalog appears in config, the client and the harness with no other edit.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createMarketSageClient } from "@marketsage/client";
import { runHarness } from "@marketsage/client/harness";
import { ConfigError, createLogger, isWriteTool, loadConfig, serverDisabledReason } from "@marketsage/core";
import { useTestDatabase } from "@marketsage/core/testing";
import { DEMO_ORGS, demoApiKey, findRepoRoot } from "@marketsage/db";
import { CATALOG, loadCatalog, serverNames } from "../src/index.ts";
import { FAKE_CATALOG, FAKE_NAME } from "./fixtures/fake-server.ts";

const tdb = useTestDatabase();
const quiet = createLogger({ level: "silent" });
const KEY = demoApiKey(DEMO_ORGS[0]!, "SUPER_ADMIN");

describe("the catalog", () => {
  it("matches the server packages on disk (package.json marketsage.server)", () => {
    const root = path.join(findRepoRoot(), "packages");
    const onDisk = fs
      .readdirSync(root)
      .filter((d) => {
        const p = path.join(root, d, "package.json");
        return fs.existsSync(p) && (JSON.parse(fs.readFileSync(p, "utf8")) as { marketsage?: { server?: boolean } }).marketsage?.server === true;
      })
      .sort();
    expect(onDisk.length).toBeGreaterThan(0);
    expect(serverNames().sort()).toEqual(onDisk);
  });

  it("loads every entry: module named like the entry, tool names unique across servers, a builder per tool, stable probes that are read tools", async () => {
    const loaded = await loadCatalog();
    const names = loaded.flatMap((e) => e.pkg.module.tools.map((t) => t.name));
    expect(new Set(names).size).toBe(names.length);
    for (const e of loaded) {
      expect(e.pkg.module.name).toBe(e.name);
      const h = await e.harness();
      for (const t of e.pkg.module.tools) expect(h.builders[t.name], `${e.name}: no harness builder for ${t.name}`).toBeTypeOf("function");
      for (const p of h.stableProbes) expect(e.pkg.module.tools.find((t) => t.name === p && !isWriteTool(t)), `${e.name}: ${p} is not a read tool of this server`).toBeDefined();
      expect(Object.values(e.pkg.tools).map((t) => t.name).sort()).toEqual(e.pkg.module.tools.map((t) => t.name).sort());
      expect(e.pkg.module.tools.map((t) => t.name)).toContain(e.pkg.healthCheck.tool);
    }
  });
});

describe("a fake catalog entry appears everywhere with no other edit", () => {
  const flag = "MCP_FAKE_INSIGHTS_ENABLED";

  it("config: its flag is read, and refused by a catalog without it", () => {
    expect(serverDisabledReason(loadConfig({ [flag]: "false" }, { servers: serverNames(FAKE_CATALOG) }).flags, FAKE_NAME)).toBe(`${flag} is false`);
    expect(() => loadConfig({ [flag]: "false" }, { servers: serverNames(CATALOG) })).toThrow(ConfigError);
    expect(() => loadConfig({ [flag]: "false" }, { servers: serverNames(CATALOG) })).toThrow(/no server is called "fake-insights"/);
  });

  it("client: a typed namespace, served direct and over MCP (stdio) with the same answer", async () => {
    const fixture = path.join(import.meta.dirname, "fixtures", "fake-main.ts");
    const base = { apiKey: KEY, catalog: FAKE_CATALOG, databaseUrl: tdb.url, env: { LOG_LEVEL: "error" }, log: quiet };
    const direct = await createMarketSageClient({ ...base, mode: "direct" });
    const mcp = await createMarketSageClient({ ...base, mode: "mcp", servers: { [FAKE_NAME]: { command: process.execPath, args: ["--import", "tsx", fixture] } } });
    try {
      const ns = (c: object) => (c as unknown as Record<string, { getContactCount(a: object): Promise<{ data: { contacts: number }; servedBy: string }> }>).fakeInsights!;
      const a = await ns(direct).getContactCount({ status: "ACTIVE" });
      const b = await ns(mcp).getContactCount({ status: "ACTIVE" });
      expect(a.servedBy).toBe("direct");
      expect(b.servedBy).toBe("mcp");
      expect(b.data).toEqual(a.data);
      expect(a.data.contacts).toBeGreaterThan(0);
    } finally {
      await Promise.all([direct.close(), mcp.close()]);
    }
  });

  it("harness: the fake server is started, its tool called and its fallback and flag proven", async () => {
    const fixture = path.join(import.meta.dirname, "fixtures", "fake-main.ts");
    const lines: string[] = [];
    const report = await runHarness({
      databaseUrl: tdb.url,
      env: { LOG_LEVEL: "error", PATH: process.env.PATH },
      format: "plain",
      write: (t) => lines.push(t),
      catalog: FAKE_CATALOG,
      launches: { [FAKE_NAME]: { command: process.execPath, args: ["--import", "tsx", fixture] } },
    });
    const fake = report.servers.find((s) => s.server === FAKE_NAME);
    expect(fake, lines.join("\n")).toBeDefined();
    expect(report.tools.filter((t) => t.server === FAKE_NAME).map((t) => [t.tool, t.ok])).toEqual([["get_contact_count", true]]);
    const checks = report.checks.filter((c) => c.name.startsWith(`${FAKE_NAME}:`));
    expect(checks.map((c) => c.name)).toEqual(expect.arrayContaining([`${FAKE_NAME}: MCP_ENABLED=false → direct, same answers`, `${FAKE_NAME}: ${flag}=false → does not start, says why`]));
    expect(checks.every((c) => c.ok), JSON.stringify(checks.filter((c) => !c.ok))).toBe(true);
  }, 180_000);
});
