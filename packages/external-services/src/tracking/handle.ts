// What the HTTP host answers on the tracking links (and what sandbox mode calls in-process when no
// host runs in the process): a signed token is verified, then
//   GET  /o/<token>  open pixel → an OPENED message event (a reload within a minute is not a new
//                    one), answered with a 1×1 GIF;
//   GET  /c/<token>  click → a CLICKED event naming the link, answered 302 to the campaign's own URL
//                    for that index (campaign_links) — never to a URL taken from the request;
//   GET  /u/<token>  the unsubscribe page: who and what, and a button (a GET never unsubscribes:
//                    mail scanners follow links);
//   POST /u/<token>  unsubscribe: RFC 8058 one-click (`List-Unsubscribe=One-Click`) or the page's
//                    button → an UNSUBSCRIBED consent event for the message's channel (source
//                    unsubscribe_link; nothing if the contact is already unsubscribed) and an
//                    UNSUBSCRIBED message event, in one transaction; nothing else changes.
// A bad or forged token answers 404 and writes nothing. Nothing about the person is logged or
// stored beyond the event (no address, no user agent).
import type { DbHandle } from "@marketsage/core";
import { verifyToken, type TokenClaims, type TokenKind } from "./token.ts";

export interface TrackingRequest {
  method: string;
  path: string;
  body: string;
}

export interface TrackingAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  /** What was recorded (tests, the sandbox's simulated engagement). */
  recorded: "opened" | "clicked" | "unsubscribed" | null;
}

/** Transparent 1×1 GIF. */
export const PIXEL = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

