// Webhook ingestion's and the send settle's transactions straight on the runtime's pg pool: tagged
// $queryRaw / $executeRaw (and the *Unsafe forms) run as parameterised pg queries in one BEGIN … COMMIT, without the ORM's
// interactive-transaction round trips (measured: the HTTP host's report rate went from 575/s on
// Prisma transactions to the figure in the README). Same SQL, same locks, same results.
import type pg from "pg";
import type { DbHandle } from "@marketsage/core";

export interface TxRunner {
  $transaction<T>(fn: (tx: DbHandle) => Promise<T>): Promise<T>;
}

const text = (strings: TemplateStringsArray) => strings.reduce((acc, s, i) => (i === 0 ? s : `${acc}$${i}${s}`), "");

export function pgTransactions(pool: pg.Pool): TxRunner {
  return {
    async $transaction<T>(fn: (tx: DbHandle) => Promise<T>): Promise<T> {
      const c = await pool.connect();
      try {
        await c.query("begin");
        const tx = {
          $queryRaw: async (strings: TemplateStringsArray, ...values: unknown[]) => (await c.query(text(strings), values)).rows,
          $executeRaw: async (strings: TemplateStringsArray, ...values: unknown[]) => (await c.query(text(strings), values)).rowCount ?? 0,
          $queryRawUnsafe: async (sql: string, ...values: unknown[]) => (await c.query(sql, values)).rows,
          $executeRawUnsafe: async (sql: string, ...values: unknown[]) => (await c.query(sql, values)).rowCount ?? 0,
        };
        const out = await fn(tx as unknown as DbHandle);
        await c.query("commit");
        return out;
      } catch (e) {
        await c.query("rollback").catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
  };
}

/** The same tagged statements on the pool without a transaction (each its own commit): the bulk worker's hot path. */
export function pgDirect(pool: pg.Pool): DbHandle {
  return {
    $queryRaw: async (strings: TemplateStringsArray, ...values: unknown[]) => (await pool.query(text(strings), values)).rows,
    $executeRaw: async (strings: TemplateStringsArray, ...values: unknown[]) => (await pool.query(text(strings), values)).rowCount ?? 0,
    $queryRawUnsafe: async (sql: string, ...values: unknown[]) => (await pool.query(sql, values)).rows,
    $executeRawUnsafe: async (sql: string, ...values: unknown[]) => (await pool.query(sql, values)).rowCount ?? 0,
  } as unknown as DbHandle;
}
