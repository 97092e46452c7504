// Intent model intent-v1: how likely a website visitor is to buy soon, and how broadly and deeply
// they browse (engagement), from per-visitor features that SQL computes at `now`. Pure and
// deterministic: the same features always give the same score, signals and action. Change a
// weight, cap, half-life or cut-off only with a new INTENT_MODEL_VERSION so shown scores stay
// explainable.
//
// Each signal earns `per` points for every `unit` of its value, up to its `cap` (so no single
// signal dominates; the caps add up to 100), times the recency factor 0.5^(days since last visit
// / half-life). Each signal's points are rounded to 1 decimal and the score is their sum, so the
// signals shown always add up to the score.
import type { ChannelName } from "@marketsage/domain";
import { roundTo } from "@marketsage/domain";

export const INTENT_MODEL_VERSION = "intent-v1";
export const INTENT_HALF_LIFE_DAYS = 7;
export const ENGAGEMENT_HALF_LIFE_DAYS = 30;
/** Band cut-offs on the rounded score: high ≥ 60, medium ≥ 30, low below. */
export const BAND_CUTOFFS = { high: 60, medium: 30 } as const;
/** A channel's engagement rate counts only with at least this many messages delivered. */
export const MIN_DELIVERED = 100;
/** Without enough volume on any reachable channel: WhatsApp, then SMS, then email. */
export const FALLBACK_ORDER: readonly ChannelName[] = ["WHATSAPP", "SMS", "EMAIL"];
/** Key pages, in the URL path pattern syntax of @marketsage/domain's urlPatternRegex. */
export const KEY_PAGE_PATTERNS = { pricing: "/pricing*", checkout: "/checkout*", product: "/products/*" } as const;

/** Per visitor at `now` (snake_case: the columns of the feature query). Counts are over the visitor's whole history. */
export interface VisitorFeatures {
  /** Page views of pricing pages. */
  pricing_views: number;
  /** Page views of checkout pages. */
  checkout_views: number;
  /** Page views of product pages. */
  product_views: number;
  /** Forms started (FORM_START) with no FORM_SUBMIT of that form afterwards. */
  forms_abandoned: number;
  form_submits: number;
  /** CONVERSION touchpoints. */
  conversions: number;
  sessions: number;
  /** Sessions after the first (sessions − 1, never below 0). */
  return_visits: number;
  /** Seconds spent on key pages (pricing, checkout, product), summed. */
  key_page_seconds: number;
  /** Highest scroll depth (0–100 %) reached on a key page. */
  key_page_max_scroll: number;
  /** All page views. */
  page_views: number;
  /** Distinct URL paths viewed. */
  distinct_pages: number;
  /** Seconds spent on all pages, summed. */
  total_seconds: number;
  /** Days (fractional) from the last touchpoint to `now`. */
  days_since_last_visit: number;
  /** Days (fractional) from the first touchpoint to `now`. */
  days_since_first_visit: number;
  /** Linked to a contact. */
  identified: boolean;
}

export type Band = "high" | "medium" | "low";
export interface Signal { signal: string; value: number; points: number; why: string }
export interface ScoreResult {
  /** 0–100, 1 decimal; the sum of the signals' points. */
  score: number;
  band: Band;
  /** Every signal with a non-zero value, most points first. */
  signals: Signal[];
  /** 0.5^(days since last visit / half-life), 4 decimals: already applied to every signal's points. */
  recency_factor: number;
}

export interface Weight {
  signal: string;
  label: string;
  /** Points per `unit` of the value. */
  per: number;
  unit: number;
  unitName: string;
  cap: number;
  value: (f: VisitorFeatures) => number;
}

const w = (signal: string, label: string, per: number, unit: number, unitName: string, cap: number, value: Weight["value"]): Weight =>
  ({ signal, label, per, unit, unitName, cap, value });

/** Intent weights (caps add up to 100). Conversions earn no intent: a buyer is handled by nextAction. */
export const INTENT_WEIGHTS: readonly Weight[] = [
  w("pricing_views", "pricing page views", 8, 1, "view", 24, (f) => f.pricing_views),
  w("checkout_views", "checkout page views", 10, 1, "view", 20, (f) => f.checkout_views),
  w("forms_abandoned", "forms started but not submitted", 15, 1, "form", 15, (f) => f.forms_abandoned),
  w("return_visits", "return visits", 4, 1, "visit", 12, (f) => f.return_visits),
  w("form_submits", "forms submitted", 8, 1, "form", 8, (f) => f.form_submits),
  w("key_page_seconds", "seconds on key pages", 1, 30, "30 s", 8, (f) => f.key_page_seconds),
  w("product_views", "product page views", 2, 1, "view", 8, (f) => f.product_views),
  w("key_page_max_scroll", "max scroll depth on key pages (%)", 1, 20, "20 %", 5, (f) => Math.min(100, f.key_page_max_scroll)),
];

