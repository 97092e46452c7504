import { hashApiKey, type Role } from "@marketsage/db";
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

const LAST_USED_RESOLUTION_MS = 60_000;

/** Resolve an API key to a principal, refusing missing, unknown, expired and revoked keys. */
export async function authenticate(db: DbHandle, secret: string | undefined, now: Date): Promise<Principal> {
  if (!secret) {
    throw new AuthError("missing", "No API key was given. Set MARKETSAGE_API_KEY (stdio) or send Authorization: Bearer <key> (HTTP).");
  }
  const rows = await db.$queryRaw<KeyRow[]>`
    select k.id as api_key_id, k.user_id, u.role::text as role, k.expires_at, k.revoked_at, k.last_used_at,
           o.id as org_id, o.name as org_name, o.reporting_currency, o.default_country, o.time_zone
      from api_keys k
      join users u on u.id = k.user_id
      join organizations o on o.id = k.organization_id
     where k.key_hash = ${hashApiKey(secret)}`;
  const row = rows[0];
  if (!row) throw new AuthError("unknown", "The API key is not recognised. Check MARKETSAGE_API_KEY; demo keys are listed in the README.");
  if (row.revoked_at && row.revoked_at <= now) {
    throw new AuthError("revoked", `The API key was revoked on ${row.revoked_at.toISOString()}. Ask an administrator for a new key.`);
  }
  if (row.expires_at && row.expires_at <= now) {
    throw new AuthError("expired", `The API key expired on ${row.expires_at.toISOString()}. Ask an administrator for a new key.`);
  }
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
    await db.$executeRaw`update api_keys set last_used_at = ${now} where id = ${row.api_key_id}::uuid`;
  }
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
