// Collector events: what a website's snippet (or track_events) may send, validated strictly, and
// how a valid event becomes a stored touchpoint. Pure: no database, no HTTP, time from `now`.
import { z } from "zod";

export const MAX_URL = 2_048;
export const MAX_TITLE = 300;
export const MAX_EVENTS = 100;
export const MAX_BYTES = 65_536;
const FUTURE_LIMIT_MS = 24 * 3_600_000;
const PAST_LIMIT_MS = 7 * 24 * 3_600_000;
/** A page hidden after more than a day is a tab left open, not time on page. */
const MAX_DURATION_SEC = 86_400;

const ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

function isAbsoluteHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

const clientId = () =>
  z.string({ error: "must be a string" }).regex(ID_PATTERN, {
    error: "must be 8–64 characters of A–Z, a–z, 0–9, _ or -",
  });

const text = (max: number) =>
  z
    .string({ error: "must be a string" })
    .trim()
    .min(1, { error: "empty" })
    .max(max, { error: `longer than ${max} characters` });

const pageUrl = z
  .string({ error: "must be a string (the page's absolute http(s) URL)" })
  .trim()
  .max(MAX_URL, { error: `longer than ${MAX_URL} characters` })
  .refine(isAbsoluteHttpUrl, { error: "not an absolute http(s) URL" });

/** document.referrer is "" when there is none; that means absent, not an error. */
const referrer = z
  .string({ error: "must be a string (an absolute URL, or empty)" })
  .trim()
  .max(MAX_URL, { error: `longer than ${MAX_URL} characters` })
  .refine((v) => v === "" || isAbsoluteUrl(v), { error: "not an absolute URL" })
  .transform((v) => (v === "" ? undefined : v))
  .optional();

const utm = z.strictObject(
  {
    source: text(200),
    medium: text(200),
    campaign: text(200),
    term: text(200).optional(),
    content: text(200).optional(),
  },
  { error: "must be an object { source, medium, campaign, term?, content? }" },
);

/** ISO 8601 with a time zone (Z or ±hh:mm), or epoch milliseconds. The window check needs `now`
 *  and happens in `checkTimestamp`. */
const timestamp = z.union(
  [
    z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
    z.number().int().nonnegative().transform((ms) => new Date(ms)),
  ],
  { error: "must be an ISO 8601 date-time with a time zone (e.g. 2025-01-31T09:30:00Z) or epoch milliseconds" },
);

const common = {
  id: clientId(),
  ts: timestamp,
  visitor_id: clientId(),
  session_hint: clientId().optional(),
};

const strict = <T extends z.core.$ZodLooseShape>(shape: T) => z.strictObject({ ...common, ...shape });

const formFields = {
  url: pageUrl,
  form_id: text(200).optional(),
  form_name: text(200).optional(),
};
const needsForm = (e: { form_id?: string; form_name?: string }) => e.form_id !== undefined || e.form_name !== undefined;
const formError = { error: "give form_id or form_name (the form's id or name attribute)", path: ["form_id"] };

const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

export const PageviewEvent = strict({
  type: z.literal("pageview"),
  url: pageUrl,
  title: z
    .string({ error: "must be a string" })
    .trim()
    .max(MAX_TITLE, { error: `longer than ${MAX_TITLE} characters` })
    .transform((v) => (v === "" ? undefined : v))
    .optional(),
  referrer,
  utm: utm.optional(),
});

export const ClickEvent = strict({
  type: z.literal("click"),
  url: pageUrl,
  text: text(MAX_TITLE).optional(),
  href: z
    .string({ error: "must be a string" })
    .trim()
    .max(MAX_URL, { error: `longer than ${MAX_URL} characters` })
    .refine(isAbsoluteUrl, { error: "not an absolute URL (send the link's resolved href)" })
    .optional(),
});

export const FormViewEvent = strict({ type: z.literal("form_view"), ...formFields }).refine(needsForm, formError);
export const FormStartEvent = strict({ type: z.literal("form_start"), ...formFields }).refine(needsForm, formError);
export const FormSubmitEvent = strict({ type: z.literal("form_submit"), ...formFields }).refine(needsForm, formError);

/** Sent when the page is hidden: how long it was visible and how far it was scrolled. It closes a
 *  page view rather than being one (see `pageMetricsOf`). */
