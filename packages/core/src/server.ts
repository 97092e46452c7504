// Builds an MCP server from a list of tool definitions. Servers never register tools
// themselves: tools/list and tools/call are answered here, through the invoker (the pipeline).
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Invoker } from "./pipeline.ts";
import { hasScopes } from "./scopes.ts";
import type { AnyTool } from "./tool.ts";
import { ToolError } from "./errors.ts";

/** A resource template served by a tool: same JSON, same checks, same audit row. */
export interface ResourceDefinition {
  name: string;
  title: string;
  description: string;
  uriTemplate: string;
  tool: string;
  args: (params: Record<string, string>) => Record<string, unknown>;
}

export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  /** Prompt arguments are strings (MCP); describe each for the client. */
  args: Record<string, z.ZodType<string | undefined>>;
  build: (args: Record<string, string | undefined>) => string;
}

export interface ServerSpec {
  name: string;
  version: string;
  instructions?: string;
  invoker: Invoker;
  resources?: readonly ResourceDefinition[];
  prompts?: readonly PromptDefinition[];
}

/** The tool as tools/list shows it: JSON Schemas generated from the zod schemas, never written twice. */
export function describeTool(tool: AnyTool): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.input, { target: "draft-7", io: "input" }) as Tool["inputSchema"],
    outputSchema: z.toJSONSchema(tool.output, { target: "draft-7", io: "output" }) as Tool["outputSchema"],
    annotations: { title: tool.title, ...tool.annotations },
    _meta: { "marketsage/scopes": [...tool.scopes] },
  };
}

export function createMcpServer(spec: ServerSpec): McpServer {
  const mcp = new McpServer(
    { name: spec.name, version: spec.version },
    { capabilities: { tools: { listChanged: false } }, ...(spec.instructions ? { instructions: spec.instructions } : {}) },
  );
  const described = new Map<string, Tool>();
  for (const t of spec.invoker.tools.values()) described.set(t.name, describeTool(t));

  mcp.server.setRequestHandler(ListToolsRequestSchema, async () => {
    let principal;
    try {
      principal = await spec.invoker.principal();
    } catch (err) {
      throw new McpError(ErrorCode.InvalidRequest, err instanceof ToolError ? err.message : "authentication failed");
    }
    const tools = [...spec.invoker.tools.values()].filter((t) => hasScopes(principal.scopes, t.scopes)).map((t) => described.get(t.name)!);
    return { tools };
  });

  mcp.server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const token = req.params._meta?.progressToken;
    const { result } = await spec.invoker.call(req.params.name, req.params.arguments ?? {}, {
      path: "mcp",
      signal: extra.signal,
      progress:
        token === undefined
          ? undefined
          : async (progress, total, message) => {
              await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, total, message } });
            },
    });
    return result;
  });

  for (const r of spec.resources ?? []) {
    if (!spec.invoker.tools.has(r.tool)) continue;
    mcp.registerResource(
      r.name,
      new ResourceTemplate(r.uriTemplate, { list: undefined }),
      { title: r.title, description: r.description, mimeType: "application/json" },
      async (uri, params) => {
        const flat = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]));
        const { result } = await spec.invoker.call(r.tool, r.args(flat), { path: "mcp" });
        if (result.isError) {
          const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join(" ");
          throw new McpError(ErrorCode.InvalidParams, text);
        }
        return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(result.structuredContent) }] };
      },
    );
  }

  for (const p of spec.prompts ?? []) {
    mcp.registerPrompt(p.name, { title: p.title, description: p.description, argsSchema: p.args }, async (args: Record<string, string | undefined>) => ({
      messages: [{ role: "user", content: { type: "text", text: p.build(args) } }],
    }));
  }
  return mcp;
}
