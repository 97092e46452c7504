// The direct path: the same wrapped handlers, in-process, through core's pipeline (authentication,
// scope, rate limit, audit with path "direct"). Built lazily: an app that is always served over
// MCP never opens a database pool here.
import { authenticate, createInvoker, createRuntime, type Config, type Invoker, type Logger, type Principal, type Runtime, type ServerName } from "@marketsage/core";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { findServer, type LoadedEntry } from "./registry.ts";

export interface DirectBackend {
  call(server: ServerName, tool: string, args: Record<string, unknown>): Promise<CallToolResult>;
  principal(): Promise<Principal>;
  close(): Promise<void>;
}

export function createDirectBackend(opts: { servers: readonly LoadedEntry[]; databaseUrl: () => Promise<string>; config: Config; apiKey: string; log: Logger }): DirectBackend {
  let runtime: Promise<Runtime> | undefined;
  const invokers = new Map<ServerName, Invoker>();

  const getRuntime = () =>
    (runtime ??= opts.databaseUrl().then((url) =>
      createRuntime({ databaseUrl: url, flags: opts.config.flags, rateLimits: opts.config.rateLimits, log: opts.log, poolSize: 3 }),
    ));

  async function invoker(server: ServerName): Promise<Invoker> {
    let inv = invokers.get(server);
    if (!inv) {
      const entry = findServer(opts.servers, server);
      if (!entry) throw new Error(`Unknown server ${server}`);
      inv = createInvoker({ server, tools: entry.pkg.module.tools, runtime: await getRuntime(), apiKey: opts.apiKey });
      invokers.set(server, inv);
    }
    return inv;
  }

  return {
    async call(server, tool, args) {
      return (await (await invoker(server)).call(tool, args, { path: "direct" })).result;
    },
    async principal() {
      return authenticate((await getRuntime()).db, opts.apiKey, new Date());
    },
    async close() {
      if (runtime) await (await runtime).close();
      runtime = undefined;
      invokers.clear();
    },
  };
}
