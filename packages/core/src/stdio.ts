// The stdio transport: one process per server, spawned by an MCP client. The bootstrap does the
// work (configuration, flags, database, key); this file connects stdin/stdout and handles exits.
import { RobustStdioServerTransport } from "./transports/stdio-transport.ts";
import { bootstrap, EXIT, StartupError, type CatalogView, type ServerModule } from "./bootstrap.ts";
import { createMcpServer } from "./server.ts";

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Work that runs beside the server in its process (the bulk-send worker with MARKETSAGE_WORKER=1), on its runtime. */
export type StdioBackground = (booted: { runtime: { db: import("@marketsage/db").Db }; log: import("./logger.ts").Logger }) => Promise<{ stop(): Promise<void> }>;

export async function runStdioServer(mod: ServerModule, env: NodeJS.ProcessEnv, catalog: CatalogView, opts: { background?: StdioBackground } = {}): Promise<void> {
  let booted;
  try {
    booted = await bootstrap({ name: mod.name, env, catalog, servers: [mod], apiKey: "from-env", disabledIsFatal: true });
  } catch (e) {
    if (e instanceof StartupError) fail(e.exitCode, e.message);
    fail(EXIT.FATAL, `${mod.name}: could not start: ${(e as Error).message}`);
  }
  const { log } = booted;
  const invoker = booted.invoker(mod.name, booted.config.apiKey);
  const server = createMcpServer({ name: `marketsage-${mod.name}`, version: mod.version, instructions: mod.instructions, invoker, resources: mod.resources, prompts: mod.prompts });
  let closing = false;
  let background: { stop(): Promise<void> } | null = null;
  const shutdown = async (why: string, code = 0) => {
    if (closing) return;
    closing = true;
    log.info({ why }, "shutting down");
    await background?.stop().catch(() => undefined);
    await server.close().catch(() => undefined);
    await booted.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.stdin.on("close", () => void shutdown("stdin closed"));
  await server.connect(new RobustStdioServerTransport({ log, maxMessageBytes: booted.config.maxMessageBytes }));
  log.info("ready on stdio");
  if (opts.background) {
    try {
      background = await opts.background({ runtime: booted.runtime, log });
    } catch (e) {
      log.warn({ err: (e as Error).message }, "background work could not start; the server answers tools without it");
    }
  }
}
