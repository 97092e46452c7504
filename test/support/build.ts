// Tests that spawn real server processes need the bundles: the client's own check builds them
// when missing or stale (one rule for tests, the harness and the tour).
import { builtEntry, ensureBuilt as ensureClientBuilt } from "@marketsage/client";

export const serverEntry = (server: string): string => builtEntry(server);

export function ensureBuilt(servers: string[]): void {
  ensureClientBuilt(servers);
}