/** Engagement weights: breadth (sessions, distinct pages) and depth (views, time, scroll, forms); caps add up to 100. */
export const ENGAGEMENT_WEIGHTS: readonly Weight[] = [
  w("distinct_pages", "distinct pages viewed", 3, 1, "page", 24, (f) => f.distinct_pages),
  w("sessions", "sessions", 4, 1, "session", 20, (f) => f.sessions),
  w("total_seconds", "seconds on site", 1, 30, "30 s", 20, (f) => f.total_seconds),
  w("page_views", "page views", 1, 1, "view", 16, (f) => f.page_views),
  w("key_page_max_scroll", "max scroll depth on key pages (%)", 1, 10, "10 %", 10, (f) => Math.min(100, f.key_page_max_scroll)),
  w("form_interactions", "forms started or submitted", 5, 1, "form", 10, (f) => f.forms_abandoned + f.form_submits),
];

const clean = (x: number) => (Number.isFinite(x) && x > 0 ? x : 0);

export function bandOf(score: number): Band {
  return score >= BAND_CUTOFFS.high ? "high" : score >= BAND_CUTOFFS.medium ? "medium" : "low";
}

/** 0.5^(days / half-life); a last visit in the future (clock skew) counts as now. */
export function recencyFactor(daysSinceLastVisit: number, halfLifeDays: number): number {
  return 0.5 ** (clean(daysSinceLastVisit) / halfLifeDays);
}

export function scoreWith(weights: readonly Weight[], halfLifeDays: number, f: VisitorFeatures): ScoreResult {
  const decay = recencyFactor(f.days_since_last_visit, halfLifeDays);
  const days = roundTo(clean(f.days_since_last_visit), 1);
  const signals: Signal[] = [];
  for (const wt of weights) {
    const value = clean(wt.value(f));
    if (value === 0) continue;
    const raw = Math.min(wt.cap, (value / wt.unit) * wt.per);
    const points = roundTo(raw * decay, 1);
    const why = `${roundTo(value, 1)} ${wt.label} × ${wt.per} per ${wt.unitName} = ${roundTo(raw, 1)} (cap ${wt.cap})` +
      ` × recency ${roundTo(decay, 4)} (${days} d since last visit, half-life ${halfLifeDays} d)`;
    signals.push({ signal: wt.signal, value: roundTo(value, 1), points, why });
  }
  // Most points first; equal points keep the table's order (Array.prototype.sort is stable).
  signals.sort((a, b) => b.points - a.points);
  const score = roundTo(signals.reduce((s, x) => s + x.points, 0), 1);
  return { score, band: bandOf(score), signals, recency_factor: roundTo(decay, 4) };
}

/** Purchase intent 0–100 (half-life 7 days since the last visit). */
export function scoreIntent(f: VisitorFeatures): ScoreResult {
  return scoreWith(INTENT_WEIGHTS, INTENT_HALF_LIFE_DAYS, f);
}

/** Browsing engagement 0–100 (half-life 30 days since the last visit). */
export function engagementScore(f: VisitorFeatures): ScoreResult {
  return scoreWith(ENGAGEMENT_WEIGHTS, ENGAGEMENT_HALF_LIFE_DAYS, f);
}

export interface Reachable { email: boolean; sms: boolean; whatsapp: boolean }
export interface ChannelEngagement { channel: ChannelName; engagement_rate: number; delivered: number }
export interface NextAction { action: string; action_text: string; channel: ChannelName | null; why: string }

export const NEXT_ACTIONS: Readonly<Record<string, string>> = {
  onboard_customer: "Already converted: welcome and onboard them; no sales offer.",
  show_pricing_chat: "Show a pricing chat prompt on their next visit.",
  show_lead_capture: "Offer a guide or discount on site in exchange for an email or phone number.",
  show_helpful_content: "Show helpful content on site; not ready for an offer.",
  request_consent: "No channel can legally reach this contact: ask for consent first.",
  checkout_reminder: "Remind them of the checkout they started, with help to finish.",
  form_follow_up: "Follow up on the form they started but did not submit.",
  sales_follow_up: "Strong buying signals: send a personal sales follow-up.",
  send_offer: "Send a targeted offer for the products they viewed.",
  nurture_content: "Keep them engaged with useful content.",
};

