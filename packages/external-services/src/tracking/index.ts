// Campaign tracking: the process-independent signing key (tracking links, unsubscribe links and
// send_bulk's confirmation tokens), the links added to each campaign message (links.ts), the
// signed tokens (token.ts) and what the HTTP host answers on them (handle.ts, routes.ts).
import { randomBytes } from "node:crypto";
import type { DbHandle } from "@marketsage/core";

// Per database handle: one process may talk to several databases (tests do).
const cached = new WeakMap<object, Promise<Buffer>>();

/** MESSAGING_TRACKING_SECRET (≥ 32 characters) if set, else the signing_keys row 'tracking' (created once, race-free). */
export async function trackingKey(db: DbHandle, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Buffer> {
  const fromEnv = env.MESSAGING_TRACKING_SECRET?.trim();
  if (fromEnv) {
    if (fromEnv.length < 32) throw new Error("MESSAGING_TRACKING_SECRET must be at least 32 characters");
    return Buffer.from(fromEnv, "utf8");
  }
  let k = cached.get(db);
  if (!k) {
    k = (async () => {
      await db.$executeRaw`insert into signing_keys (name, secret) values ('tracking', ${randomBytes(32)}) on conflict (name) do nothing`;
      const [r] = await db.$queryRaw<Array<{ secret: Buffer }>>`select secret from signing_keys where name = 'tracking'`;
      return Buffer.from(r!.secret);
    })();
    cached.set(db, k);
    k.catch(() => cached.delete(db));
  }
  return k;
}

export { registerCampaignLinks, trackMessage, campaignUrls } from "./links.ts";
export type { CampaignLink, TrackingContext, TrackInput, Tracked } from "./links.ts";
export { signToken, verifyToken, trackingUrl, TRACKING_PATHS } from "./token.ts";
export type { TokenClaims, TokenKind } from "./token.ts";
export { handleTracking, PIXEL } from "./handle.ts";
export type { TrackingAnswer, TrackingRequest } from "./handle.ts";
