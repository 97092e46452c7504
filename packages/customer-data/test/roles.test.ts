import { describe, expect, it } from "vitest";
import { DEMO_ROLES } from "@marketsage/db";
import { ROLE_SCOPES } from "@marketsage/core";
import { customerDataServer } from "../src/server.ts";
import { useCustomerData } from "./setup.ts";

const cd = useCustomerData();

describe("role matrix", () => {
  it.each(DEMO_ROLES)("%s sees exactly the tools its scopes allow, and is refused the others at call time", async (role) => {
    const client = (await cd.as(role)).client;
    const listed = (await client.listTools()).tools.map((t) => t.name).sort();
    const allowed = customerDataServer.tools.filter((t) => t.scopes.every((s) => ROLE_SCOPES[role].includes(s))).map((t) => t.name).sort();
    expect(listed).toEqual(allowed);
    for (const t of customerDataServer.tools.filter((x) => !allowed.includes(x.name))) {
      const r = await client.callTool({ name: t.name, arguments: {} });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/FORBIDDEN/);
    }
  });

  it("lists the prompts and renders one", async () => {
    const client = (await cd.as("AI_AGENT")).client;
    const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
    expect(prompts).toEqual(expect.arrayContaining(["customer_360_summary", "win_back_at_risk"]));
    const p = await client.getPrompt({ name: "customer_360_summary", arguments: { customer: "ada@example.com" } });
    expect(JSON.stringify(p.messages)).toContain("get_customer_profile");
  });
});
