// Shared by the domain's database tests: a Prisma client and a raw pg client on a cloned, seeded
// test database (see @marketsage/core/testing useTestDatabase).
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import type { OrgInfo } from "@marketsage/core";

const asOrg = (o: (typeof DEMO_ORGS)[number]): OrgInfo => ({ id: o.id, name: o.name, reportingCurrency: o.reportingCurrency, defaultCountry: o.defaultCountry, timeZone: o.timeZone });
export const ORG_A = asOrg(DEMO_ORGS[0]!); // NGN, NG
export const ORG_B = asOrg(DEMO_ORGS[1]!); // KES, KE

export function useDomainDb() {
  const tdb = useTestDatabase();
  let db: Db;
  let sql: pg.Client;
  beforeAll(async () => {
    db = openDb(tdb.url, { max: 2 });
    sql = new pg.Client({ connectionString: tdb.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
    await db?.$disconnect();
  });
  return {
    get db() {
      return db;
    },
    async q<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
      return (await sql.query(text, params)).rows as T[];
    },
  };
}
