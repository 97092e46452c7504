import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ensureEmbeddedPostgres, stopEmbeddedPostgres } from "../src/embedded.ts";
import { disposeEmbedded } from "../src/testing.ts";

const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ms-embedded-test-"));

afterAll(async () => {
  await disposeEmbedded(dataDir);
});

describe("embedded PostgreSQL", () => {
  it("five concurrent cold starts share one server that one of them started", async () => {
    const script = path.join(import.meta.dirname, "fixtures", "cold-start.ts");
    const results = await Promise.all(
      Array.from({ length: 5 }, () => run(process.execPath, ["--import", "tsx", script, dataDir], { timeout: 120_000 }).then((r) => JSON.parse(r.stdout))),
    );
    expect(new Set(results.map((r) => r.port)).size).toBe(1);
    expect(results.filter((r) => r.started)).toHaveLength(1);
    const server = await ensureEmbeddedPostgres({ dataDir });
    expect(server.started).toBe(false);
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    const rows = await c.query("select pid from cold_start order by pid");
    expect(rows.rows.map((r) => r.pid).sort()).toEqual(results.map((r) => r.pid).sort());
    // Loopback only.
    const listen = await c.query("show listen_addresses");
    expect(listen.rows[0].listen_addresses).toBe("127.0.0.1");
    await c.end();
  });

  it("keeps running after the process that started it exits, until stopped", async () => {
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, "pg.json"), "utf8"));
    expect(fs.existsSync(path.join(state.pgdata, "postmaster.pid"))).toBe(true);
    expect(await stopEmbeddedPostgres({ dataDir })).toBe(true);
    expect(fs.existsSync(path.join(state.pgdata, "postmaster.pid"))).toBe(false);
    expect(await stopEmbeddedPostgres({ dataDir })).toBe(false);
    // And starts again on demand, with its data.
    const again = await ensureEmbeddedPostgres({ dataDir });
    expect(again.started).toBe(true);
    const c = new pg.Client({ connectionString: again.url });
    await c.connect();
    expect((await c.query("select count(*)::int n from cold_start")).rows[0].n).toBe(5);
    await c.end();
  });
});
