// The stdio transport: one process per server, spawned by an MCP client. The bootstrap does the
// work (configuration, flags, database, key); this file connects stdin/stdout and handles exits.
import { RobustStdioServerTransport } from "./transports/stdio-transport.ts";
import { bootstrap, EXIT, StartupError, type CatalogView, type ServerModule } from "./bootstrap.ts";
import { createMcpServer } from "./server.ts";

function fail(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

export async function runStdioServer(mod: ServerModule, env: NodeJS.ProcessEnv, catalog: CatalogView): Promise<void> {
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
  const shutdown = async (why: string, code = 0) => {
    if (closing) return;
    closing = true;
    log.info({ why }, "shutting down");
    await server.close().catch(() => undefined);
    await booted.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.stdin.on("close", () => void shutdown("stdin closed"));
  await server.connect(new RobustStdioServerTransport({ log, maxMessageBytes: booted.config.maxMessageBytes }));
  log.info("ready on stdio");
}
