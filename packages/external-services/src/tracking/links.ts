// A campaign message's tracking, added by the bulk worker to each recipient's rendered content:
//   - links: every http(s) URL of the campaign's content (its variants' text and HTML `href`s, as
//     written: a URL with a merge field in it is per recipient and is left as is) is registered
//     once per campaign (campaign_links: campaign, index, URL) and replaced in each message by a
//     signed click link (/c/<token>: the message and the link's index — the redirect reads the
//     URL from campaign_links, so a token can only lead where the campaign pointed);
//   - email: an open pixel (/o/<token>), a per-recipient unsubscribe link in the footer (/u/<token>)
//     and RFC 8058's `List-Unsubscribe: <…/u/<token>>` + `List-Unsubscribe-Post:
//     List-Unsubscribe=One-Click` headers (required of bulk senders by the large mailbox providers).
//     Campaign email always carries the unsubscribe link and headers; links and the pixel follow
//     the send's track_links;
//   - SMS and WhatsApp free text with track_links: its URLs become short click links.
import type { DbHandle } from "@marketsage/core";
import { trackingUrl } from "./token.ts";

export interface CampaignLink { idx: number; url: string }
export interface TrackingContext { baseUrl: string; key: Buffer }

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const HREF = /(\bhref\s*=\s*)(["'])(.*?)\2/gis;
const TRAILING = /[.,;:!?)\]}]+$/;

function decodeEntities(s: string): string {
  return s.replace(/&(amp|quot|#39|apos|lt|gt);/g, (_m, e: string) => ({ amp: "&", quot: '"', "#39": "'", apos: "'", lt: "<", gt: ">" })[e]!);
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A URL as it appears in text, without the sentence's punctuation after it. */
function trimUrl(u: string): string {
  let out = u.replace(TRAILING, "");
  // keep a closing parenthesis that closes one inside the URL (Wikipedia-style links)
  if (u.length > out.length && u[out.length] === ")" && (out.match(/\(/g)?.length ?? 0) > (out.match(/\)/g)?.length ?? 0)) out += ")";
  return out;
}

const trackable = (u: string) => /^https?:\/\//i.test(u) && !u.includes("{{") && u.length <= 2048;

/** The campaign's URLs in order of first appearance (text URLs and HTML hrefs). */
export function campaignUrls(sources: ReadonlyArray<string | null | undefined>): string[] {
  const seen = new Set<string>();
  const add = (u: string) => {
    if (trackable(u)) seen.add(u);
  };
  for (const s of sources) {
    if (!s) continue;
    if (/<[a-z][^>]*>/i.test(s)) {
      for (const m of s.matchAll(HREF)) add(decodeEntities(m[3]!.trim()));
    } else {
      for (const m of s.matchAll(URL_IN_TEXT)) add(trimUrl(m[0]));
    }
  }
  return [...seen];
}

/**
 * Registers the campaign's URLs (indexes continue after the campaign's earlier links; two workers
 * registering the same content write the same rows) and returns every link of the campaign.
 */
export async function registerCampaignLinks(db: DbHandle, orgId: string, campaignId: string, sources: ReadonlyArray<string | null | undefined>): Promise<CampaignLink[]> {
  const urls = campaignUrls(sources);
  if (urls.length) {
    await db.$executeRaw`
      with src as (select u, ord from unnest(${urls}::text[]) with ordinality as t(u, ord)),
           missing as (select u, ord from src where not exists (select 1 from campaign_links l where l.campaign_id = ${campaignId}::uuid and l.url = src.u)),
           base as (select coalesce(max(idx) + 1, 0) as b from campaign_links where campaign_id = ${campaignId}::uuid)
      insert into campaign_links (campaign_id, idx, organization_id, url)
      select ${campaignId}::uuid, (base.b + row_number() over (order by ord) - 1)::int, ${orgId}::uuid, u from missing, base
      on conflict do nothing`;
  }
  return db.$queryRaw<CampaignLink[]>`select idx, url from campaign_links where campaign_id = ${campaignId}::uuid order by idx`;
}

export interface TrackInput {
  messageId: string;
  channel: "EMAIL" | "SMS" | "WHATSAPP";
  text: string | null;
  html: string | null;
  links: readonly CampaignLink[];
  /** Links become click links (and email gets the open pixel). */
  shortenLinks: boolean;
}

export interface Tracked {
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
}

/** The recipient's content with its tracking (see the file's head); pure. */
export function trackMessage(ctx: TrackingContext, m: TrackInput): Tracked {
  const byUrl = new Map(m.links.map((l) => [l.url, l.idx]));
  const click = (url: string): string | null => {
    const idx = byUrl.get(url);
    return idx === undefined ? null : trackingUrl(ctx.baseUrl, ctx.key, { kind: "click", messageId: m.messageId, link: idx });
  };
  const inText = (t: string) =>
    t.replace(URL_IN_TEXT, (raw) => {
      const u = trimUrl(raw);
      const c = click(u);
      return c ? c + raw.slice(u.length) : raw;
    });
  const inHtml = (h: string) =>
    h.replace(HREF, (all, pre: string, q: string, v: string) => {
      const c = click(decodeEntities(v.trim()));
      return c ? `${pre}${q}${escapeAttr(c)}${q}` : all;
    });

  let { text, html } = m;
  if (m.shortenLinks && byUrl.size) {
    if (text) text = inText(text);
    if (html) html = inHtml(html);
  }
  if (m.channel !== "EMAIL") return { text, html, headers: {} };

  const unsubscribe = trackingUrl(ctx.baseUrl, ctx.key, { kind: "unsubscribe", messageId: m.messageId });
  const footerHtml =
    `<p style="margin-top:24px;font-size:12px;color:#6b7280">You receive this email because you subscribed to our updates. ` +
    `<a href="${escapeAttr(unsubscribe)}" style="color:#6b7280">Unsubscribe</a></p>`;
  const pixel = m.shortenLinks ? `<img src="${escapeAttr(trackingUrl(ctx.baseUrl, ctx.key, { kind: "open", messageId: m.messageId }))}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">` : "";
  if (html) {
    const tail = footerHtml + pixel;
    html = /<\/body>/i.test(html) ? html.replace(/<\/body>(?![\s\S]*<\/body>)/i, `${tail}</body>`) : html + tail;
  }
  // The text part too (an HTML-only email keeps no text part: its footer has the link).
  if (text || !html) text = `${text ?? ""}${text ? "\n\n" : ""}--\nUnsubscribe: ${unsubscribe}`;
  return {
    text,
    html,
    headers: { "List-Unsubscribe": `<${unsubscribe}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
  };
}
