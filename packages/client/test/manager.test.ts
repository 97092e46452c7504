// The server manager: start, health (initialize + ping + a read tool), restart, stop — with no
// process left behind; restart with back-off after a crash; no restart loop on a final exit;
// clean shutdown of the children when the host gets SIGTERM.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findRepoRoot } from "@marketsage/db";
import { createServerManager, stdioLaunch, type ServerManager } from "../src/index.ts";
import { AGENT_KEY, FAKE, pidAlive, quietLog, useClientTestBed } from "./helpers.ts";

const bed = useClientTestBed();
const healthCheck = { tool: "search_customers", args: { limit: 1 } };

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function realManager(restart = false): ServerManager {
  return createServerManager({
    servers: [{ name: "customer-data", launch: stdioLaunch("customer-data", { apiKey: AGENT_KEY, databaseUrl: bed.url }), healthCheck }],
    log: quietLog,
    restart: { enabled: restart, baseDelayMs: 50 },
  });
}

describe("server manager", () => {
  it("starts, health-checks, restarts and stops a real server without orphans", async () => {
    const m = realManager();
    try {
      const h = await m.health("customer-data");
      expect(h.ok, h.error).toBe(true);
      expect(h.tools).toBeGreaterThan(0);
      expect(h.initializeMs).toBeGreaterThan(0);
      expect(h.pingMs).toBeGreaterThan(0);
      expect(h.toolCallMs).toBeGreaterThan(0);
      const pid = h.pid!;
      expect(pidAlive(pid)).toBe(true);

      const again = await m.restart("customer-data");
      expect(again.pid).not.toBe(pid);
      expect(pidAlive(pid)).toBe(false);
      expect(m.status()[0]).toMatchObject({ state: "running", restarts: 1 });

      await m.stopAll();
      expect(pidAlive(again.pid!)).toBe(false);
      expect(m.status()[0]!.state).toBe("stopped");
    } finally {
      await m.stopAll();
    }
  });

  it("restarts a crashed server after a back-off", async () => {
    const m = realManager(true);
    try {
      const first = await m.start("customer-data");
      process.kill(first.pid!, "SIGKILL");
      await until(() => m.status()[0]!.state === "running" && m.status()[0]!.pid !== first.pid, "the restart");
      expect(m.status()[0]).toMatchObject({ restarts: 1, lastExit: { signal: "SIGKILL" } });
      expect((await m.health("customer-data")).ok).toBe(true);
    } finally {
      await m.stopAll();
    }
  });

  it("does not restart a server that exited because it is disabled", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ms-manager-"));
    const count = path.join(dir, "spawns");
    const m = createServerManager({
      servers: [{ name: "customer-data", launch: { kind: "stdio", command: process.execPath, args: [FAKE, "exit-3", count], env: {} } }],
      log: quietLog,
      restart: { enabled: true, baseDelayMs: 10 },
    });
    await expect(m.start("customer-data")).rejects.toMatchObject({ reason: "server_exited", exitMeaning: "DISABLED" });
    await new Promise((r) => setTimeout(r, 300));
    expect(m.status()[0]!.state).toBe("failed");
    expect(fs.readFileSync(count, "utf8").trim().split("\n")).toHaveLength(1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("stops its children when the host gets SIGTERM", async () => {
    const host = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "fixtures", "managed-host.ts"), bed.url, AGENT_KEY], {
      cwd: findRepoRoot(),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      let out = "";
      host.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!).pid);
      });
      host.on("exit", (code) => reject(new Error(`host exited early (${code})`)));
    });
    expect(pidAlive(pid)).toBe(true);
    const exited = new Promise<number | null>((r) => host.on("exit", (code) => r(code)));
    host.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(pidAlive(pid)).toBe(false);
  });
});
