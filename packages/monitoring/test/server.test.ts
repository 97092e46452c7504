// The monitoring module as a server through the production seam: its tools and prompt are listed
// by role, and the prompt asks only for tools the server has, with arguments those tools accept.
import { describe, expect, it } from "vitest";
import { DEMO_ORGS } from "@marketsage/db";
import { useServerUnderTest } from "@marketsage/core/testing";
import { ROLE_SCOPES } from "@marketsage/core";
import { monitoringServer } from "../src/server.ts";

const kit = useServerUnderTest(monitoringServer);

describe("monitoring server", () => {
  it("lists each tool to the roles whose scopes allow it", async () => {
    for (const role of ["USER", "ADMIN", "AI_AGENT", "IT_ADMIN"] as const) {
      const names = (await (await kit.as(role)).client.listTools()).tools.map((t) => t.name).sort();
      const allowed = monitoringServer.tools.filter((t) => t.scopes.every((s) => (ROLE_SCOPES[role] as readonly string[]).includes(s))).map((t) => t.name).sort();
      expect(names, role).toEqual(allowed);
    }
  });

  it("the weekly summary prompt names only this server's tools, and its calls are accepted", async () => {
    const c = await kit.as("ADMIN");
    const { prompts } = await c.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["weekly_executive_summary"]);
    const p = await c.client.getPrompt({ name: "weekly_executive_summary", arguments: { focus: "SMS delivery" } });
    const text = (p.messages[0]!.content as { text: string }).text;
    expect(text).toContain("Put this first: SMS delivery.");
    const named = [...text.matchAll(/\b([a-z]+(?:_[a-z]+)+)\b/g)].map((m) => m[1]!).filter((w) => /^(get|analyze|list|set|delete|query|verify)_/.test(w));
    expect(named.length).toBeGreaterThanOrEqual(4);
    for (const n of named) expect(monitoringServer.tools.map((t) => t.name)).toContain(n);
    // The arguments the prompt asks for.
    for (const [name, args] of [
      ["get_kpi_dashboard", { period: "7d" }],
      ["get_anomaly_detection", { days: 28 }],
      ["get_alerts", {}],
      ["analyze_performance_trends", { kpi: "revenue", horizon_days: 7 }],
    ] as const) {
      const r = await c.client.callTool({ name, arguments: args });
      expect(r.isError, `${name}: ${JSON.stringify(r.content).slice(0, 300)}`).toBeFalsy();
    }
    expect(DEMO_ORGS.length).toBeGreaterThan(0);
  });
});
