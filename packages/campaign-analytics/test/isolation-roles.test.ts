// Organization isolation, the role matrix, strict input, the campaign:// resource, the post-mortem
// prompt, and text content that carries every figure — for list_campaigns and get_campaign_metrics.
import { beforeAll, describe, expect, it } from "vitest";
import { DEMO_ROLES } from "@marketsage/db";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { getCampaignMetrics } from "../src/tools/get-campaign-metrics.ts";
import { listCampaigns } from "../src/tools/list-campaigns.ts";
import { refCampaignIds } from "./reference-sql.ts";
import { ORG_A, ORG_B, textOf, useCampaignAnalytics } from "./setup.ts";

const ca = useCampaignAnalytics();

/** Every campaign of an organization through list_campaigns, following the cursor. */
async function listedIds(org: typeof ORG_A, role: (typeof DEMO_ROLES)[number] = "USER"): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const out = await ca.call(role, "list_campaigns", { limit: 50, ...(cursor ? { cursor } : {}) }, org);
    ids.push(...out.campaigns.map((c: { id: string }) => c.id));
    if (!out.next_cursor) return ids;
    cursor = out.next_cursor;
  }
  throw new Error("list_campaigns never ended");
}

let aIds: string[] = [];
let bIds: string[] = [];
let abId: string; // an A/B-tested campaign of org A with messages
let emailId: string;

beforeAll(async () => {
  aIds = await refCampaignIds(ca.q, ORG_A.id);
  bIds = await refCampaignIds(ca.q, ORG_B.id);
  [{ id: abId }] = await ca.q<any>(
    `select c.id::text id from campaigns c where c.organization_id = $1 and exists (select 1 from campaign_variants v where v.campaign_id = c.id)
        and exists (select 1 from messages m where m.campaign_id = c.id) order by c.id limit 1`,
    [ORG_A.id],
  );
  [{ id: emailId }] = await ca.q<any>(`select c.id::text id from campaigns c where c.organization_id = $1 and c.channel = 'EMAIL' and c.status = 'SENT' order by c.id limit 1`, [ORG_A.id]);
});

describe("organization isolation", () => {
  it("both organizations have campaigns, and none in common", () => {
    expect(aIds.length).toBeGreaterThan(5);
    expect(bIds.length).toBeGreaterThan(5);
    expect(aIds.filter((x) => bIds.includes(x))).toEqual([]);
  });

  it("list_campaigns lists exactly the caller's organization's campaigns", async () => {
    expect(await listedIds(ORG_B)).toEqual(bIds);
    expect(await listedIds(ORG_A)).toEqual(aIds);
  });

  it("get_campaign_metrics of an org-A campaign from org B's key is NOT_FOUND, with no figure of it", async () => {
    for (const id of aIds.slice(0, 5).concat(abId)) {
      const r = await ca.callRaw("USER", "get_campaign_metrics", { id }, ORG_B);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/NOT_FOUND/);
      expect(textOf(r)).toContain(id);
      expect(r.structuredContent).toBeUndefined();
    }
    // the same id from its own organization is found
    expect((await ca.callRaw("USER", "get_campaign_metrics", { id: abId }, ORG_A)).isError).toBeFalsy();
  });

  it("the resource campaign://{id} of an org-A campaign fails from org B's key", async () => {
    const b = (await ca.as("USER", ORG_B)).client;
    await expect(b.readResource({ uri: `campaign://${abId}` })).rejects.toThrow(/NOT_FOUND/);
  });
});

describe("roles", () => {
  it.each(DEMO_ROLES)("%s lists both tools and calls them (campaigns:read)", async (role) => {
    const tools = (await (await ca.as(role)).client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["list_campaigns", "get_campaign_metrics"]));
    const list = await ca.call(role, "list_campaigns", { limit: 5 });
    expect(list.campaigns.map((c: { id: string }) => c.id)).toEqual(aIds.slice(0, 5));
    const m = await ca.call(role, "get_campaign_metrics", { id: abId });
    expect(m.campaign.id).toBe(abId);
    // no role sees other figures than another
    expect(m).toEqual(await ca.call("USER", "get_campaign_metrics", { id: abId }));
  });
});

