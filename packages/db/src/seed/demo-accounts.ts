// The fixed, documented demo organizations, users and API keys (README "Demo API keys").
// Keys are demo credentials for a local database only; they are stored hashed like any key.
import type { Role } from "../generated/prisma/enums.ts";

export interface DemoOrg {
  id: string;
  slug: string;
  name: string;
  reportingCurrency: string;
  defaultCountry: string;
  timeZone: string;
  /** Countries this organization's contacts come from, with weights. */
  markets: Array<[country: string, weight: number]>;
}

export const DEMO_ORGS: readonly DemoOrg[] = [
  {
    id: "0a9f4d7e-1c1b-4f0e-9a51-6b1d3c2e0001",
    slug: "naija-retail",
    name: "Naija Retail Co.",
    reportingCurrency: "NGN",
    defaultCountry: "NG",
    timeZone: "Africa/Lagos",
    markets: [["NG", 55], ["GH", 12], ["KE", 8], ["ZA", 7], ["EG", 5], ["CI", 4], ["SN", 3], ["UG", 2], ["TZ", 2], ["RW", 2]],
  },
  {
    id: "0a9f4d7e-1c1b-4f0e-9a51-6b1d3c2e0002",
    slug: "savanna-fintech",
    name: "Savanna Fintech Ltd.",
    reportingCurrency: "KES",
    defaultCountry: "KE",
    timeZone: "Africa/Nairobi",
    markets: [["KE", 50], ["UG", 15], ["TZ", 15], ["RW", 10], ["NG", 5], ["ZA", 5]],
  },
];

export const DEMO_ROLES: readonly Role[] = ["USER", "ADMIN", "IT_ADMIN", "SUPER_ADMIN", "AI_AGENT"];

/** msk_demo_<org slug with _>_<role lower-case>, e.g. msk_demo_naija_retail_ai_agent */
export function demoApiKey(org: DemoOrg, role: Role): string {
  return `msk_demo_${org.slug.replace(/-/g, "_")}_${role.toLowerCase()}`;
}

/** Stable ids so the same seed always yields the same users and keys. */
export function demoUserId(orgIndex: number, roleIndex: number): string {
  return `0b9f4d7e-1c1b-4f0e-9a51-6b1d3c2e${String(orgIndex * 10 + roleIndex + 1).padStart(4, "0")}`;
}
export function demoApiKeyId(orgIndex: number, roleIndex: number): string {
  return `0c9f4d7e-1c1b-4f0e-9a51-6b1d3c2e${String(orgIndex * 10 + roleIndex + 1).padStart(4, "0")}`;
}

/** The demo organization's public site key for the website collector (POST /collect), e.g.
 *  ms_site_demo_naija_retail. Public by design: it can only add visitor events, from the allowed origins. */
export function demoSiteKey(org: DemoOrg): string {
  return `ms_site_demo_${org.slug.replace(/-/g, "_")}`;
}
export function demoSiteKeyId(orgIndex: number): string {
  return `0d9f4d7e-1c1b-4f0e-9a51-6b1d3c2e${String(orgIndex + 1).padStart(4, "0")}`;
}
/** Pages served from this machine may use the demo site keys (any port). */
export const DEMO_SITE_ORIGINS: readonly string[] = ["http://localhost:*", "http://127.0.0.1:*"];
