// The typed client: the same answers, the same errors and the same audit rows over MCP (a real
// stdio child process, or Streamable HTTP) and direct (in-process, through the same pipeline).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createInvoker, createMcpServer } from "@marketsage/core";
import { testRuntime } from "@marketsage/core/testing";
import { customerDataServer } from "@marketsage/customer-data";
import { createMarketSageClient, MarketSageToolError, type MarketSageClient } from "../src/index.ts";
import { AGENT_KEY, quietLog, useClientTestBed } from "./helpers.ts";

const bed = useClientTestBed();
let mcp: MarketSageClient;
let direct: MarketSageClient;
let customer: { id: string; email: string; first_name: string };

beforeAll(async () => {
  const base = { apiKey: AGENT_KEY, databaseUrl: bed.url, env: {}, log: quietLog };
  mcp = await createMarketSageClient({ ...base, mode: "mcp" });
  direct = await createMarketSageClient({ ...base, mode: "direct" });
  [customer] = await bed.q<{ id: string; email: string; first_name: string }>(
    `select id::text, email, first_name from contacts where organization_id = $1::uuid and email is not null and first_name is not null
      and exists (select 1 from predictions p where p.contact_id = contacts.id) order by created_at, id limit 1`,
    ["0a9f4d7e-1c1b-4f0e-9a51-6b1d3c2e0001"],
  ) as [typeof customer];
});
afterAll(async () => {
  await mcp?.close();
  await direct?.close();
});

describe("typed client, mcp vs direct", () => {
  it("returns equal data for the same calls, and says which path served each", async () => {
    const calls = [
      (c: MarketSageClient) => c.customerData.searchCustomers({ query: customer.first_name, limit: 10 }),
      (c: MarketSageClient) => c.customerData.getCustomerProfile({ email: customer.email }),
      (c: MarketSageClient) => c.customerData.getCustomerPredictions({ id: customer.id }),
    ];
    for (const call of calls) {
      const [a, b] = [await call(mcp), await call(direct)];
      expect(a.servedBy).toBe("mcp");
      expect(b.servedBy).toBe("direct");
      expect(a.fallbackReason).toBeUndefined();
      expect(b.data).toEqual(a.data);
    }
    const found = await mcp.customerData.searchCustomers({ query: customer.first_name, limit: 50 });
    expect(found.data.customers.map((c) => c.id)).toContain(customer.id);
  });

  it("turns a tool error into the same typed error on both paths (an answer, not a fallback)", async () => {
    const missing = "00000000-0000-4000-8000-000000000000";
    const errs = await Promise.all(
      [mcp, direct].map((c) => c.customerData.getCustomerProfile({ id: missing }).then(() => undefined, (e: unknown) => e)),
    );
    for (const e of errs) expect(e).toBeInstanceOf(MarketSageToolError);
    const [a, b] = errs as [MarketSageToolError, MarketSageToolError];
    expect(a.code).toBe("NOT_FOUND");
    expect(a.servedBy).toBe("mcp");
    expect(b.servedBy).toBe("direct");
    expect([b.code, b.message]).toEqual([a.code, a.message]);
    expect(a.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("writes the same audit rows whichever path served the call, except the path", async () => {
    const max = (await bed.q<{ max: string }>(`select coalesce(max(id), 0)::text as max from audit_events`))[0]!.max;
    await mcp.customerData.searchCustomers({ query: customer.first_name, limit: 3 });
    await direct.customerData.searchCustomers({ query: customer.first_name, limit: 3 });
    await mcp.customerData.getCustomerPredictions({ id: "00000000-0000-4000-8000-000000000000" }).catch(() => undefined);
    await direct.customerData.getCustomerPredictions({ id: "00000000-0000-4000-8000-000000000000" }).catch(() => undefined);
    const rows = await bed.q(
      `select organization_id, actor_user_id, api_key_id, role::text, server, tool, path, args_hash, args, outcome::text, error_code, result_bytes
         from audit_events where id > $1 order by id`,
      [max],
    );
    expect(rows.map((r) => r.path)).toEqual(["mcp", "direct", "mcp", "direct"]);
    expect(rows.map((r) => r.outcome)).toEqual(["ALLOWED", "ALLOWED", "FAILED", "FAILED"]);
    const strip = ({ path: _p, ...rest }: Record<string, unknown>) => rest;
    expect(strip(rows[1]!)).toEqual(strip(rows[0]!));
    expect(strip(rows[3]!)).toEqual(strip(rows[2]!));
    expect(rows[2]!.error_code).toBe("NOT_FOUND");
  });
});

describe("typed client over Streamable HTTP", () => {
  let server: http.Server;
  let url: string;
  const runtime = () => testRuntime(bed.url);
  let rt: ReturnType<typeof runtime>;

  beforeAll(async () => {
    rt = runtime();
    // Stateless: a server and transport per request, built by core's factory like any other.
    server = http.createServer(async (req, res) => {
      const invoker = createInvoker({ server: "customer-data", tools: customerDataServer.tools, runtime: rt, apiKey: req.headers.authorization?.replace(/^Bearer /, "") });
      const mcpServer = createMcpServer({ name: "http-test", version: "0", invoker });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on("close", () => void transport.close().then(() => mcpServer.close()));
      await mcpServer.connect(transport);
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await rt?.close();
  });

  it("connects to the configured URL instead of spawning, with the same answers", async () => {
    const viaHttp = await createMarketSageClient({ apiKey: AGENT_KEY, databaseUrl: bed.url, log: quietLog, mode: "mcp", env: { MCP_CUSTOMER_DATA_URL: url } });
    try {
      const a = await viaHttp.customerData.getCustomerProfile({ id: customer.id });
      const b = await direct.customerData.getCustomerProfile({ id: customer.id });
      expect(a.servedBy).toBe("mcp");
      expect(viaHttp.status()[0]!.pid).toBeNull(); // nothing was spawned
      expect(a.data).toEqual(b.data);
    } finally {
      await viaHttp.close();
    }
  });

  it("falls back to direct when the configured URL refuses connections", async () => {
    const dead = url.replace(/:\d+\//, ":1/");
    const c = await createMarketSageClient({ apiKey: AGENT_KEY, databaseUrl: bed.url, log: quietLog, env: { MCP_CUSTOMER_DATA_URL: dead } });
    try {
      const r = await c.customerData.searchCustomers({ limit: 1 });
      expect(r.servedBy).toBe("direct");
      expect(r.fallbackReason).toBe("connect_failed");
    } finally {
      await c.close();
    }
  });
});
