// A database for one test file: a clone of the run's seeded template, dropped afterwards.
import { afterAll, beforeAll, inject } from "vitest";
import { cloneDatabase, type TestDatabase } from "@marketsage/db/testing";

export function useTestDatabase(): { readonly url: string; readonly now: Date } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await cloneDatabase(inject("templateDb"), inject("runPrefix"));
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get url() {
      if (!db) throw new Error("useTestDatabase: the database is created in beforeAll");
      return db.url;
    },
    get now() {
      return new Date(inject("testNow"));
    },
  };
}
