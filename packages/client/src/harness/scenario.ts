// The story across servers: each catalog server's story steps, run over MCP through the app's
// typed client as an AI agent would, and then the proof that every call the story made is in
// the audit log, in order, as path mcp and allowed.
import type { HarnessSpec, StoryContext } from "@marketsage/core";
import type pg from "pg";
import type { MarketSageClient } from "../client.ts";
import type { LoadedEntry } from "../registry.ts";
import { check, expectThat, type Check } from "./checks.ts";
import type { BuilderContext } from "./demo-data.ts";

export async function runScenario(
  client: MarketSageClient,
  servers: ReadonlyArray<{ entry: LoadedEntry; harness: HarnessSpec }>,
  ctx: BuilderContext,
  sql: pg.Client,
  agentUserId: string,
  say: (line: string) => void,
): Promise<Check[]> {
  const checks: Check[] = [];
  const before = Number((await sql.query(`select coalesce(max(id), 0)::text as id from audit_events`)).rows[0].id);
  const calls: string[] = [];
  const state: Record<string, unknown> = {};

  for (const { entry, harness } of servers) {
    if (!harness.story) continue;
    say(`■ The story (${entry.name}): ${harness.story.title}.`);
    const s: StoryContext = {
      ctx,
      state,
      say,
      async call<T>(tool: string, args: Record<string, unknown>) {
        calls.push(tool); // counted when asked: a failed call leaves an audit row too
        return (await client.call(entry.name, tool, args)).data as T;
      },
      async callOn<T>(server: string, tool: string, args: Record<string, unknown>) {
        calls.push(tool);
        return (await client.call(server, tool, args)).data as T;
      },
    };
    for (const step of harness.story.steps) checks.push(await check("scenario", `${entry.name}: ${step.name}`, () => step.run(s)));
  }
  if (calls.length === 0) return checks;

  checks.push(
    await check("scenario", "every call of the story is in the audit log", async () => {
      const rows = (
        await sql.query<{ tool: string; path: string; outcome: string }>(
          `select tool, path, outcome::text as outcome from audit_events where id > $1 and actor_user_id = $2::uuid order by occurred_at, id`,
          [before, agentUserId],
        )
      ).rows;
      const tools = rows.map((r) => r.tool);
      expectThat(JSON.stringify(tools) === JSON.stringify(calls), `audit shows [${tools.join(", ")}], calls were [${calls.join(", ")}]`);
      expectThat(rows.every((r) => r.path === "mcp" && r.outcome === "ALLOWED"), "an audit row is not path=mcp, outcome=ALLOWED");
      say(`  The audit log has ${rows.length} new rows for the agent, in order: ${tools.join(" → ")} (path mcp, allowed).`);
      return `${rows.length} rows`;
    }),
  );
  return checks;
}
