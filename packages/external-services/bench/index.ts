// external-services' parts of `pnpm bench` (the catalog entry points here).
import type { BenchSpec } from "@marketsage/core";
import { benchBulk } from "./bulk.ts";
import { benchSends } from "./sends.ts";
import { benchWebhooks } from "./webhooks.ts";

export const bench: BenchSpec = {
  // validate_message, and a send's own overhead beyond the provider's call (both SMS providers, sandbox).
  "external-services": (b) => benchSends(b),
  // Signed Twilio status callbacks under load on the HTTP host (its own process); what it wrote is deleted.
  webhooks: (b) => benchWebhooks(b),
  // send_bulk: 100,000 recipients by worker processes to a 50 ms Twilio emulator, undisturbed and with kill -9.
  bulk: (b) => benchBulk(b),
};
