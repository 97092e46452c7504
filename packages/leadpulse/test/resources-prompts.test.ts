// The visitor://{id} resource (the same JSON as get_visitor, through the same checks: another
// organization's visitor is not found) and the two prompts (listed, rendered with the tools they use).
import { beforeAll, describe, expect, it } from "vitest";
import { ORG_A, ORG_B, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse();
let visitorId = "";
beforeAll(async () => {
  const [v] = await lp.q<{ id: string }>(`select id::text from visitors where organization_id = $1 and contact_id is not null and not is_bot order by last_seen_at desc, id limit 1`, [ORG_A.id]);
  visitorId = v!.id;
});

describe("visitor://{id}", () => {
  it("is the same JSON as get_visitor", async () => {
    const client = (await lp.as("USER")).client;
    const r = await client.readResource({ uri: `visitor://${visitorId}` });
    expect(r.contents).toHaveLength(1);
    expect(r.contents[0]!.mimeType).toBe("application/json");
    expect(JSON.parse(String((r.contents[0] as { text: string }).text))).toEqual(await lp.call("USER", "get_visitor", { id: visitorId }));
  });

  it("of an org-A visitor is not found with org B's key", async () => {
    const b = (await lp.as("USER", ORG_B)).client;
    await expect(b.readResource({ uri: `visitor://${visitorId}` })).rejects.toThrow(/NOT_FOUND/);
  });
});

describe("prompts", () => {
  it("hot_leads_follow_up and funnel_review are listed and name the tools they use", async () => {
    const client = (await lp.as("AI_AGENT")).client;
    const listed = (await client.listPrompts()).prompts.map((p) => p.name).sort();
    expect(listed).toEqual(["funnel_review", "hot_leads_follow_up"]);
    const hot = await client.getPrompt({ name: "hot_leads_follow_up", arguments: { days: "14" } });
    const text = hot.messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
    expect(text).toContain("identify_high_intent_visitors with active_days 14");
    expect(text).toContain("get_visitor");
    const funnel = await client.getPrompt({ name: "funnel_review", arguments: {} });
    const ftext = funnel.messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
    for (const tool of ["get_conversion_funnel", "get_page_analytics", "get_traffic_sources"]) expect(ftext).toContain(tool);
  });
});
