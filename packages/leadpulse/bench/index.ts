// leadpulse's parts of `pnpm bench` (the catalog entry points here).
import type { BenchSpec } from "@marketsage/core";
import { benchLeadpulseAnalytics } from "./analytics.ts";
import { benchCollector } from "./collector.ts";
import { benchLeadpulseVisitors } from "./visitors.ts";

export const bench: BenchSpec = {
  leadpulse: async (b) => ({ samples: [...(await benchLeadpulseVisitors(b)), ...(await benchLeadpulseAnalytics(b))] }),
  // Only the funnel, page and traffic-source figures (a subset of `leadpulse`).
  "leadpulse-analytics": async (b) => ({ samples: await benchLeadpulseAnalytics(b) }),
  // POST /collect under load on the HTTP host (its own process); what it writes is deleted afterwards.
  collector: (b) => benchCollector(b),
};
