// Per-call overhead of the seam (auth, scope, input parse, rate limit, output parse, render, audit,
// error mapping) over the bare SDK: the same trivial tool, both over the in-memory transport so
// only the pipeline differs, calls taken in turns (bare, seam, bare, …). The overhead is the
// difference of the medians (the Δ column); the target is ≤ 1.0 ms.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { createInvoker, createMcpServer, type Runtime } from "@marketsage/core";
import { bareServer } from "./bare-server.ts";
import { echoTool as echo } from "./echo-tool.ts";
import { timeInterleaved, type Sample } from "./stats.ts";

async function connect(server: McpServer): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const c = new Client({ name: "bench", version: "0" });
  await c.connect(a);
  return c;
}

/**
 * `server` names the rate-limit and audit bucket the calls go to (any catalog server; the tool is
 * the bench's own). The runtime should have limits far above the bench's pace: the limiter still
 * runs on every call.
 */
export async function benchOverhead(runtime: Runtime, apiKey: string, n: number, server = "monitoring"): Promise<Sample> {
  const bare = await connect(bareServer());
  const ours = await connect(createMcpServer({ name: "bench", version: "0", invoker: createInvoker({ server, tools: [echo], runtime, apiKey }) }));
  await bare.listTools();
  await ours.listTools();
  const call = (c: Client) => async (i: number) => {
    const r = await c.callTool({ name: "echo_message", arguments: { message: String(i) } });
    if (r.isError) throw new Error(`echo_message: ${JSON.stringify(r.content)}`);
  };
  const [ref, ms] = await timeInterleaved(n, [call(bare), call(ours)], 50);
  await bare.close();
  await ours.close();
  return { name: "per-call, trivial tool through the seam", ms: ms!, reference: { name: "bare SDK tool", ms: ref! } };
}
