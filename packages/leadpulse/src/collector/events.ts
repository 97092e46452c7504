// Collector events: what a website's snippet (or track_events) may send, validated strictly.
// Pure: no database, no HTTP. A batch is parsed in batch.ts; a valid event becomes a stored
// touchpoint in touchpoint.ts.
import { z } from "zod";

export const MAX_URL = 2_048;
export const MAX_TITLE = 300;
export const MAX_EVENTS = 100;
export const MAX_BYTES = 65_536;
export const FUTURE_LIMIT_MS = 24 * 3_600_000;
export const PAST_LIMIT_MS = 7 * 24 * 3_600_000;
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
export const timestamp = z.union(
  [
    z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
    z.number().int().nonnegative().transform((ms) => new Date(ms)),
  ],
  { error: "must be an ISO 8601 date-time with a time zone (e.g. 2025-01-31T09:30:00Z) or epoch milliseconds" },
);

const common = {
  id: clientId(),
  /** When it happened; absent: when the collector received it (checkEvent fills it in). */
  ts: timestamp.optional(),
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

/** A checked event: its time is always known (the receipt time when it was not sent). */
export type ValidEvent = z.output<typeof CollectorEvent> & { ts: Date };
export type EventType = ValidEvent["type"];

/** The common fields alone: checked when the type is unknown, so those problems are listed too. */
export const CommonOnly = z.looseObject(common);
