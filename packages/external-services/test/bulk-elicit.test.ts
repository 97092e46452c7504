// send_bulk's confirmation through the client (MCP elicitation): a client that declares it gets
// the dry run's numbers as a question; yes enqueues exactly that send, no enqueues nothing; a client
// without it still needs the dry run's token.
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { ElicitRequest } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { externalServicesServer } from "../src/server.ts";
import { closeMessagingFor } from "../src/service.ts";
import { bulkSegment } from "./bulk-support.ts";

process.env.BULK_CONFIRM_RECIPIENTS = "5";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
let runtime: Runtime;
let sql: pg.Client;
const DAY = new Date(new Date().setUTCHours(10, 0, 0, 0));

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => DAY });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await closeMessagingFor(runtime.db);
  await sql?.end();
  await runtime?.close();
});

async function attempt(answer: "yes" | "no" | "decline" | null) {
  const asked: ElicitRequest["params"][] = [];
  const c = await connectTestClient({
    server: externalServicesServer.name, tools: externalServicesServer.tools, runtime, apiKey: demoApiKey(A, "ADMIN"),
    ...(answer === null
      ? {}
      : { elicit: (p: ElicitRequest["params"]) => (asked.push(p), answer === "decline" ? { action: "decline" as const } : { action: "accept" as const, content: { confirm: answer === "yes" } }) }),
  });
  try {
    const s = await bulkSegment(sql, A.id, { n: 8, now: DAY });
    const r = await c.client.callTool({
      name: "send_bulk",
      arguments: { segment_id: s.id, campaign: { name: `Asked ${answer}`, channel: "SMS", text: "Hi {{first_name}}, 20% off today" }, provider: "twilio", idempotency_key: `elicit-${randomUUID()}` },
    });
    const rows = (await sql.query(`select b.total from bulk_sends b join campaigns c on c.id = b.campaign_id where c.name = $1`, [`Asked ${answer}`])).rows;
    return { r, asked, rows };
  } finally {
    await c.close();
  }
}

describe("send_bulk asks the person when the client can", () => {
  it("yes: the question carries the numbers, and exactly that send is enqueued", async () => {
    const { r, asked, rows } = await attempt("yes");
    expect(r.isError).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message).toMatch(/Send the SMS campaign "Asked yes" now\? It needs your confirmation \(8 recipients \(confirmation from 5\)\)/);
    expect(asked[0]!.message).toMatch(/8 recipients: 8 now, 0 later/);
    expect(asked[0]!.message).toMatch(/Estimated cost: twilio: [\d.]+ USD for 8 messages/);
    expect((r.content as Array<{ text: string }>)[0]!.text).toContain("The person confirmed these numbers in their client.");
    expect(rows).toEqual([{ total: 8 }]);
  });

  it("no, or declined: nothing is enqueued, and the answer says so", async () => {
    for (const a of ["no", "decline"] as const) {
      const { r, asked, rows } = await attempt(a);
      expect(r.isError).toBe(true);
      expect(asked).toHaveLength(1);
      expect((r.content as Array<{ text: string }>)[0]!.text).toMatch(a === "no" ? /the person did not confirm the send to 8 recipients/ : /the person declined/);
      expect(rows).toEqual([]);
    }
  });

  it("a client without elicitation: the dry run's token is still required", async () => {
    const { r, asked, rows } = await attempt(null);
    expect(r.isError).toBe(true);
    expect(asked).toHaveLength(0);
    expect((r.content as Array<{ text: string }>)[0]!.text).toMatch(/needs confirmation/);
    expect(rows).toEqual([]);
  });
});
