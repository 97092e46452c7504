#!/usr/bin/env node
// pnpm serve: the HTTP host (Streamable HTTP at /mcp/<server>, /healthz, /readyz, server routes).
// Settings: MCP_HTTP_PORT (3333), MCP_HTTP_HOST (127.0.0.1), MCP_HTTP_ALLOWED_ORIGINS,
// MCP_HTTP_TRUST_PROXY, MCP_HTTP_MAX_BODY_BYTES, and every core variable (.env.example).
import { EXIT, StartupError } from "@marketsage/core";
import { startHttpHost } from "./start.ts";

let started;
try {
  started = await startHttpHost(process.env);
} catch (e) {
  const code = e instanceof StartupError ? e.exitCode : (e as NodeJS.ErrnoException).code === "EADDRINUSE" ? EXIT.CONFIG : EXIT.FATAL;
  process.stderr.write(`${e instanceof StartupError ? e.message : `http: could not start: ${(e as Error).message}`}\n`);
  process.exit(code);
}
process.stderr.write(`MarketSage MCP host on ${started.url} (MCP at ${started.url}/mcp/<server>)\n`);
for (const line of started.banner) process.stderr.write(`${line}\n`);
let closing = false;
const shutdown = async (why: string) => {
  if (closing) return;
  closing = true;
  process.stderr.write(`http: shutting down (${why})\n`);
  await started.close();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
