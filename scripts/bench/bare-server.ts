// The reference for cold start and per-call overhead: the MCP SDK alone, one trivial tool.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

export function bareServer(): McpServer {
  const s = new McpServer({ name: "bare", version: "0.0.0" });
  s.registerTool(
    "echo_message",
    { title: "Echo", description: "Echo.", inputSchema: z.object({ message: z.string() }), outputSchema: z.object({ message: z.string() }) },
    async ({ message }) => ({ content: [{ type: "text", text: message }], structuredContent: { message } }),
  );
  return s;
}

if (process.argv[1]?.endsWith("bare.js")) await bareServer().connect(new StdioServerTransport());
