// MCP_ROLLOUT_PERCENT: a stable share of principals goes through MCP. The bucket is a hash of
// the user id, so a user stays on one side as the percentage grows (0 → 10 → 50 → 100).
import { createHash } from "node:crypto";

/** 0–99, the same for a user id on every machine and every run. */
export function rolloutBucket(userId: string): number {
  return createHash("sha256").update(`marketsage-rollout:${userId}`).digest().readUInt32BE(0) % 100;
}

export function inRollout(userId: string, percent: number): boolean {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  return rolloutBucket(userId) < percent;
}
