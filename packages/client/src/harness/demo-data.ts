// Reading the demo data for the harness: a query helper bound to one organization.
import type { BuilderContext } from "@marketsage/core";
import type pg from "pg";

export type { ArgBuilder, BuilderContext } from "@marketsage/core";

export function builderContext(sql: pg.Client, orgId: string): BuilderContext {
  return {
    orgId,
    async q<T extends Record<string, unknown>>(text: string, params: unknown[] = []) {
      return (await sql.query(text, params)).rows as T[];
    },
  };
}

/** The first row or a clear failure: an empty demo database is a reason to fail, not to skip. */
export function first<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (!row) throw new Error(`the demo data has no ${what} (is the database seeded? run \`pnpm db:setup\`)`);
  return row;
}
