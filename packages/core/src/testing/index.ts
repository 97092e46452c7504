// The test kit: a real SDK Client connected over the in-memory transport to a server built
// from given tools and a given API key, through the same seam as production.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { ElicitRequestSchema, type ElicitRequest, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import type { Flags, ServerName } from "../config.ts";
import { createLogger } from "../logger.ts";
import { createInvoker, type Invoker } from "../pipeline.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "../runtime.ts";
import { createMcpServer, type PromptDefinition, type ResourceDefinition } from "../server.ts";
import type { AnyTool } from "../tool.ts";

export const ALL_ON: Flags = {
  mcpEnabled: true,
  servers: {},
  readOnly: false,
  tools: undefined,
};

export function testRuntime(databaseUrl: string, over: Partial<RuntimeOptions> = {}): Runtime {
  return createRuntime({
    databaseUrl,
    flags: ALL_ON,
    rateLimits: { callsPerMinute: 0, sendsPerMinute: 60, sendsPerDay: 5000 },
    log: createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    poolSize: 3,
    ...over,
  });
}

export interface TestClient {
  client: Client;
  invoker: Invoker;
  close(): Promise<void>;
}

export async function connectTestClient(opts: {
  server: ServerName;
  tools: readonly AnyTool[];
  runtime: Runtime;
  apiKey: string | undefined;
  resources?: readonly ResourceDefinition[];
  prompts?: readonly PromptDefinition[];
  /** The person's answers to the server's questions: the client then declares elicitation. */
  elicit?: (req: ElicitRequest["params"]) => Promise<ElicitResult> | ElicitResult;
}): Promise<TestClient> {
  const invoker = createInvoker({ server: opts.server, tools: opts.tools, runtime: opts.runtime, apiKey: opts.apiKey });
  const server = createMcpServer({ name: `test-${opts.server}`, version: "0.0.0", invoker, resources: opts.resources, prompts: opts.prompts });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "marketsage-test", version: "0.0.0" }, opts.elicit ? { capabilities: { elicitation: {} } } : {});
  const answer = opts.elicit;
  if (answer) client.setRequestHandler(ElicitRequestSchema, async (req) => answer(req.params));
  await client.connect(clientSide);
  return {
    client,
    invoker,
    async close() {
      await client.close();
      await server.close();
    },
  };
}
export { useTestDatabase } from "./database.ts";
export { useServerUnderTest } from "./server-kit.ts";
