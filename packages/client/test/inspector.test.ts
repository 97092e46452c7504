// The official MCP Inspector (CLI mode) against the built server: it lists the tools and calls one.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { findRepoRoot } from "@marketsage/db";
import { AGENT_KEY, ENTRY, useClientTestBed } from "./helpers.ts";

const bed = useClientTestBed();
const run = promisify(execFile);

async function inspector(...method: string[]): Promise<Record<string, unknown>> {
  const bin = path.join(findRepoRoot(), "node_modules", ".bin", "mcp-inspector");
  const { stdout } = await run(bin, ["--cli", process.execPath, ENTRY, "-e", `MARKETSAGE_API_KEY=${AGENT_KEY}`, "-e", `DATABASE_URL=${bed.url}`, ...method], {
    cwd: findRepoRoot(),
    timeout: 60_000,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("MCP Inspector CLI", () => {
  it("lists the tools of the built server", async () => {
    const out = (await inspector("--method", "tools/list")) as { tools: Array<{ name: string; outputSchema?: unknown }> };
    const names = out.tools.map((t) => t.name);
    expect(names).toContain("search_customers");
    expect(names).toContain("get_customer_profile");
    expect(out.tools.every((t) => t.outputSchema)).toBe(true);
  });

  it("calls a tool and gets structured content", async () => {
    const out = (await inspector("--method", "tools/call", "--tool-name", "search_customers", "--tool-arg", "limit=2")) as {
      isError?: boolean;
      structuredContent: { customers: unknown[] };
    };
    expect(out.isError).toBeFalsy();
    expect(out.structuredContent.customers).toHaveLength(2);
  });
});
