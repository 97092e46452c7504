// The trivial tool the platform benchmarks call through the seam (auth, scopes, rate limit, audit):
// the same one the bare SDK reference serves (bare-server.ts), so only the platform differs.
import { z } from "zod";
import { defineTool, type ServerModule } from "@marketsage/core";

export const echoTool = defineTool({
  name: "echo_message",
  title: "Echo",
  description: "Echo.",
  scopes: ["contacts:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({ message: z.string() }),
  output: z.object({ message: z.string() }),
  handler: ({ message }) => ({ message }),
});

/** A one-tool server module for the benchmarks (not in the catalog: it exists only here). */
export const echoModule: ServerModule = { name: "bench-echo", version: "0.0.0", tools: [echoTool] };

/** The bootstrap's view of a catalog holding only the echo server. */
export const echoCatalog = { names: [echoModule.name], toolNames: async () => new Map([[echoModule.name, [echoTool.name]]]) };
