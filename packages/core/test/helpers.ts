import { randomUUID } from "node:crypto";
import { DEMO_ORGS, demoApiKey, hashApiKey, openDb, type Role } from "@marketsage/db";

export const ORG_A = DEMO_ORGS[0]!;
export const ORG_B = DEMO_ORGS[1]!;
export const key = (role: Role, org = ORG_A) => demoApiKey(org, role);

/** Add a key for the org's user of that role; returns the secret. */
export async function addKey(url: string, role: Role, opts: { expiresAt?: Date; revokedAt?: Date } = {}): Promise<string> {
  const db = openDb(url, { max: 1 });
  try {
    const user = await db.user.findFirstOrThrow({ where: { organizationId: ORG_A.id, role } });
    const secret = `msk_test_${randomUUID().replace(/-/g, "")}`;
    await db.apiKey.create({
      data: {
        id: randomUUID(),
        organizationId: ORG_A.id,
        userId: user.id,
        name: "test key",
        prefix: secret.slice(0, 16),
        keyHash: hashApiKey(secret),
        expiresAt: opts.expiresAt ?? null,
        revokedAt: opts.revokedAt ?? null,
      },
    });
    return secret;
  } finally {
    await db.$disconnect();
  }
}

export function structured<T = Record<string, unknown>>(r: unknown): T {
  return (r as { structuredContent?: unknown }).structuredContent as T;
}

export function text(r: unknown): string {
  return (((r as { content?: unknown }).content as Array<{ type: string; text?: string }>) ?? []).map((c) => c.text ?? "").join("\n");
}
