// The HTTP host: the SDK client over Streamable HTTP gets the same answers as over stdio for every
// catalog server; keys, Origin and Host are checked; health; route body and rate limits.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CATALOG, loadCatalog } from "@marketsage/catalog";
import { builtEntry } from "@marketsage/client";
import { useTestDatabase } from "@marketsage/core/testing";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { startHttpHost, type StartedHost } from "../src/index.ts";

const tdb = useTestDatabase();
const ORG = DEMO_ORGS[0]!;
const KEY = demoApiKey(ORG, "SUPER_ADMIN");
let host: StartedHost;
let hits = 0;

beforeAll(async () => {
  host = await startHttpHost(
    { DATABASE_URL: tdb.url, MCP_HTTP_PORT: "0", LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent" },
    {
      extraRoutes: [
        {
          method: "POST",
          path: "/test/echo",
          bodyLimitBytes: 100,
          rateLimitPerMinute: 3,
          handle: async (req) => {
            hits++;
            return { status: 200, body: { bytes: req.body.length } };
          },
        },
      ],
    },
  );
});
afterAll(async () => {
  await host?.close();
});

async function httpClient(server: string, key = KEY): Promise<Client> {
  const c = new Client({ name: "http-test", version: "0" });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${host.url}/mcp/${server}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return c;
}

async function stdioClient(server: string): Promise<Client> {
  const c = new Client({ name: "stdio-test", version: "0" });
  await c.connect(new StdioClientTransport({ command: process.execPath, args: [builtEntry(server)], env: { PATH: process.env.PATH ?? "", DATABASE_URL: tdb.url, MARKETSAGE_API_KEY: KEY, LOG_LEVEL: "error" } }));
  return c;
}

describe.each(CATALOG.map((e) => [e.name, e] as const))("%s over HTTP", (name, entry) => {
  it("lists the same tools and gives the same answers as over stdio", async () => {
    const harness = await entry.harness();
    const sql = new pg.Client({ connectionString: tdb.url });
    await sql.connect();
    const [viaHttp, viaStdio] = await Promise.all([httpClient(name), stdioClient(name)]);
    try {
      const [a, b] = await Promise.all([viaHttp.listTools(), viaStdio.listTools()]);
      expect(a.tools.length).toBeGreaterThan(0);
      expect(a.tools).toEqual(b.tools);
      const ctx = { orgId: ORG.id, q: async <T,>(text: string, params: unknown[] = []) => (await sql.query(text, params)).rows as T[] };
      for (const tool of harness.stableProbes) {
        const args = await harness.builders[tool]!(ctx as never);
        const [x, y] = await Promise.all([viaHttp.callTool({ name: tool, arguments: args }), viaStdio.callTool({ name: tool, arguments: args })]);
        expect(x.isError, JSON.stringify(x.content)).toBeFalsy();
        expect(x.structuredContent).toEqual(y.structuredContent);
        expect(x.content).toEqual(y.content);
      }
    } finally {
      await Promise.allSettled([viaHttp.close(), viaStdio.close(), sql.end()]);
    }
  });
});

describe("the host's door", () => {
  const post = (path: string, headers: Record<string, string>, body: string) =>
    fetch(`${host.url}${path}`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body });
  const init = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } } });
  const server = CATALOG[0]!.name;

  it("refuses a missing or unknown key with 401 and a WWW-Authenticate challenge", async () => {
    const missing = await post(`/mcp/${server}`, {}, init);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer realm="marketsage", error="invalid_request"/);
    const bad = await post(`/mcp/${server}`, { authorization: "Bearer msk_not_a_key" }, init);
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/not recognised/);
  });

  it("accepts a good key and answers initialize", async () => {
    const r = await post(`/mcp/${server}`, { authorization: `Bearer ${KEY}` }, init);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name).toBe(`marketsage-${server}`);
  });

  it("refuses a foreign Origin and a foreign Host (DNS rebinding) with 403", async () => {
    const origin = await post(`/mcp/${server}`, { authorization: `Bearer ${KEY}`, origin: "http://evil.example" }, init);
    expect(origin.status).toBe(403);
    const self = await post(`/mcp/${server}`, { authorization: `Bearer ${KEY}`, origin: host.url }, init);
    expect(self.status).toBe(200);
    // fetch will not forge Host: use node:http directly.
    const http = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${host.url}/mcp/${server}`, { method: "POST", headers: { host: "evil.example", authorization: `Bearer ${KEY}`, "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(init);
    });
    expect(status).toBe(403);
  });

  it("answers 405 to GET on a stateless endpoint, 404 to an unknown server, and a parse error to a body that is not JSON", async () => {
    const get = await fetch(`${host.url}/mcp/${server}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const unknown = await post("/mcp/no-such-server", { authorization: `Bearer ${KEY}` }, init);
    expect(unknown.status).toBe(404);
    const notJson = await post(`/mcp/${server}`, { authorization: `Bearer ${KEY}` }, "{not json");
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it("answers a malformed request with a JSON-RPC error carrying its id, and wrong argument types as INVALID_INPUT naming the field", async () => {
    const bad = await post(`/mcp/${server}`, { authorization: `Bearer ${KEY}` }, JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: "not-an-object" }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ id: 7, error: { code: -32602 } });
    const pkg = await CATALOG[0]!.load();
    const tool = pkg.healthCheck.tool;
    const wrong = await post(`/mcp/${server}`, { authorization: `Bearer ${KEY}` }, JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: tool, arguments: { limit: "abc", nope: 1 } } }));
    const body = (await wrong.json()) as { id: number; result: { isError: boolean; content: Array<{ text: string }> } };
    expect(body.id).toBe(8);
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0]!.text).toMatch(/^INVALID_INPUT: .*nope/);
  });

  it("reports health and readiness", async () => {
    const h = await fetch(`${host.url}/healthz`);
    expect(h.status).toBe(200);
    expect(((await h.json()) as { servers: string[] }).servers).toEqual((await loadCatalog()).map((e) => e.name));
    const r = await fetch(`${host.url}/readyz`);
    expect(r.status).toBe(200);
  });

  it("enforces a route's body limit (413) and its rate limit (429 with Retry-After)", async () => {
    const big = await post("/test/echo", {}, "x".repeat(101));
    expect(big.status).toBe(413);
    const before = hits;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post("/test/echo", {}, "{}")).status);
    // The 413 above already took one of the three points.
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(hits - before).toBe(2);
    const limited = await post("/test/echo", {}, "{}");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
