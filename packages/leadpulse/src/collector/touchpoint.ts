// How a valid collector event becomes a stored touchpoint (or updates one). Pure: no database.
import type { ValidEvent } from "./events.ts";

/** Prisma's TouchpointType enum (prisma/schema.prisma), spelled here so this module stays pure. */
export type TouchpointType = "PAGEVIEW" | "CLICK" | "FORM_VIEW" | "FORM_START" | "FORM_SUBMIT" | "CONVERSION";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A touchpoint row's own fields (organization, visitor and session ids are the ingester's). */
export interface TouchpointDraft {
  eventId: string;
  clientVisitorId: string;
  type: TouchpointType;
  url: string;
  title: string | null;
  occurredAt: Date;
  durationSec: number | null;
  scrollDepth: number | null;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  /** Everything else the event said, snake_case as sent; null when there is nothing. */
  detail: { [key: string]: JsonValue } | null;
}

function compact(obj: { [key: string]: JsonValue | undefined }): { [key: string]: JsonValue } | null {
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? out : null;
}

const FORM_TYPES = { form_view: "FORM_VIEW", form_start: "FORM_START", form_submit: "FORM_SUBMIT" } as const;

/** The touchpoint a valid event stores, or null: `identify` links a visitor to a contact and
 *  `page_leave` completes a page view (`pageMetricsOf`); neither is a touchpoint of its own. */
export function touchpointOf(e: ValidEvent): TouchpointDraft | null {
  const base = {
    eventId: e.id,
    clientVisitorId: e.visitor_id,
    occurredAt: e.ts,
    title: null,
    durationSec: null,
    scrollDepth: null,
    utmSource: null,
    utmMedium: null,
    utmCampaign: null,
  };
  const hint = e.session_hint;
  switch (e.type) {
    case "pageview":
      return {
        ...base,
        type: "PAGEVIEW",
        url: e.url,
        title: e.title ?? null,
        utmSource: e.utm?.source ?? null,
        utmMedium: e.utm?.medium ?? null,
        utmCampaign: e.utm?.campaign ?? null,
        detail: compact({ referrer: e.referrer, utm_term: e.utm?.term, utm_content: e.utm?.content, session_hint: hint }),
      };
    case "click":
      return { ...base, type: "CLICK", url: e.url, detail: compact({ text: e.text, href: e.href, session_hint: hint }) };
    case "form_view":
    case "form_start":
    case "form_submit":
      return {
        ...base,
        type: FORM_TYPES[e.type],
        url: e.url,
        detail: compact({ form_id: e.form_id, form_name: e.form_name, session_hint: hint }),
      };
    case "conversion":
      return {
        ...base,
        type: "CONVERSION",
        url: e.url,
        detail: compact({ goal: e.goal, value: e.value, currency: e.currency, session_hint: hint }),
      };
    case "page_leave":
    case "identify":
      return null;
  }
}

export interface PageMetrics {
  eventId: string;
  clientVisitorId: string;
  url: string;
  /** The pageview event this closes, when the snippet knew it. */
  pageviewId: string | null;
  occurredAt: Date;
  durationSec: number;
  scrollDepth: number;
}

/** What a `page_leave` adds to its page view (Touchpoint.durationSec/scrollDepth are integers). */
export function pageMetricsOf(e: ValidEvent): PageMetrics | null {
  if (e.type !== "page_leave") return null;
  return {
    eventId: e.id,
    clientVisitorId: e.visitor_id,
    url: e.url,
    pageviewId: e.pageview_id ?? null,
    occurredAt: e.ts,
    durationSec: Math.round(e.duration_sec),
    scrollDepth: Math.round(e.scroll_depth),
  };
}
