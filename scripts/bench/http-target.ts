// A child process for the HTTP benchmark: `tsx scripts/bench/http-target.ts marketsage|bare`
// serves one trivial tool (echo_message) over Streamable HTTP, stateless, and prints its URL.
// marketsage: the real host (bootstrap, bearer key, pipeline, audit); bare: the SDK alone.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { bootstrap } from "@marketsage/core";
import { createHttpHost } from "@marketsage/http";
import { bareServer } from "./bare-server.ts";
import { echoCatalog, echoModule } from "./echo-tool.ts";

const kind = process.argv[2];
if (kind === "bare") {
  // As the SDK's own stateless example: a server and transport per request, POST only.
  const server = http.createServer(async (req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const mcp = bareServer();
    const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => void t.close().then(() => mcp.close()));
    await mcp.connect(t);
    await t.handleRequest(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, "127.0.0.1", () => process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp\n`));
} else {
  const mod = echoModule;
  const booted = await bootstrap({
    name: "bench-http",
    env: { ...process.env, LOG_LEVEL: "silent" },
    catalog: echoCatalog,
    servers: [mod],
    disabledIsFatal: true,
  });
  const host = createHttpHost({ booted });
  const { url } = await host.listen(0);
  process.stdout.write(`${url}/mcp/${mod.name}\n`);
}