const NO_STORE = { "cache-control": "no-store, private", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff" };
const PAGE_CSP = { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'", "x-frame-options": "DENY" };
const PATH = /^\/(o|c|u)\/([A-Za-z0-9_-]{20,64})(?:\.gif)?\/?$/;
const KIND_OF: Record<string, TokenKind> = { o: "open", c: "click", u: "unsubscribe" };

interface MessageRow {
  id: string;
  organization_id: string;
  contact_id: string | null;
  campaign_id: string | null;
  channel: "EMAIL" | "SMS" | "WHATSAPP";
  recipient: string;
  org_name: string;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function masked(recipient: string): string {
  const at = recipient.lastIndexOf("@");
  if (at > 0) return `${recipient[0]}${"•".repeat(Math.min(6, Math.max(1, at - 1)))}${recipient.slice(at)}`;
  return recipient.length > 4 ? `${"•".repeat(recipient.length - 4)}${recipient.slice(-4)}` : recipient;
}

function page(status: number, title: string, body: string): TrackingAnswer {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#111}button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#111;color:#fff;cursor:pointer}p.small{color:#6b7280;font-size:14px}</style></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;
  return { status, headers: { ...NO_STORE, ...PAGE_CSP, "content-type": "text/html; charset=utf-8" }, body: html, recorded: null };
}

const notFound = (): TrackingAnswer => page(404, "This link is not valid", "<p>The link may have been copied incompletely. Nothing was changed.</p>");

async function messageOf(db: DbHandle, id: string): Promise<MessageRow | null> {
  const [m] = await db.$queryRaw<MessageRow[]>`
    select m.id::text, m.organization_id::text, m.contact_id::text, m.campaign_id::text, m.channel::text as channel, m.recipient, o.name as org_name
      from messages m join organizations o on o.id = m.organization_id
     where m.id = ${id}::uuid and m.direction = 'OUTBOUND'`;
  return m ?? null;
}

/** An OPENED / CLICKED event on the message (its campaign, variant, contact and channel), unless the same kind was recorded in the last `dedupeMs`. */
async function recordEvent(db: DbHandle, messageId: string, type: "OPENED" | "CLICKED", detail: Record<string, unknown>, now: Date, dedupeMs: number): Promise<boolean> {
  const since = new Date(now.getTime() - dedupeMs);
  const n = await db.$executeRaw`
    insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
    select m.organization_id, m.id, m.campaign_id, m.variant_id, m.contact_id, m.channel, ${type}::"MessageEventType",
           greatest(${now}::timestamptz, m.created_at), ${JSON.stringify(detail)}::jsonb
      from messages m
     where m.id = ${messageId}::uuid and m.direction = 'OUTBOUND'
       and not exists (select 1 from message_events e where e.message_id = m.id and e.type = ${type}::"MessageEventType" and e.occurred_at > ${since}
                       and (${type} <> 'CLICKED' or e.detail->>'link' = ${String(detail.link ?? "")}))`;
  return n > 0;
}

export interface HandleOptions {
  now: Date;
  /** The database client that can run a transaction (the unsubscribe's two writes). */
  transaction<T>(fn: (tx: DbHandle) => Promise<T>): Promise<T>;
}

export async function handleTracking(db: DbHandle, key: Buffer, req: TrackingRequest, opts: HandleOptions): Promise<TrackingAnswer> {
  const m = PATH.exec(req.path);
  const claims: TokenClaims | null = m ? verifyToken(key, m[2]!) : null;
  if (!m || !claims || claims.kind !== KIND_OF[m[1]!]) {
    if (m?.[1] === "o") return { status: 404, headers: { ...NO_STORE, "content-type": "image/gif" }, body: PIXEL, recorded: null };
    return notFound();
  }
  const now = opts.now;
  switch (claims.kind) {
    case "open": {
      const rec = req.method === "GET" && (await recordEvent(db, claims.messageId, "OPENED", { via: "pixel" }, now, 60_000));
      return { status: 200, headers: { ...NO_STORE, "content-type": "image/gif" }, body: PIXEL, recorded: rec ? "opened" : null };
    }
    case "click": {
      const [link] = await db.$queryRaw<Array<{ url: string }>>`
        select l.url from messages m join campaign_links l on l.campaign_id = m.campaign_id and l.idx = ${claims.link!}
         where m.id = ${claims.messageId}::uuid and m.direction = 'OUTBOUND'`;
      if (!link) return page(404, "This link has expired", "<p>The campaign this link belonged to is no longer available.</p>");
      const rec = await recordEvent(db, claims.messageId, "CLICKED", { link: claims.link, url: link.url }, now, 10_000);
      return { status: 302, headers: { ...NO_STORE, location: link.url, "content-type": "text/plain; charset=utf-8" }, body: `Redirecting to ${link.url}`, recorded: rec ? "clicked" : null };
    }
    case "unsubscribe": {
      const msg = await messageOf(db, claims.messageId);
      if (!msg || !msg.contact_id) return notFound();
      const what = `${esc(msg.org_name)}'s ${msg.channel === "EMAIL" ? "emails" : msg.channel === "SMS" ? "text messages" : "WhatsApp messages"}`;
      if (req.method === "GET") {
        const [c] = await db.$queryRaw<Array<{ consent: string | null }>>`
          select (case ${msg.channel} when 'EMAIL' then consent_email when 'SMS' then consent_sms else consent_whatsapp end)::text as consent from contacts where id = ${msg.contact_id}::uuid`;
        if (c?.consent === "UNSUBSCRIBED") return page(200, "You are unsubscribed", `<p>${esc(masked(msg.recipient))} no longer receives ${what}.</p>`);
        return page(
          200,
          "Unsubscribe",
          `<p>Stop ${what} to <strong>${esc(masked(msg.recipient))}</strong>?</p><form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">Unsubscribe</button></form><p class="small">You can subscribe again at any time.</p>`,
        );
      }
      const oneClick = /(^|&)List-Unsubscribe=One-Click(&|$)/.test(req.body.trim());
      const changed = await opts.transaction(async (tx) => {
        const n = await tx.$executeRaw`
          insert into consent_events (organization_id, contact_id, channel, action, source, reason, occurred_at)
          select ${msg.organization_id}::uuid, c.id, ${msg.channel}::"Channel", 'UNSUBSCRIBED', 'unsubscribe_link',
                 ${oneClick ? "one-click unsubscribe (List-Unsubscribe-Post)" : "unsubscribe page"}, ${now}
            from contacts c
           where c.id = ${msg.contact_id}::uuid and c.organization_id = ${msg.organization_id}::uuid
             and (case ${msg.channel} when 'EMAIL' then c.consent_email when 'SMS' then c.consent_sms else c.consent_whatsapp end) is distinct from 'UNSUBSCRIBED'`;
        await tx.$executeRaw`
          insert into message_events (organization_id, message_id, campaign_id, variant_id, contact_id, channel, type, occurred_at, detail)
          select m.organization_id, m.id, m.campaign_id, m.variant_id, m.contact_id, m.channel, 'UNSUBSCRIBED', greatest(${now}::timestamptz, m.created_at),
                 ${JSON.stringify({ via: oneClick ? "one-click" : "page" })}::jsonb
            from messages m where m.id = ${msg.id}::uuid and not exists (select 1 from message_events e where e.message_id = m.id and e.type = 'UNSUBSCRIBED')`;
        return n > 0;
      });
      const answer = page(200, "You are unsubscribed", `<p>${esc(masked(msg.recipient))} no longer receives ${what}.</p>`);
      return { ...answer, recorded: changed ? "unsubscribed" : null };
    }
  }
}
