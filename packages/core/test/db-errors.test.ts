// Database failures recognised through every wrapper: errors produced by a real server (a closed
// port, a statement timeout, an expired transaction) and the shapes measured when a server stops
// under a running pool (Prisma P1001/P1017/P2010 with the adapter's DriverAdapterError, pg's plain
// Errors, SQLSTATEs 57P01/08006). Anything else is not a database failure.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "../src/testing/index.ts";
import { classifyDatabaseError, databaseToolError, UserError } from "../src/index.ts";

const tdb = useTestDatabase();

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a failure");
}

describe("errors from a real server", () => {
  let db: Db;
  beforeAll(() => {
    db = openDb(tdb.url, { max: 2, statementTimeoutMs: 150 });
  });
  afterAll(async () => {
    await db.$disconnect();
  });

  it("a database that is not listening (raw and model queries) is unavailable", async () => {
    const down = openDb(`postgresql://postgres@127.0.0.1:${await closedPort()}/x`, { max: 1 });
    try {
      expect(classifyDatabaseError(await failure(down.$queryRaw`select 1`))).toMatchObject({ kind: "unavailable" });
      expect(classifyDatabaseError(await failure(down.organization.count()))).toMatchObject({ kind: "unavailable" });
      expect(classifyDatabaseError(await failure(down.$transaction(async (tx) => tx.$queryRaw`select 1`)))).toMatchObject({ kind: "unavailable" });
    } finally {
      await down.$disconnect();
    }
  });

  it("a statement past statement_timeout is a statement timeout, raw or in a transaction", async () => {
    expect(classifyDatabaseError(await failure(db.$queryRaw`select pg_sleep(1)`))).toEqual({ kind: "statement_timeout", reason: "57014" });
    const inTx = await failure(db.$transaction(async (tx) => tx.$queryRaw`select pg_sleep(1)`));
    expect(classifyDatabaseError(inTx)?.kind).toBe("statement_timeout");
  });

  it("an interactive transaction past its own time limit is a transaction timeout", async () => {
    const e = await failure(
      db.$transaction(
        async (tx) => {
          await new Promise((r) => setTimeout(r, 400));
          return tx.$queryRaw`select 1`;
        },
        { timeout: 100 },
      ),
    );
    expect(classifyDatabaseError(e)?.kind).toBe("transaction_timeout");
  });

  it("a query error that is the caller's (a missing table) is no database failure", async () => {
    expect(classifyDatabaseError(await failure(db.$queryRawUnsafe("select * from no_such_table")))).toBeUndefined();
  });
});

describe("the shapes a stopping server leaves (measured)", () => {
  const adapterError = (cause: Record<string, unknown>) => Object.assign(new Error("driver adapter error"), { name: "DriverAdapterError", cause });
  it.each([
    ["Prisma P1001", Object.assign(new Error("Can't reach database server at 127.0.0.1:5"), { code: "P1001" }), "unavailable"],
    ["Prisma P1017", Object.assign(new Error("Server has closed the connection."), { code: "P1017" }), "unavailable"],
    ["PrismaClientInitializationError", Object.assign(new Error("init"), { errorCode: "P1001" }), "unavailable"],
    [
      "P2010 carrying DatabaseNotReachable",
      Object.assign(new Error("Raw query failed. Code: `N/A`."), { code: "P2010", meta: { driverAdapterError: adapterError({ kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5 }) } }),
      "unavailable",
    ],
    [
      "P2010 carrying 57P01 admin shutdown",
      Object.assign(new Error("Raw query failed."), { code: "P2010", meta: { driverAdapterError: adapterError({ kind: "postgres", code: "57P01", originalCode: "57P01", message: "terminating connection due to administrator command" }) } }),
      "unavailable",
    ],
    ["adapter ConnectionClosed", adapterError({ kind: "ConnectionClosed" }), "unavailable"],
    ["adapter TooManyConnections", adapterError({ kind: "TooManyConnections", cause: "sorry, too many clients already" }), "busy"],
    ["pg 08006", Object.assign(new Error("connection failure"), { code: "08006", severity: "FATAL" }), "unavailable"],
    ["pg 57P03 starting up", Object.assign(new Error("the database system is starting up"), { code: "57P03", severity: "FATAL" }), "unavailable"],
    ["pg: not queryable", new Error("Client has encountered a connection error and is not queryable"), "unavailable"],
    ["pg: terminated", new Error("Connection terminated unexpectedly"), "unavailable"],
    ["pg-pool: waiting for a connection", new Error("timeout exceeded when trying to connect"), "busy"],
    ["socket ECONNREFUSED in an AggregateError", new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" })], ""), "unavailable"],
    ["lock timeout", Object.assign(new Error("canceling statement due to lock timeout"), { code: "55P03", severity: "ERROR" }), "statement_timeout"],
  ])("%s", (_what, err, kind) => {
    expect(classifyDatabaseError(err)?.kind).toBe(kind);
  });

  it("ignores errors that are not the database's", () => {
    expect(classifyDatabaseError(new Error("boom"))).toBeUndefined();
    expect(classifyDatabaseError(Object.assign(new Error("duplicate key"), { code: "23505", severity: "ERROR" }))).toBeUndefined();
    expect(classifyDatabaseError(Object.assign(new Error("cancel"), { code: "57014", severity: "ERROR", message: "canceling statement due to user request" }))).toBeUndefined();
    expect(classifyDatabaseError("a string")).toBeUndefined();
    expect(databaseToolError(new UserError("not mine"), {})).toBeUndefined();
  });
});

describe("databaseToolError", () => {
  it("says what the caller can do, naming the limit that applied", () => {
    const down = databaseToolError(new Error("Connection terminated unexpectedly"), { statementTimeoutMs: 15_000 });
    expect(down).toMatchObject({ code: "UNAVAILABLE", message: "the database is not reachable; retry in a few seconds", details: { retryable: true } });
    const slow = databaseToolError(Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014", severity: "ERROR" }), { statementTimeoutMs: 1_800_000 });
    expect(slow?.code).toBe("TIMEOUT");
    expect(slow?.message).toMatch(/^the database did not finish within 1800000 ms/);
    const expired = databaseToolError(new Error("Transaction already closed: A query cannot be executed on an expired transaction."), { transactionTimeoutMs: 500 });
    expect(expired?.message).toBe("the call did not finish within its time limit of 500 ms and was rolled back; nothing was changed");
  });
});