const REACH_KEY: Readonly<Record<ChannelName, keyof Reachable>> = { EMAIL: "email", SMS: "sms", WHATSAPP: "whatsapp" };

/**
 * The best channel the contact is reachable on: the highest engagement rate among channels with
 * at least MIN_DELIVERED delivered messages (ties: FALLBACK_ORDER); without such a channel, the
 * first reachable one in FALLBACK_ORDER. Never a channel the contact cannot be reached on.
 */
export function chooseChannel(reachable: Reachable, engagement: readonly ChannelEngagement[]): { channel: ChannelName | null; why: string } {
  const open = FALLBACK_ORDER.filter((ch) => reachable[REACH_KEY[ch]]);
  if (open.length === 0) return { channel: null, why: "not reachable on any channel (no consent or address)" };
  const stats = (ch: ChannelName) => engagement.find((e) => e.channel === ch);
  const proven = open
    .map((ch) => ({ ch, rate: clean(stats(ch)?.engagement_rate ?? 0), delivered: clean(stats(ch)?.delivered ?? 0) }))
    .filter((s) => s.delivered >= MIN_DELIVERED)
    .sort((a, b) => b.rate - a.rate); // stable: ties keep FALLBACK_ORDER
  const best = proven[0];
  const skipped = open.filter((ch) => !proven.some((p) => p.ch === ch));
  const note = skipped.length ? `; ${skipped.join(", ")} skipped (< ${MIN_DELIVERED} delivered)` : "";
  if (best) {
    return { channel: best.ch, why: `${best.ch} has the highest engagement rate (${roundTo(best.rate * 100, 1)} % of ${best.delivered} delivered) among reachable channels${note}` };
  }
  const ch = open[0] as ChannelName;
  return { channel: ch, why: `no reachable channel has ${MIN_DELIVERED} delivered messages yet: ${ch} by default order (${FALLBACK_ORDER.join(" > ")})` };
}

const act = (action: string, channel: ChannelName | null, why: string): NextAction =>
  ({ action, action_text: NEXT_ACTIONS[action] ?? action, channel, why });

/** The recommended next step for a visitor with intent `score` (from scoreIntent). */
export function nextAction(score: number, f: VisitorFeatures, reachable: Reachable, channelEngagement: readonly ChannelEngagement[]): NextAction {
  const band = bandOf(score);
  if (clean(f.conversions) > 0) {
    if (!f.identified) return act("onboard_customer", null, `converted ${f.conversions}× (anonymous): no sales push, onboard on site`);
    const c = chooseChannel(reachable, channelEngagement);
    return act("onboard_customer", c.channel, `converted ${f.conversions}×: no sales push; ${c.why}`);
  }
  if (!f.identified) {
    const action = band === "high" ? "show_pricing_chat" : band === "medium" ? "show_lead_capture" : "show_helpful_content";
    return act(action, null, `anonymous visitor (no linked contact), ${band} intent ${score}: on-site action only`);
  }
  const c = chooseChannel(reachable, channelEngagement);
  if (c.channel === null) return act("request_consent", null, c.why);
  let action = band === "high" ? "sales_follow_up" : band === "medium" ? "send_offer" : "nurture_content";
  if (band !== "low" && clean(f.checkout_views) > 0) action = "checkout_reminder";
  else if (band !== "low" && clean(f.forms_abandoned) > 0) action = "form_follow_up";
  return act(action, c.channel, `${band} intent ${score}; ${c.why}`);
}

export const MODEL_DESCRIPTION =
  `Intent model ${INTENT_MODEL_VERSION}: each visitor earns capped points for pricing page views (8 each, max 24), ` +
  "checkout page views (10, max 20), a form started but not submitted (15, max 15), return visits (4, max 12), form " +
  "submits (8, max 8), time on key pages (1 per 30 s, max 8), product page views (2, max 8) and scroll depth on key pages " +
  `(1 per 20 %, max 5); the total is multiplied by 0.5^(days since last visit / ${INTENT_HALF_LIFE_DAYS}), so intent halves ` +
  `every ${INTENT_HALF_LIFE_DAYS} days without a visit. Bands: high ≥ ${BAND_CUTOFFS.high}, medium ≥ ${BAND_CUTOFFS.medium}, ` +
  "low below. Every score lists its signals with their points, which add up to the score. The recommended channel is the " +
  `one with the best engagement rate among channels the contact can legally be reached on (at least ${MIN_DELIVERED} ` +
  "delivered messages, else WhatsApp > SMS > email); anonymous visitors get an on-site action and buyers no sales push.";
