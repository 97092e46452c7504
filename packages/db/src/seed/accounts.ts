// organizations, users (one per role) and api_keys (one per user, the documented demo keys).
import { apiKeyPrefix, hashApiKey } from "../api-key.ts";
import { CopyWriter, NULL, esc, type Loader } from "./copy.ts";
import { DEMO_ORGS, DEMO_ROLES, DEMO_SITE_ORIGINS, demoApiKey, demoApiKeyId, demoSiteKey, demoSiteKeyId, demoUserId, type DemoOrg } from "./demo-accounts.ts";
import { STAFF } from "./names.ts";
import { DAY, ts, type Timeline } from "./time.ts";

/** demo.example-style mailbox per role: admin@naija-retail.example, ai-agent@... */
export function demoUserEmail(org: DemoOrg, role: string): string {
  return `${role.toLowerCase().replace(/_/g, "-")}@${org.slug}.example`;
}

export async function loadAccounts(loader: Loader, tl: Timeline): Promise<void> {
  // Organizations exist before the history starts; users a little later.
  const orgCreated = ts(tl.start - 60 * DAY);
  const userCreated = ts(tl.start - 45 * DAY);
  const orgs = await CopyWriter.open(loader.client(0), "organizations", ["id", "name", "slug", "reporting_currency", "default_country", "time_zone", "created_at"]);
  for (const o of DEMO_ORGS) {
    orgs.row([o.id, esc(o.name), o.slug, o.reportingCurrency, o.defaultCountry, o.timeZone, orgCreated].join("\t"));
  }
  loader.record(await orgs.end());

  const users = await CopyWriter.open(loader.client(0), "users", ["id", "organization_id", "email", "name", "role", "created_at"]);
  DEMO_ORGS.forEach((o, oi) => {
    DEMO_ROLES.forEach((role, ri) => {
      const name = STAFF[o.slug]?.[ri] ?? `${o.name} ${role}`;
      users.row([demoUserId(oi, ri), o.id, demoUserEmail(o, role), esc(name), role, userCreated].join("\t"));
    });
  });
  loader.record(await users.end());

  const keys = await CopyWriter.open(loader.client(0), "api_keys", ["id", "organization_id", "user_id", "name", "prefix", "key_hash", "expires_at", "revoked_at", "last_used_at", "created_at"]);
  DEMO_ORGS.forEach((o, oi) => {
    DEMO_ROLES.forEach((role, ri) => {
      const key = demoApiKey(o, role);
      keys.row([demoApiKeyId(oi, ri), o.id, demoUserId(oi, ri), `Demo key (${role.toLowerCase()})`, apiKeyPrefix(key), hashApiKey(key), NULL, NULL, NULL, userCreated].join("\t"));
    });
  });
  loader.record(await keys.end());

  const sites = await CopyWriter.open(loader.client(0), "site_keys", ["id", "organization_id", "public_key", "name", "allowed_origins", "created_at", "revoked_at"]);
  DEMO_ORGS.forEach((o, oi) => {
    sites.row([demoSiteKeyId(oi), o.id, demoSiteKey(o), "Demo website (this machine)", `{${DEMO_SITE_ORIGINS.map((x) => `"${x}"`).join(",")}}`, userCreated, NULL].join("\t"));
  });
  loader.record(await sites.end());
}