export const PageLeaveEvent = strict({
  type: z.literal("page_leave"),
  url: pageUrl,
  pageview_id: clientId().optional(),
  scroll_depth: z
    .number({ error: "must be a number from 0 to 100 (percent)" })
    .min(0, { error: "below 0 (a percentage from 0 to 100)" })
    .max(100, { error: "above 100 (a percentage from 0 to 100)" }),
  duration_sec: z
    .number({ error: "must be a number of seconds ≥ 0" })
    .min(0, { error: "negative (seconds on the page, ≥ 0)" })
    .max(MAX_DURATION_SEC, { error: `more than ${MAX_DURATION_SEC} s (24 h) on one page` }),
});

export const ConversionEvent = strict({
  type: z.literal("conversion"),
  url: pageUrl,
  goal: text(100),
  value: z
    .number({ error: "must be a number" })
    .min(0, { error: "negative" })
    .max(1e12, { error: "above 1e12" })
    .optional(),
  currency: z
    .string({ error: "must be a string" })
    .trim()
    .refine((c) => CURRENCIES.has(c), { error: "not an ISO 4217 currency code (three capital letters, e.g. NGN, KES, USD)" })
    .optional(),
}).refine((e) => e.value === undefined || e.currency !== undefined, {
  error: "a value needs its currency (ISO 4217, e.g. NGN)",
  path: ["currency"],
});

export const IdentifyEvent = strict({
  type: z.literal("identify"),
  url: pageUrl.optional(),
  email: z
    .string({ error: "must be a string" })
    .trim()
    .max(254, { error: "longer than 254 characters" })
    .pipe(z.email({ error: "not an email address" }))
    .optional(),
  phone: z
    .string({ error: "must be a string" })
    .trim()
    .regex(/^\+?[0-9][0-9 ().-]{5,24}$/, { error: "not a phone number (digits, optionally +country code)" })
    .refine((p) => p.replace(/\D/g, "").length <= 15, { error: "more than 15 digits (E.164 allows 15)" })
    .optional(),
}).refine((e) => e.email !== undefined || e.phone !== undefined, { error: "give email or phone (at least one)" });

export const EVENT_TYPES = [
  "pageview",
  "click",
  "form_view",
  "form_start",
  "form_submit",
  "page_leave",
  "conversion",
  "identify",
] as const;

export const CollectorEvent = z.discriminatedUnion(
  "type",
  [PageviewEvent, ClickEvent, FormViewEvent, FormStartEvent, FormSubmitEvent, PageLeaveEvent, ConversionEvent, IdentifyEvent],
  { error: `type must be one of ${EVENT_TYPES.join(", ")}` },
);

export type ValidEvent = z.output<typeof CollectorEvent>;
export type EventType = ValidEvent["type"];

/** The common fields alone: checked when the type is unknown, so those problems are listed too. */
const CommonOnly = z.looseObject(common);

export type TimestampProblem = "future" | "old" | null;

/** Inside [now − 7 days, now + 24 h] (both ends included)? */
export function checkTimestamp(ts: Date, now: Date): TimestampProblem {
  const delta = ts.getTime() - now.getTime();
  if (delta > FUTURE_LIMIT_MS) return "future";
  if (delta < -PAST_LIMIT_MS) return "old";
  return null;
}

function formatPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** Zod leaves the input out of issues; a missing field is told apart by looking it up. */
function isMissing(raw: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  let v: unknown = raw;
  for (const p of path) {
    if (typeof v !== "object" || v === null) return false;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v === undefined;
}

function issueMessages(prefix: string, raw: unknown, issues: ReadonlyArray<z.core.$ZodIssue>): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push(`${formatPath(prefix, [...issue.path, key])}: unknown field`);
    } else if (issue.code !== "custom" && issue.path.length > 0 && isMissing(raw, issue.path)) {
      out.push(`${formatPath(prefix, issue.path)}: required`);
    } else {
      out.push(`${formatPath(prefix, issue.path)}: ${issue.message}`);
    }
  }
  return out;
}

function timestampMessage(raw: unknown, problem: TimestampProblem): string | null {
  if (problem === "future") return "more than 24 h in the future";
  if (problem === "old") {
    const looksLikeSeconds = typeof raw === "number" && raw < 1e11;
    return looksLikeSeconds ? "more than 7 days old (it looks like seconds: send epoch milliseconds)" : "more than 7 days old";
  }
  return null;
}

