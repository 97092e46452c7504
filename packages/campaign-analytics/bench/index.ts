// campaign-analytics' parts of `pnpm bench` (the catalog entry points here).
import type { BenchSpec } from "@marketsage/core";
import { benchIngestion } from "./ingestion.ts";
import { benchCampaignAnalytics } from "./tools.ts";

export const bench: BenchSpec = {
  "campaign-analytics": async (b) => ({ samples: await benchCampaignAnalytics(b) }),
  // What the rollups' triggers cost the send pipeline's writes (a scratch database; the bench data is not touched).
  ingestion: (b) => benchIngestion(b),
};
