// What every generator receives: where to write, the time window, the seed and the sizes.
import type { Scale, OrgSize } from "./config.ts";
import type { Loader } from "./copy.ts";
import type { DemoOrg } from "./demo-accounts.ts";
import type { Timeline } from "./time.ts";

export interface SeedContext {
  loader: Loader;
  tl: Timeline;
  seed: number;
  scale: Scale;
  sizes: readonly OrgSize[];
  orgs: readonly DemoOrg[];
  log: (m: string) => void;
}

/** Per-organization presentation details used in messages and URLs. */
export interface Brand {
  domain: string;
  smsSender: string;
  shortCode: string;
  whatsappNumber: string;
  emailFrom: string;
}

export const BRANDS: Record<string, Brand> = {
  "naija-retail": {
    domain: "naija-retail.example",
    smsSender: "NAIJARETAIL",
    shortCode: "35350",
    whatsappNumber: "+2349010000001",
    emailFrom: "Naija Retail <deals@naija-retail.example>",
  },
  "savanna-fintech": {
    domain: "savanna-fintech.example",
    smsSender: "SAVANNA",
    shortCode: "22384",
    whatsappNumber: "+254709000001",
    emailFrom: "Savanna Fintech <hello@savanna-fintech.example>",
  },
};

export function brand(slug: string): Brand {
  const b = BRANDS[slug];
  if (!b) throw new Error(`no brand for ${slug}`);
  return b;
}
