// A server's test kit: a cloned, seeded database, one SDK Client per (organization, role) over the
// in-memory transport through the production seam, and raw SQL for the independent computations.
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import type { ServerModule } from "../bootstrap.ts";
import type { Runtime } from "../runtime.ts";
import { useTestDatabase } from "./database.ts";
import { connectTestClient, testRuntime, type TestClient } from "./index.ts";

type Org = (typeof DEMO_ORGS)[number];

export function useServerUnderTest(module: ServerModule) {
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
  async function as(role: Role, org: Org = DEMO_ORGS[0]!): Promise<TestClient> {
    const k = `${org.slug}:${role}`;
    let c = clients.get(k);
    if (!c) {
      c = await connectTestClient({ server: module.name, tools: module.tools, resources: module.resources, prompts: module.prompts, runtime, apiKey: demoApiKey(org, role) });
      clients.set(k, c);
    }
    return c;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function call<T = any>(role: Role, name: string, args: Record<string, unknown>, org: Org = DEMO_ORGS[0]!): Promise<T> {
    const r = await (await as(role, org)).client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
    return r.structuredContent as T;
  }
  async function callRaw(role: Role, name: string, args: Record<string, unknown>, org: Org = DEMO_ORGS[0]!) {
    return (await as(role, org)).client.callTool({ name, arguments: args });
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function q<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await sql.query(text, params)).rows as T[];
  }
  return { as, call, callRaw, q, get url() { return tdb.url; }, get now() { return tdb.now; } };
}
