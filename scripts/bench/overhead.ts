// Per-call overhead of the seam (auth, scope, rate limit, audit, mapping) over the bare SDK:
// the same trivial tool, both over the in-memory transport so only the pipeline differs.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { createInvoker, createMcpServer, defineTool, type Runtime } from "@marketsage/core";
import { bareServer } from "./bare-server.ts";
import { time, type Sample } from "./stats.ts";

const echo = defineTool({
  name: "echo_message",
  title: "Echo",
  description: "Echo.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ message: z.string() }),
  output: z.object({ message: z.string() }),
  handler: ({ message }) => ({ message }),
});

async function connect(server: McpServer): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const c = new Client({ name: "bench", version: "0" });
  await c.connect(a);
  return c;
}

export async function benchOverhead(runtime: Runtime, apiKey: string, n: number): Promise<Sample> {
  const bare = await connect(bareServer());
  const ours = await connect(createMcpServer({ name: "bench", version: "0", invoker: createInvoker({ server: "monitoring", tools: [echo], runtime, apiKey }) }));
  await bare.listTools();
  await ours.listTools();
  const ref = await time(n, (i) => bare.callTool({ name: "echo_message", arguments: { message: String(i) } }), 20);
  const ms = await time(n, (i) => ours.callTool({ name: "echo_message", arguments: { message: String(i) } }), 20);
  await bare.close();
  await ours.close();
  return { name: "per-call, trivial tool through the seam", ms, reference: { name: "bare SDK tool", ms: ref } };
}
