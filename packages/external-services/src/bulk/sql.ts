// Plain pg statements on a database client's own pool (no ORM on the bulk worker's hot path).
import type { DbHandle } from "@marketsage/core";
import { poolOf, type Db } from "@marketsage/db";
import { pgDirect } from "../webhooks/pg-tx.ts";

const directs = new WeakMap<Db, DbHandle>();
export function q(d: { db: Db }): DbHandle {
  let h = directs.get(d.db);
  if (!h) {
    const pool = poolOf(d.db);
    h = pool ? pgDirect(pool) : (d.db as unknown as DbHandle);
    directs.set(d.db, h);
  }
  return h;
}