export type EventCheck =
  | { ok: true; event: ValidEvent }
  | { ok: false; errors: string[] };

/** One event: every problem with it, each prefixed by `prefix` (e.g. "events[3]"). */
export function checkEvent(raw: unknown, now: Date, prefix = "event"): EventCheck {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [`${prefix}: not an object`] };
  }
  const errors: string[] = [];
  const parsed = CollectorEvent.safeParse(raw);
  let ts: Date | undefined;
  if (parsed.success) {
    ts = parsed.data.ts;
  } else {
    errors.push(...issueMessages(prefix, raw, parsed.error.issues));
    const typeKnown = (EVENT_TYPES as readonly unknown[]).includes((raw as { type?: unknown }).type);
    if (!typeKnown) {
      const commonOnly = CommonOnly.safeParse(raw);
      if (commonOnly.success) ts = commonOnly.data.ts;
      else errors.push(...issueMessages(prefix, raw, commonOnly.error.issues));
    } else {
      const tsOnly = timestamp.safeParse((raw as { ts?: unknown }).ts);
      if (tsOnly.success) ts = tsOnly.data;
    }
  }
  if (ts !== undefined) {
    const message = timestampMessage((raw as { ts?: unknown }).ts, checkTimestamp(ts, now));
    if (message !== null) errors.push(`${prefix}.ts: ${message}`);
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, event: parsed.data };
}

export interface BatchOptions {
  now: Date;
  maxEvents?: number;
  maxBytes?: number;
}

export interface Rejection {
  index: number;
  id?: string;
  errors: string[];
}

export type BatchResult =
  | { ok: true; events: ValidEvent[]; rejected: Rejection[] }
  | { ok: false; status: 400 | 413; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** A request body (JSON, whether sent as application/json or as sendBeacon's text/plain):
 *  `{ "events": [...] }`. Whole-request problems refuse it; otherwise each event is kept or
 *  rejected on its own. Within a batch the first valid event with an id wins; later ones with
 *  that id are rejected (an invalid event does not claim its id). */
export function parseBatch(body: string | Buffer, opts: BatchOptions): BatchResult {
  const maxEvents = opts.maxEvents ?? MAX_EVENTS;
  const maxBytes = opts.maxBytes ?? MAX_BYTES;
  const bytes = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.byteLength;
  if (bytes > maxBytes) {
    return { ok: false, status: 413, error: `body is ${bytes} bytes; the limit is ${maxBytes} bytes per request` };
  }
  let textBody: string;
  if (typeof body === "string") textBody = body;
  else {
    try {
      textBody = utf8.decode(body);
    } catch {
      return { ok: false, status: 400, error: "body is not valid UTF-8" };
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(textBody);
  } catch (err) {
    return { ok: false, status: 400, error: `body is not JSON (${(err as Error).message})` };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, status: 400, error: 'body must be a JSON object { "events": [...] }' };
  }
  const extra = Object.keys(json).filter((k) => k !== "events");
  if (extra.length > 0) {
    return { ok: false, status: 400, error: `unknown field(s) ${extra.map((k) => `"${k}"`).join(", ")}; the body is { "events": [...] }` };
  }
  const events = (json as { events?: unknown }).events;
  if (!Array.isArray(events)) {
    return { ok: false, status: 400, error: 'body must be { "events": [...] } with an array of events' };
  }
  if (events.length > maxEvents) {
    return { ok: false, status: 413, error: `${events.length} events; the limit is ${maxEvents} per request (split the batch)` };
  }
  const valid: ValidEvent[] = [];
  const rejected: Rejection[] = [];
  const keptAt = new Map<string, number>();
  events.forEach((raw, index) => {
    const prefix = `events[${index}]`;
    const rawId = typeof raw === "object" && raw !== null ? (raw as { id?: unknown }).id : undefined;
    const id = typeof rawId === "string" ? rawId : undefined;
    const check = checkEvent(raw, opts.now, prefix);
    const errors = check.ok ? [] : [...check.errors];
    const first = id === undefined ? undefined : keptAt.get(id);
    if (first !== undefined) errors.push(`${prefix}.id: duplicate id in this batch (kept events[${first}])`);
    if (check.ok && errors.length === 0) {
      valid.push(check.event);
      keptAt.set(check.event.id, index);
    } else {
      rejected.push(id === undefined ? { index, errors } : { index, id, errors });
    }
  });
  return { ok: true, events: valid, rejected };
}

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
