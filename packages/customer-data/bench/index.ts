// customer-data's parts of `pnpm bench` (the catalog entry points here).
import type { BenchSpec } from "@marketsage/core";
import { benchCustomerData, benchRefresh } from "./tools.ts";

export const bench: BenchSpec = {
  "customer-data": async (b) => ({ samples: await benchCustomerData(b) }),
  refresh: async (b) => {
    const r = await benchRefresh(b);
    return { lines: [`refresh_predictions (whole organization): ${r.written} contacts in ${r.seconds} s = ${r.perSecond} contacts/s`] };
  },
};
