// The principal cache (packages/core/src/auth.ts): a revoked, deleted or expired key stops
// working within the documented TTL, and expiry is checked on every call, cached or not.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashApiKey, openDb, type Db } from "@marketsage/db";
import { AUTH_CACHE_TTL_MS, createAuthenticator } from "../src/auth.ts";
import { AuthError } from "../src/errors.ts";
import { createInvoker, type Runtime } from "../src/index.ts";
import { testRuntime, useTestDatabase } from "../src/testing/index.ts";
import { echo } from "./fixtures/tools.ts";
import { addKey } from "./helpers.ts";

const tdb = useTestDatabase();
let sql: pg.Client;
let db: Db;

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
  db = openDb(tdb.url, { max: 2 });
});
afterAll(async () => {
  await sql.end();
  await db.$disconnect();
});

const at = (t0: Date, ms: number) => new Date(t0.getTime() + ms);

/** A runtime whose clock the test moves. */
function clocked(start: Date): { runtime: Runtime; set(d: Date): void } {
  let now = start;
  return { runtime: testRuntime(tdb.url, { now: () => now }), set: (d) => (now = d) };
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (e) {
    if (e instanceof AuthError) return e.reason;
    throw e;
  }
}

describe("principal cache, through the pipeline", () => {
  it("a revoked key keeps working at most AUTH_CACHE_TTL_MS, then is refused as revoked", async () => {
    const t0 = tdb.now;
    const c = clocked(t0);
    const secret = await addKey(tdb.url, "ADMIN");
    const inv = createInvoker({ server: "customer-data", tools: [echo], runtime: c.runtime, apiKey: secret });
    const call = async () => (await inv.call("echo_message", { message: "x" }, { path: "direct" })).result;

    expect((await call()).isError).toBeFalsy();
    await sql.query(`update api_keys set revoked_at = $1 where key_hash = $2`, [t0, hashApiKey(secret)]);
    // Within the first half of the TTL the cached row answers (this is the documented slack).
    c.set(at(t0, AUTH_CACHE_TTL_MS / 4));
    expect((await call()).isError).toBeFalsy();
    // Past the TTL the row is read again, whatever happened in between.
    c.set(at(t0, AUTH_CACHE_TTL_MS + 1));
    const refused = await call();
    expect(refused.isError).toBe(true);
    expect(refused._meta?.error).toMatchObject({ code: "UNAUTHENTICATED", reason: "revoked" });
    await c.runtime.close();
  });

  it("tools/list's principal follows the same cache: a deleted key is unknown after the TTL", async () => {
    const t0 = tdb.now;
    const c = clocked(t0);
    const secret = await addKey(tdb.url, "USER");
    const inv = createInvoker({ server: "customer-data", tools: [echo], runtime: c.runtime, apiKey: secret });
    await inv.principal();
    await sql.query(`delete from api_keys where key_hash = $1`, [hashApiKey(secret)]);
    c.set(at(t0, AUTH_CACHE_TTL_MS + 1));
    expect(await reason(inv.principal())).toBe("unknown");
    await c.runtime.close();
  });
});

describe("createAuthenticator", () => {
  it("checks the cached expiry on every call: the key is refused the moment it passes", async () => {
    const t0 = tdb.now;
    const secret = await addKey(tdb.url, "ADMIN", { expiresAt: at(t0, 500) });
    const auth = createAuthenticator(db);
    expect(await reason(auth.authenticate(secret, t0))).toBe("accepted");
    // Delete the row: a fresh read would say "unknown", so "expired" can only come from the cache.
    await sql.query(`delete from api_keys where key_hash = $1`, [hashApiKey(secret)]);
    expect(await reason(auth.authenticate(secret, at(t0, 600)))).toBe("expired");
  });

  it("a revocation dated ahead takes effect when its time comes, from the cache", async () => {
    const t0 = tdb.now;
    const secret = await addKey(tdb.url, "ADMIN", { revokedAt: at(t0, 200) });
    const auth = createAuthenticator(db);
    expect(await reason(auth.authenticate(secret, t0))).toBe("accepted");
    expect(await reason(auth.authenticate(secret, at(t0, 201)))).toBe("revoked");
  });

  it("past half the TTL a call is answered at once and the row is refreshed behind it", async () => {
    const t0 = tdb.now;
    const secret = await addKey(tdb.url, "ADMIN");
    const auth = createAuthenticator(db, { ttlMs: 1000 });
    await auth.authenticate(secret, t0);
    await sql.query(`update api_keys set revoked_at = $1 where key_hash = $2`, [t0, hashApiKey(secret)]);
    // 600 ms: stale but inside the TTL, so the cached row answers and a background read starts.
    expect(await reason(auth.authenticate(secret, at(t0, 600)))).toBe("accepted");
    // Still inside the TTL of the first read: once the background read is in, the revocation shows.
    let seen = "accepted";
    for (let i = 0; i < 200 && seen === "accepted"; i++) {
      await new Promise((r) => setTimeout(r, 10));
      seen = await reason(auth.authenticate(secret, at(t0, 700)));
    }
    expect(seen).toBe("revoked");
  });

  it("with the real clock, a revoked key is refused within the TTL plus a margin", async () => {
    const ttlMs = 300;
    const secret = await addKey(tdb.url, "ADMIN");
    const auth = createAuthenticator(db, { ttlMs });
    expect(await reason(auth.authenticate(secret, new Date()))).toBe("accepted");
    await sql.query(`update api_keys set revoked_at = now() - interval '1 second' where key_hash = $1`, [hashApiKey(secret)]);
    const revokedAt = Date.now();
    let seen = "accepted";
    while (seen === "accepted" && Date.now() - revokedAt < ttlMs + 5_000) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await reason(auth.authenticate(secret, new Date()));
    }
    expect(seen).toBe("revoked");
  });

  it("ttlMs 0 reads the key on every call", async () => {
    const t0 = tdb.now;
    const secret = await addKey(tdb.url, "ADMIN");
    const auth = createAuthenticator(db, { ttlMs: 0 });
    expect(await reason(auth.authenticate(secret, t0))).toBe("accepted");
    await sql.query(`update api_keys set revoked_at = $1 where key_hash = $2`, [t0, hashApiKey(secret)]);
    expect(await reason(auth.authenticate(secret, t0))).toBe("revoked");
  });

  it("a burst of calls on a cold cache reads the key once, and unknown keys are cached as unknown", async () => {
    const t0 = tdb.now;
    const secret = await addKey(tdb.url, "ADMIN");
    let reads = 0;
    // Not a client from openDb, so the authenticator reads through $queryRawUnsafe: count those.
    const counting = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === "$queryRawUnsafe") {
          return (...args: unknown[]) => {
            reads++;
            return (target.$queryRawUnsafe as (...a: unknown[]) => unknown)(...args);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const auth = createAuthenticator(counting);
    const all = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(secret, t0)));
    expect(new Set(all.map((p) => p.apiKeyId)).size).toBe(1);
    expect(reads).toBe(1);
    for (let i = 0; i < 5; i++) expect(await reason(auth.authenticate("msk_nobody_has_this_key", t0))).toBe("unknown");
    expect(reads).toBe(2);
    await expect(auth.authenticate(undefined, t0)).rejects.toMatchObject({ reason: "missing" });
  });
});
