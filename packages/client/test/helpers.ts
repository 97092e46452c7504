// Shared by the client tests: demo keys, the built entry, the fake server, raw SQL.
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { createLogger } from "@marketsage/core";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { builtEntry, ensureBuilt } from "../src/index.ts";

export const ORG = DEMO_ORGS[0]!;
export const AGENT_KEY = demoApiKey(ORG, "AI_AGENT");
export const ADMIN_KEY = demoApiKey(ORG, "SUPER_ADMIN");
export const ENTRY = builtEntry("customer-data");
export const FAKE = path.join(import.meta.dirname, "fixtures", "fake-server.mjs");
export const quietLog = createLogger({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

/** A database clone, the bundles built, and a SQL client for independent reads. */
export function useClientTestBed() {
  const tdb = useTestDatabase();
  let sql: pg.Client | undefined;
  beforeAll(async () => {
    ensureBuilt(["customer-data"], { quiet: true });
    sql = new pg.Client({ connectionString: tdb.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
  });
  return {
    get url() {
      return tdb.url;
    },
    async q<T extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
      return (await sql!.query(text, params)).rows as T[];
    },
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
