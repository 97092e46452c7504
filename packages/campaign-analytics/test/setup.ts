// Shared by the campaign-analytics tests: clients per role on a cloned, seeded database, and raw SQL.
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { campaignAnalyticsServer } from "../src/server.ts";

export const ORG_A = DEMO_ORGS[0]!;
export const ORG_B = DEMO_ORGS[1]!;

export function useCampaignAnalytics() {
  const tdb = useTestDatabase();
  let runtime: Runtime;
  let sql: pg.Client;
  const clients = new Map<string, TestClient>();
  beforeAll(async () => {
    runtime = testRuntime(tdb.url, { now: () => tdb.now });
    sql = new pg.Client({ connectionString: tdb.url });
    await sql.connect();
  });
  afterAll(async () => {
    for (const c of clients.values()) await c.close();
    await sql?.end();
    await runtime?.close();
  });
  async function as(role: Role, org = ORG_A): Promise<TestClient> {
    const k = `${org.slug}:${role}`;
    let c = clients.get(k);
    if (!c) {
      c = await connectTestClient({
        server: "campaign-analytics",
        tools: campaignAnalyticsServer.tools,
        resources: campaignAnalyticsServer.resources,
        prompts: campaignAnalyticsServer.prompts,
        runtime,
        apiKey: demoApiKey(org, role),
      });
      clients.set(k, c);
    }
    return c;
  }
  async function call<T = any>(role: Role, name: string, args: Record<string, unknown>, org = ORG_A): Promise<T> {
    const r = await (await as(role, org)).client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    return r.structuredContent as T;
  }
  async function callRaw(role: Role, name: string, args: Record<string, unknown>, org = ORG_A) {
    return (await as(role, org)).client.callTool({ name, arguments: args });
  }
  async function q<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await sql.query(text, params)).rows as T[];
  }
  return { as, call, callRaw, q, get url() { return tdb.url; }, get now() { return tdb.now; } };
}

export const textOf = (r: unknown) => (((r as { content?: unknown }).content as Array<{ text?: string }>) ?? []).map((c) => c.text ?? "").join("\n");
