// One server, end to end over a real stdio child process: start it, check its health, list its
// tools, call every listed tool with arguments from the demo data, and check each answer is
// not an error and matches the tool's own output schema. Then stop it and prove it is gone.
import { hasScopes, scopesFor, toolsAfterFlags, type BuilderContext, type Flags, type HarnessSpec, type Logger } from "@marketsage/core";
import type { Role } from "@marketsage/db";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { LaunchSpec } from "../connection.ts";
import { createServerManager, type HealthReport } from "../manager.ts";
import type { LoadedEntry } from "../registry.ts";

export interface ToolRun {
  server: string;
  tool: string;
  title: string;
  args: Record<string, unknown> | undefined;
  ok: boolean;
  ms: number | undefined;
  error: string | undefined;
  /** The tool's short text rendering (what a person or a model reads). */
  answer: string | undefined;
}

export interface ServerRun {
  server: string;
  instructions: string | undefined;
  health: HealthReport | undefined;
  listed: string[];
  runs: ToolRun[];
  /** Failures that are not one tool's: start-up, listing, orphans. */
  problems: string[];
}

export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n").trim();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function exerciseServer(
  entry: LoadedEntry,
  harness: HarnessSpec,
  launch: LaunchSpec,
  ctx: BuilderContext,
  opts: { log: Logger; flags: Flags; role: Role; callTimeoutMs: number; onTool?: (run: ToolRun) => void },
): Promise<ServerRun> {
  const name = entry.name;
  const mod = entry.pkg.module;
  const out: ServerRun = { server: name, instructions: mod.instructions, health: undefined, listed: [], runs: [], problems: [] };
  const manager = createServerManager({ servers: [{ name, launch, healthCheck: entry.pkg.healthCheck }], log: opts.log, callTimeoutMs: opts.callTimeoutMs });
  try {
    out.health = await manager.health(name);
    if (!out.health.ok) {
      out.problems.push(`health check failed: ${out.health.error}`);
      return out;
    }
    const conn = manager.connection(name)!;
    out.listed = conn.tools.map((t) => t.name);
    // What this role must see under these flags, decided from the tools' own metadata.
    const expected = toolsAfterFlags(mod.tools, opts.flags).filter((t) => hasScopes(scopesFor(opts.role), t.scopes)).map((t) => t.name);
    for (const t of expected) if (!out.listed.includes(t)) out.problems.push(`${t} is defined but not listed`);

    for (const listed of conn.tools) {
      const def = mod.tools.find((t) => t.name === listed.name);
      const run: ToolRun = { server: name, tool: listed.name, title: listed.title ?? listed.name, args: undefined, ok: false, ms: undefined, error: undefined, answer: undefined };
      out.runs.push(run);
      try {
        if (!def) throw new Error("listed by the server but not in its module: its output schema is unknown");
        const builder = harness.builders[listed.name];
        if (!builder) throw new Error(`no argument builder (add one to packages/${name}/src/harness.ts)`);
        run.args = await builder(ctx);
        const t0 = performance.now();
        const result = await conn.callTool(listed.name, run.args, opts.callTimeoutMs);
        run.ms = performance.now() - t0;
        run.answer = textOf(result);
        if (result.isError) throw new Error(`answered with an error: ${run.answer}`);
        const parsed = def.output.safeParse(result.structuredContent);
        if (!parsed.success) {
          throw new Error(`output does not match its schema: ${parsed.error.issues.slice(0, 3).map((i: { path: PropertyKey[]; message: string }) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ")}`);
        }
        run.ok = true;
      } catch (err) {
        run.error = (err as Error).message;
      }
      opts.onTool?.(run);
    }
  } finally {
    const pid = manager.connection(name)?.pid;
    await manager.stopAll();
    if (pid && pidAlive(pid)) out.problems.push(`process ${pid} is still running after stop`);
  }
  return out;
}
