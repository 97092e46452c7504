// auto mode falls back to direct on every trigger — flag off, spawn failure, early exit with
// core's EXIT codes, initialize timeout, call timeout, crash — and says why; mcp mode does not;
// the circuit breaker stops re-spawning and tries MCP again after the cool-down; the rollout
// percentage routes a stable share of users.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMarketSageClient, inRollout, McpUnavailableError, rolloutBucket, type MarketSageClient, type MarketSageClientOptions } from "../src/index.ts";
import { hashApiKey } from "@marketsage/db";
import { AGENT_KEY, ENTRY, FAKE, quietLog, useClientTestBed } from "./helpers.ts";

const bed = useClientTestBed();
const open: MarketSageClient[] = [];
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
});

async function client(over: Partial<MarketSageClientOptions> = {}): Promise<MarketSageClient> {
  const c = await createMarketSageClient({ apiKey: AGENT_KEY, databaseUrl: bed.url, log: quietLog, env: {}, initializeTimeoutMs: 5_000, ...over });
  open.push(c);
  return c;
}
const fake = (mode: string, countFile = "") => ({ "customer-data": { command: process.execPath, args: [FAKE, mode, countFile, ENTRY] } });

describe("auto mode falls back to direct", () => {
  it.each([
    ["MCP_ENABLED=false", { env: { MCP_ENABLED: "false" } }, "mcp_disabled"],
    ["the server's flag off", { env: { MCP_CUSTOMER_DATA_ENABLED: "false" } }, "server_disabled"],
    ["a command that cannot be spawned", { servers: { "customer-data": { command: "/nonexistent/marketsage-node" } } }, "spawn_failed"],
    ["a server that exits 1 at start", { servers: fake("exit-1") }, "server_exited"],
    ["a server that never answers initialize", { servers: fake("silent"), initializeTimeoutMs: 300 }, "initialize_timeout"],
    ["a server that crashes during the call", { servers: fake("crash-on-call") }, "crashed"],
    ["a server that never answers the call", { servers: fake("hang-on-call"), callTimeoutMs: 300 }, "call_timeout"],
  ] as const)("on %s", async (_label, over, reason) => {
    const c = await client(over as Partial<MarketSageClientOptions>);
    const truth = await (await client({ mode: "direct" })).customerData.searchCustomers({ limit: 3 });
    const r = await c.customerData.searchCustomers({ limit: 3 });
    expect(r.servedBy).toBe("direct");
    expect(r.fallbackReason).toBe(reason);
    expect(r.fallbackDetail).toBeTruthy();
    expect(r.data).toEqual(truth.data);
  });

  it("reports core's exit code meaning and the server's last stderr line", async () => {
    const c = await client({ servers: fake("exit-3") });
    const r = await c.customerData.searchCustomers({ limit: 1 });
    expect(r.fallbackReason).toBe("server_exited");
    expect(r.fallbackDetail).toMatch(/exited with code 3 \(DISABLED\): customer-data is disabled/);
  });

  it("mcp mode throws instead of falling back", async () => {
    const c = await client({ mode: "mcp", servers: fake("exit-1") });
    const err = await c.customerData.searchCustomers({ limit: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpUnavailableError);
    expect((err as McpUnavailableError).reason).toBe("server_exited");
    const off = await client({ mode: "mcp", env: { MCP_ENABLED: "false" } });
    await expect(off.customerData.searchCustomers({ limit: 1 })).rejects.toMatchObject({ reason: "mcp_disabled" });
  });

  it("does not reuse a crashed process: the next call starts a fresh one over MCP", async () => {
    const c = await client();
    const first = await c.customerData.searchCustomers({ limit: 1 });
    expect(first.servedBy).toBe("mcp");
    const pid = c.status()[0]!.pid!;
    process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    const next = await c.customerData.searchCustomers({ limit: 1 });
    expect(next.servedBy).toBe("mcp");
    expect(c.status()[0]!.pid).not.toBe(pid);
  });
});

describe("circuit breaker", () => {
  it("stops re-spawning a failing server for the cool-down, then retries MCP", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ms-breaker-"));
    const modeFile = path.join(dir, "mode");
    const countFile = path.join(dir, "spawns");
    fs.writeFileSync(modeFile, "exit-1");
    let now = 1_000_000;
    const c = await client({
      servers: fake(`@${modeFile}`, countFile),
      breaker: { failureThreshold: 2, cooldownMs: 60_000, now: () => now },
    });
    const spawns = () => (fs.existsSync(countFile) ? fs.readFileSync(countFile, "utf8").trim().split("\n").length : 0);

    const reasons = [];
    for (let i = 0; i < 4; i++) reasons.push((await c.customerData.searchCustomers({ limit: 1 })).fallbackReason);
    expect(reasons).toEqual(["server_exited", "server_exited", "circuit_open", "circuit_open"]);
    expect(spawns()).toBe(2);
    expect(c.status()[0]!.breaker).toBe("open");

    // Still inside the cool-down: no spawn even though the server would now work.
    fs.writeFileSync(modeFile, "real");
    now += 59_000;
    expect((await c.customerData.searchCustomers({ limit: 1 })).fallbackReason).toBe("circuit_open");
    expect(spawns()).toBe(2);

    now += 2_000;
    const back = await c.customerData.searchCustomers({ limit: 1 });
    expect(back.servedBy).toBe("mcp");
    expect(spawns()).toBe(3);
    expect(c.status()[0]!.breaker).toBe("closed");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("MCP_ROLLOUT_PERCENT", () => {
  it("puts a stable, proportional share of user ids in the rollout, growing monotonically", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
    expect(ids.map(rolloutBucket)).toEqual(ids.map(rolloutBucket));
    const share = ids.filter((id) => inRollout(id, 30)).length / ids.length;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    for (const id of ids) if (inRollout(id, 10)) expect(inRollout(id, 50)).toBe(true);
    expect(ids.some((id) => inRollout(id, 0))).toBe(false);
    expect(ids.every((id) => inRollout(id, 100))).toBe(true);
  });

  it("routes the key's user by the hash of its user id, the same on every call", async () => {
    const user_id = (await bed.q<{ user_id: string }>(`select user_id::text from api_keys where key_hash = $1`, [hashApiKey(AGENT_KEY)]))[0]!.user_id;
    const bucket = rolloutBucket(user_id);
    const outside = await client({ env: { MCP_ROLLOUT_PERCENT: String(bucket) } });
    const inside = await client({ env: { MCP_ROLLOUT_PERCENT: String(bucket + 1) } });
    for (let i = 0; i < 2; i++) {
      const o = await outside.customerData.searchCustomers({ limit: 1 });
      expect([o.servedBy, o.fallbackReason]).toEqual(["direct", "not_in_rollout"]);
      const n = await inside.customerData.searchCustomers({ limit: 1 });
      expect(n.servedBy).toBe("mcp");
    }
  });
});
