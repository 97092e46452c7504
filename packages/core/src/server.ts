// Builds an MCP server from a list of tool definitions. Servers never register tools
// themselves: tools/list and tools/call are answered here, through the invoker (the pipeline).
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ElicitResultSchema, McpError, ErrorCode, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { Invoker } from "./pipeline.ts";
import { hasScopes } from "./scopes.ts";
import type { AnyTool, ElicitSchema } from "./tool.ts";
import { databaseToolError } from "./db-errors.ts";
import { ToolError } from "./errors.ts";
import { compactSchema, type JsonSchema } from "./json-schema.ts";

/** How long a question to the person (elicitation) may wait for their answer. */
export const ELICIT_TIMEOUT_MS = 10 * 60_000;

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

// What the spec gives meaning to: destructive/idempotent hints only speak of tools that write.
// (The title is the tool's own `title`; scopes are not listed: tools/list shows the caller only
// the tools its scopes allow.)
function hints(a: AnyTool["annotations"]): Tool["annotations"] {
  return a.readOnlyHint ? { readOnlyHint: true, openWorldHint: a.openWorldHint } : { ...a };
}

/**
 * The tool as tools/list shows it: JSON Schemas generated from the zod schemas (never written
 * twice), compacted (json-schema.ts) because every definition is part of every conversation.
 */
export function describeTool(tool: AnyTool): Tool {
  const schema = (s: z.ZodType, io: "input" | "output") => compactSchema(z.toJSONSchema(s, { target: "draft-7", io }) as JsonSchema, { io });
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: schema(tool.input, "input") as Tool["inputSchema"],
    outputSchema: schema(tool.output, "output") as Tool["outputSchema"],
    annotations: hints(tool.annotations),
  };
}

/** tools/list with its params unparsed: the handler checks them (see createMcpServer). */
const ListToolsRequest = z.object({ method: z.literal("tools/list"), params: z.unknown().optional() });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const kindOf = (v: unknown) => (v === undefined ? "nothing" : v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

/** Why tools/list could not be answered: the key refused, or the database down or slow. */
function listingError(err: unknown): Error {
  if (err instanceof ToolError) return protocolError(ErrorCode.InvalidRequest, err.message);
  const db = databaseToolError(err, {});
  if (db) return protocolError(ErrorCode.InternalError, `${db.code}: ${db.message}`, { code: db.code, ...db.details });
  return protocolError(ErrorCode.InternalError, "authentication failed");
}

/**
 * A JSON-RPC error as the SDK sends it (it reads `code`, `message`, `data` off what a handler
 * throws), without McpError's "MCP error -32602:" prefix in the message, so these read like the
 * transport's own replies.
 */
function protocolError(code: number, message: string, data?: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { code, ...(data ? { data } : {}) });
}

const descriptions = new WeakMap<AnyTool, Tool>();
function describedOnce(tool: AnyTool): Tool {
  let d = descriptions.get(tool);
  if (!d) descriptions.set(tool, (d = describeTool(tool)));
  return d;
}

export function createMcpServer(spec: ServerSpec): McpServer {
  const mcp = new McpServer(
    { name: spec.name, version: spec.version },
    { capabilities: { tools: { listChanged: false } }, ...(spec.instructions ? { instructions: spec.instructions } : {}) },
  );
  // Described once per tool per process: the HTTP host builds a server per request.
  const described = new Map<string, Tool>();
  for (const t of spec.invoker.tools.values()) described.set(t.name, describedOnce(t));

  // tools/list and tools/call check their own params: the SDK's parse of its request schemas
  // answers a wrong type with -32603 and zod's raw issue list, and for tools/call that would make
  // arguments of the wrong type a protocol error instead of a result the model can read and fix.
  mcp.server.setRequestHandler(ListToolsRequest, async (req) => {
    const cursor = isRecord(req.params) ? req.params.cursor : undefined;
    if (cursor !== undefined && typeof cursor !== "string") throw protocolError(ErrorCode.InvalidParams, `Invalid params: cursor: expected a string, got ${kindOf(cursor)}`);
    let principal;
    try {
      principal = await spec.invoker.principal();
    } catch (err) {
      throw listingError(err);
    }
    const tools = [...spec.invoker.tools.values()].filter((t) => hasScopes(principal.scopes, t.scopes)).map((t) => described.get(t.name)!);
    return { tools };
  });

  // tools/call is answered as the fallback handler because the SDK's Server wraps every
  // setRequestHandler("tools/call") in its own CallToolRequestSchema parse. Only the tool's name is
  // protocol here; the arguments, whatever their type, go to the pipeline, which checks them
  // against the tool's schema (INVALID_INPUT naming the field) and audits the call. McpServer
  // installs its own tools/call handler when the tools capability is declared: remove it.
  mcp.server.removeRequestHandler("tools/call");
  mcp.server.fallbackRequestHandler = async (req, extra) => {
    if (req.method !== "tools/call") throw protocolError(ErrorCode.MethodNotFound, "Method not found");
    const params: Record<string, unknown> = isRecord(req.params) ? req.params : {};
    if (typeof params.name !== "string" || params.name === "") {
      throw protocolError(ErrorCode.InvalidParams, `Invalid params: name: expected the tool's name (a string), got ${kindOf(params.name)}`);
    }
    const meta = params._meta;
    const token = isRecord(meta) && (typeof meta.progressToken === "string" || typeof meta.progressToken === "number") ? meta.progressToken : undefined;
    const canElicit = !!mcp.server.getClientCapabilities()?.elicitation;
    const { result } = await spec.invoker.call(params.name, params.arguments ?? {}, {
      path: "mcp",
      signal: extra.signal,
      ...(canElicit
        ? {
            elicit: async (message: string, requestedSchema: ElicitSchema) => {
              const r = await extra.sendRequest({ method: "elicitation/create", params: { message, requestedSchema } }, ElicitResultSchema, { timeout: ELICIT_TIMEOUT_MS });
              return { action: r.action, ...(r.content ? { content: r.content as Record<string, unknown> } : {}) };
            },
          }
        : {}),
      progress:
        token === undefined
          ? undefined
          : async (progress, total, message) => {
              await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, total, message } });
            },
    });
    return result;
  };

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
