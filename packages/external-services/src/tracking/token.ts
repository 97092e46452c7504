// Signed tracking tokens: what a campaign message's links carry. A token names a message (and, for
// a click, the index of one of its campaign's links) and is signed with the tracking key, so it can
// only lead where the campaign's own content pointed (never an open redirect) and only unsubscribe
// the one recipient it was sent to. Compact, for SMS: 1 kind byte + 16-byte message id (+ 2-byte
// link index) + a 12-byte HMAC-SHA256 tag, in base64url — 39 characters (open, unsubscribe) or 42
// (click).
import { createHmac, timingSafeEqual } from "node:crypto";

export type TokenKind = "open" | "click" | "unsubscribe";

const KIND_BYTE: Record<TokenKind, number> = { open: 0x6f, click: 0x63, unsubscribe: 0x75 };
const BYTE_KIND = new Map(Object.entries(KIND_BYTE).map(([k, v]) => [v, k as TokenKind]));
const TAG_BYTES = 12;
const DOMAIN = Buffer.from("marketsage tracking v1\n");

export interface TokenClaims {
  kind: TokenKind;
  messageId: string;
  /** The campaign link's index (clicks only). */
  link?: number;
}

function uuidBytes(id: string): Buffer {
  const hex = id.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a uuid: ${id}`);
  return Buffer.from(hex, "hex");
}

function uuidOf(b: Buffer): string {
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function tag(key: Buffer, payload: Buffer): Buffer {
  return createHmac("sha256", key).update(DOMAIN).update(payload).digest().subarray(0, TAG_BYTES);
}

export function signToken(key: Buffer, c: TokenClaims): string {
  const parts = [Buffer.from([KIND_BYTE[c.kind]]), uuidBytes(c.messageId)];
  if (c.kind === "click") {
    if (c.link === undefined || !Number.isInteger(c.link) || c.link < 0 || c.link > 0xffff) throw new Error("a click token needs a link index 0–65535");
    const b = Buffer.alloc(2);
    b.writeUInt16BE(c.link);
    parts.push(b);
  }
  const payload = Buffer.concat(parts);
  return Buffer.concat([payload, tag(key, payload)]).toString("base64url");
}

/** The token's claims, or null when it is malformed or its signature does not match. */
export function verifyToken(key: Buffer, token: string): TokenClaims | null {
  if (!/^[A-Za-z0-9_-]{20,64}$/.test(token)) return null;
  const raw = Buffer.from(token, "base64url");
  // Only the canonical spelling: a last character that differs in its unused bits is another token.
  if (raw.toString("base64url") !== token) return null;
  const kind = BYTE_KIND.get(raw[0] ?? -1);
  if (!kind) return null;
  const len = 1 + 16 + (kind === "click" ? 2 : 0);
  if (raw.length !== len + TAG_BYTES) return null;
  const payload = raw.subarray(0, len);
  if (!timingSafeEqual(raw.subarray(len), tag(key, payload))) return null;
  const messageId = uuidOf(payload.subarray(1, 17));
  return kind === "click" ? { kind, messageId, link: payload.readUInt16BE(17) } : { kind, messageId };
}

/** Where each kind is answered on the HTTP host. */
export const TRACKING_PATHS: Record<TokenKind, string> = { open: "/o", click: "/c", unsubscribe: "/u" };

export function trackingUrl(baseUrl: string, key: Buffer, c: TokenClaims): string {
  return `${baseUrl}${TRACKING_PATHS[c.kind]}/${signToken(key, c)}`;
}
