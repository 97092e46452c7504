// Authentication: an API key resolves to a principal (user, role, organization), cached per key
// for a few seconds so that a call does not pay a database round trip for it.
//
// The cache, and what it means for a key that is revoked or expires:
// - A key's row (its expiry, revocation, role and organization) is read at most once per
//   AUTH_CACHE_TTL_MS (3 s) per process. From half that age on, a call is answered from the cache
//   while one background read refreshes it; at full age a call waits for a fresh read.
// - So a key revoked (or deleted, or its user's role changed) in the database stops working in
//   every process within AUTH_CACHE_TTL_MS.
// - expires_at and revoked_at are compared with the clock on every call, cached or not: a key
//   stops working the moment its expiry (or a revocation dated ahead) passes.
// - Unknown keys are cached too (as unknown), so a stream of bad keys costs one read per key per
//   TTL; a key created a moment after it was first tried works within the same TTL.
import { hashApiKey, poolOf, type Role } from "@marketsage/db";
import { AuthError } from "./errors.ts";
import { scopesFor, type Scope } from "./scopes.ts";
import type { DbHandle } from "./tool.ts";

export interface OrgInfo {
  id: string;
  name: string;
  reportingCurrency: string;
  defaultCountry: string;
  timeZone: string;
}

/** Who is calling: resolved from an API key, never from tool input. */
export interface Principal {
  userId: string;
  apiKeyId: string;
  role: Role;
  scopes: ReadonlySet<Scope>;
  org: OrgInfo;
}

interface KeyRow {
  api_key_id: string;
  user_id: string;
  role: Role;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  org_id: string;
  org_name: string;
  reporting_currency: string;
  default_country: string;
  time_zone: string;
}

/** How long a key's row is trusted without reading it again (see the top of this file). */
export const AUTH_CACHE_TTL_MS = 3_000;
const LAST_USED_RESOLUTION_MS = 60_000;
const MAX_CACHED_KEYS = 1_000;

const KEY_SQL = `
  select k.id::text as api_key_id, k.user_id::text as user_id, u.role::text as role, k.expires_at, k.revoked_at, k.last_used_at,
         o.id::text as org_id, o.name as org_name, o.reporting_currency, o.default_country, o.time_zone
    from api_keys k
    join users u on u.id = k.user_id
    join organizations o on o.id = k.organization_id
   where k.key_hash = $1`;

/**
 * Plain node-postgres when the handle is a client from openDb: the same connections, without
 * Prisma's per-query work, and a process that has only authenticated has not loaded Prisma's
 * query compiler yet (see packages/db/src/client.ts). Any other handle goes through Prisma.
 */
async function readKey(db: DbHandle, keyHash: string): Promise<KeyRow | undefined> {
  const pool = poolOf(db);
  if (pool) return (await pool.query<KeyRow>(KEY_SQL, [keyHash])).rows[0];
  return (await db.$queryRawUnsafe<KeyRow[]>(KEY_SQL, keyHash))[0];
}

async function touchKey(db: DbHandle, apiKeyId: string, now: Date): Promise<void> {
  const pool = poolOf(db);
  if (pool) await pool.query(`update api_keys set last_used_at = $1 where id = $2::uuid`, [now, apiKeyId]);
  else await db.$executeRaw`update api_keys set last_used_at = ${now} where id = ${apiKeyId}::uuid`;
}

function toPrincipal(row: KeyRow): Principal {
  return {
    userId: row.user_id,
    apiKeyId: row.api_key_id,
    role: row.role,
    scopes: scopesFor(row.role),
    org: {
      id: row.org_id,
      name: row.org_name,
      reportingCurrency: row.reporting_currency.trim(),
      defaultCountry: row.default_country.trim(),
      timeZone: row.time_zone,
    },
  };
}

interface Entry {
  /** undefined: no such key. */
  row: KeyRow | undefined;
  principal: Principal | undefined;
  /** The clock (ms) when the read that produced this entry started. */
  readAt: number;
}

export interface AuthenticatorOptions {
  /** How long a key's row is trusted; default AUTH_CACHE_TTL_MS. 0 reads the database on every call. */
  ttlMs?: number;
  /** Told about a failed background refresh (the entry keeps serving until its TTL ends). */
  onRefreshError?: (err: unknown) => void;
}

export interface Authenticator {
  /** Resolve a key, refusing missing, unknown, expired and revoked keys. */
  authenticate(secret: string | undefined, now: Date): Promise<Principal>;
  /** Forget every cached key. */
  clear(): void;
}

export function createAuthenticator(db: DbHandle, opts: AuthenticatorOptions = {}): Authenticator {
  const ttl = opts.ttlMs ?? AUTH_CACHE_TTL_MS;
  const cache = new Map<string, Entry>();
  // One read at a time per key: concurrent callers of a missing or stale key share it.
  const reading = new Map<string, Promise<Entry>>();

  function read(keyHash: string, now: Date): Promise<Entry> {
    const pending = reading.get(keyHash);
    if (pending) return pending;
    const readAt = now.getTime();
    const p = readKey(db, keyHash)
      .then((row) => {
        const entry: Entry = { row, principal: row && toPrincipal(row), readAt };
        cache.delete(keyHash);
        // Bounded: the oldest entry goes first (a Map keeps insertion order).
        if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value!);
        cache.set(keyHash, entry);
        if (row && (!row.last_used_at || readAt - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS)) {
          // Bookkeeping only: the caller does not wait for it, and a failure changes nothing.
          row.last_used_at = now;
          touchKey(db, row.api_key_id, now).catch(() => undefined);
        }
        return entry;
      })
      .finally(() => reading.delete(keyHash));
    reading.set(keyHash, p);
    return p;
  }

  async function lookup(keyHash: string, now: Date): Promise<Entry> {
    const entry = cache.get(keyHash);
    // Math.abs: a clock set back is no reason to trust an entry longer.
    const age = entry ? Math.abs(now.getTime() - entry.readAt) : Infinity;
    if (!entry || age >= ttl) return read(keyHash, now);
    if (age >= ttl / 2 && !reading.has(keyHash)) read(keyHash, now).catch((err) => opts.onRefreshError?.(err));
    return entry;
  }

  return {
    async authenticate(secret, now) {
      if (!secret) {
        throw new AuthError("missing", "No API key was given. Set MARKETSAGE_API_KEY (stdio) or send Authorization: Bearer <key> (HTTP).");
      }
      const { row, principal } = await lookup(hashApiKey(secret), now);
      if (!row || !principal) throw new AuthError("unknown", "The API key is not recognised. Check MARKETSAGE_API_KEY; demo keys are listed in the README.");
      if (row.revoked_at && row.revoked_at <= now) {
        throw new AuthError("revoked", `The API key was revoked on ${row.revoked_at.toISOString()}. Ask an administrator for a new key.`);
      }
      if (row.expires_at && row.expires_at <= now) {
        throw new AuthError("expired", `The API key expired on ${row.expires_at.toISOString()}. Ask an administrator for a new key.`);
      }
      return principal;
    },
    clear() {
      cache.clear();
    },
  };
}

// One authenticator per database handle, so every invoker of a runtime shares its cache.
const shared = new WeakMap<object, Authenticator>();

/** Resolve an API key to a principal through the handle's shared cache (see the top of this file). */
export function authenticate(db: DbHandle, secret: string | undefined, now: Date): Promise<Principal> {
  let a = shared.get(db);
  if (!a) shared.set(db, (a = createAuthenticator(db)));
  return a.authenticate(secret, now);
}