describe("strict input", () => {
  const refused = async (name: string, args: Record<string, unknown>) => {
    const r = await ca.callRaw("USER", name, args);
    expect(r.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
    return textOf(r);
  };

  it("an unknown argument is refused by name, listing the accepted ones", async () => {
    expect(await refused("get_campaign_metrics", { id: abId, variant: "A" })).toContain(
      `INVALID_INPUT: Invalid arguments for get_campaign_metrics: Unknown argument "variant"; accepted: id, include_variants, attribution_days`,
    );
    expect(await refused("list_campaigns", { search: "x" })).toContain(`Unknown argument "search"; accepted: channel, status, range, name, limit, cursor`);
    const nested = await refused("list_campaigns", { range: { preset: "7d", since: "x" } });
    expect(nested).toMatch(/INVALID_INPUT/);
    expect(nested).toContain(`"since"`);
  });

  it.each([
    ["get_campaign_metrics", { id: 42 }, "id"],
    ["get_campaign_metrics", { id: "not-a-uuid" }, "id"],
    ["get_campaign_metrics", { attribution_days: 7 }, "id"],
    ["get_campaign_metrics", { id: "00000000-0000-4000-8000-000000000000", attribution_days: "7" }, "attribution_days"],
    ["get_campaign_metrics", { id: "00000000-0000-4000-8000-000000000000", attribution_days: 0 }, "attribution_days"],
    ["get_campaign_metrics", { id: "00000000-0000-4000-8000-000000000000", attribution_days: 91 }, "attribution_days"],
    ["get_campaign_metrics", { id: "00000000-0000-4000-8000-000000000000", attribution_days: 7.5 }, "attribution_days"],
    ["get_campaign_metrics", { id: "00000000-0000-4000-8000-000000000000", include_variants: "yes" }, "include_variants"],
    ["list_campaigns", { channel: "FAX" }, "channel"],
    ["list_campaigns", { channel: "sms" }, "channel"],
    ["list_campaigns", { status: "SENT" }, "status"],
    ["list_campaigns", { status: [] }, "status"],
    ["list_campaigns", { limit: "5" }, "limit"],
    ["list_campaigns", { limit: 0 }, "limit"],
    ["list_campaigns", { limit: 51 }, "limit"],
    ["list_campaigns", { name: "" }, "name"],
    ["list_campaigns", { range: { from: "yesterday" } }, "range"],
  ] as Array<[string, Record<string, unknown>, string]>)("%s %j is INVALID_INPUT naming %s", async (name, args, field) => {
    const text = await refused(name, args);
    expect(text).toMatch(/INVALID_INPUT/);
    expect(text).toContain(field);
  });

  it("a cursor that is not one of ours is refused, not ignored", async () => {
    expect(await refused("list_campaigns", { cursor: "bm90LWEtY3Vyc29y" })).toMatch(/INVALID_INPUT.*cursor/);
  });

  it("a well-formed id that is no campaign is NOT_FOUND", async () => {
    expect(await refused("get_campaign_metrics", { id: "00000000-0000-4000-8000-000000000000" })).toMatch(/NOT_FOUND/);
  });
});

describe("resource and prompt", () => {
  it("campaign://{id} returns the same JSON as get_campaign_metrics", async () => {
    const client = (await ca.as("USER")).client;
    for (const id of [abId, emailId]) {
      const r = await client.readResource({ uri: `campaign://${id}` });
      expect(r.contents).toHaveLength(1);
      expect(r.contents[0]!.mimeType).toBe("application/json");
      expect(JSON.parse(String((r.contents[0] as { text: string }).text))).toEqual(await ca.call("USER", "get_campaign_metrics", { id }));
    }
  });

  it("campaign_post_mortem is listed and renders with the campaign id", async () => {
    const client = (await ca.as("AI_AGENT")).client;
    const listed = (await client.listPrompts()).prompts.find((p) => p.name === "campaign_post_mortem");
    expect(listed?.arguments?.map((a) => a.name)).toEqual(["campaign_id"]);
    const p = await client.getPrompt({ name: "campaign_post_mortem", arguments: { campaign_id: abId } });
    const text = p.messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
    expect(text).toContain(`id ${abId}`);
    expect(text).toContain("get_campaign_metrics");
  });
});

describe("text content carries the structured content", () => {
  it("get_campaign_metrics, with variants and without, on each channel", async () => {
    const ids = await ca.q(
      `select distinct on (c.channel) c.id::text id from campaigns c where c.organization_id = $1 and exists (select 1 from messages m where m.campaign_id = c.id) order by c.channel, c.id`,
      [ORG_A.id],
    );
    for (const { id } of [...ids, { id: abId }])
      for (const include_variants of [true, false]) {
        const r = await ca.callRaw("USER", "get_campaign_metrics", { id, include_variants });
        expect(r.isError).toBeFalsy();
        expect(valuesMissingFromText(r.structuredContent, getCampaignMetrics.output, textOf(r)), `${id} variants=${include_variants}`).toEqual([]);
      }
  });

  it("list_campaigns, a full page and a filtered one", async () => {
    for (const args of [{ limit: 50 }, { channel: "SMS", limit: 3 }, { range: { preset: "90d" } }]) {
      const r = await ca.callRaw("USER", "list_campaigns", args);
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as { campaigns: unknown[] }).campaigns.length).toBeGreaterThan(0);
      expect(valuesMissingFromText(r.structuredContent, listCampaigns.output, textOf(r)), JSON.stringify(args)).toEqual([]);
    }
  });
});
