// Campaign tracking — the part that exists today: the process-independent signing key (used by
// send_bulk's confirmation tokens). Tracked links, the open pixel and the one-click unsubscribe
// link (RFC 8058) are NOT built yet: trackMessage returns the content unchanged and no links are
// registered (README: "not yet"). The signatures are what the bulk worker calls.
import { randomBytes } from "node:crypto";
import type { DbHandle } from "@marketsage/core";

export interface CampaignLink { idx: number; url: string }
export interface TrackingContext { baseUrl: string; key: Buffer }

let cached: Buffer | null = null;

/** MESSAGING_TRACKING_SECRET (≥ 32 characters) if set, else the signing_keys row 'tracking' (created once, race-free). */
export async function trackingKey(db: DbHandle, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Buffer> {
  const fromEnv = env.MESSAGING_TRACKING_SECRET?.trim();
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error("MESSAGING_TRACKING_SECRET must be at least 32 characters");
    return Buffer.from(fromEnv, "utf8");
  }
  if (cached) return cached;
  await db.$executeRaw`insert into signing_keys (name, secret) values ('tracking', ${randomBytes(32)}) on conflict (name) do nothing`;
  const [r] = await db.$queryRaw<Array<{ secret: Buffer }>>`select secret from signing_keys where name = 'tracking'`;
  cached = Buffer.from(r!.secret);
  return cached;
}

/** Not built yet: no link is tracked. */
export async function registerCampaignLinks(_db: DbHandle, _orgId: string, _campaignId: string, _sources: ReadonlyArray<string | null | undefined>): Promise<CampaignLink[]> {
  return [];
}

/** Not built yet: the content as rendered, no headers. */
export function trackMessage(_ctx: TrackingContext, m: { messageId: string; channel: "EMAIL" | "SMS" | "WHATSAPP"; text: string | null; html: string | null; links: readonly CampaignLink[]; shortenLinks: boolean }): { text: string | null; html: string | null; headers: Record<string, string> } {
  return { text: m.text, html: m.html, headers: {} };
}
