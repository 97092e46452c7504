import { createHash } from "node:crypto";

/** API keys are stored as the SHA-256 (hex) of the whole secret; the secret itself never is. */
export function hashApiKey(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** What is kept in clear for display and support: the first 16 characters. */
export function apiKeyPrefix(secret: string): string {
  return secret.slice(0, 16);
}
