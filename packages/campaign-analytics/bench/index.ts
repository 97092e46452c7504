// campaign-analytics' parts of `pnpm bench` (the catalog entry points here).
import type { BenchSpec } from "@marketsage/core";
import { benchCampaignAnalytics } from "./tools.ts";

export const bench: BenchSpec = {
  "campaign-analytics": async (b) => ({ samples: await benchCampaignAnalytics(b) }),
};
