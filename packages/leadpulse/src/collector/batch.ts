// A collector request: the body parsed and each event checked, the valid ones kept and every
// problem of the others listed (time from `now`). Pure: no database, no HTTP.
import { z } from "zod";
import { CollectorEvent, CommonOnly, EVENT_TYPES, FUTURE_LIMIT_MS, MAX_BYTES, MAX_EVENTS, PAST_LIMIT_MS, timestamp, type ValidEvent } from "./events.ts";

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
  return { ok: true, event: { ...parsed.data, ts: parsed.data.ts ?? now } };
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

/** What the snippet knows about the browser, once per request. */
export interface BatchContext {
  /** The browser's IANA time zone (the country hint when no trusted proxy says the country). */
  tz?: string;
}

export const BatchContextSchema = z.strictObject(
  {
    tz: z
      .string({ error: "must be a string (an IANA time zone such as Africa/Lagos)" })
      .regex(/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+){0,2}$/, { error: "not an IANA time zone (e.g. Africa/Lagos)" })
      .max(64, { error: "longer than 64 characters" })
      .optional(),
  },
  { error: 'must be an object { "tz"?: "Africa/Lagos" }' },
);

export type BatchResult =
  | { ok: true; events: ValidEvent[]; rejected: Rejection[]; context: BatchContext }
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
  const extra = Object.keys(json).filter((k) => k !== "events" && k !== "context");
  if (extra.length > 0) {
    return { ok: false, status: 400, error: `unknown field(s) ${extra.map((k) => `"${k}"`).join(", ")}; the body is { "events": [...], "context"?: {...} }` };
  }
  const ctx = BatchContextSchema.safeParse((json as { context?: unknown }).context ?? {});
  if (!ctx.success) {
    return { ok: false, status: 400, error: issueMessages("context", (json as { context?: unknown }).context, ctx.error.issues).join("; ") };
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
  return { ok: true, events: valid, rejected, context: ctx.data };
}
