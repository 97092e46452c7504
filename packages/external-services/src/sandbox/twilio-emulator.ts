// A local Twilio: an HTTP server on 127.0.0.1 speaking Twilio's REST wire format (the 2010-04-01
// Messages and Balance resources, Twilio's JSON error shape) to the official `twilio` SDK, pointed
// here by the provider's RequestClient subclass. The recipient's last four digits choose what it
// does (sandbox/test-numbers.ts). Status callbacks and inbound messages are handed to `deliver` as
// SignedRequests: form-encoded, signed with X-Twilio-Signature exactly as Twilio signs them (the
// SDK's own getExpectedTwilioSignature, keyed by the auth token).
//
// For bulk runs: `latencyMs` delays every API answer (a realistic round trip for throughput
// measurements), `ratePerSecond` answers message creations above that rate in any sliding second
// with Twilio's 429 / 20429, and List Messages (GET .../Messages.json) answers Twilio's filters
// (To, From, DateSent, DateSent<, DateSent>) and paging, newest first, for crash reconciliation. The
// balance only decrements (on delivery) and never refuses a send: a big `balance` covers any run.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { formRecord, readBody, reply } from "./http.ts";
import twilio from "twilio";
import type { Money, SignedRequest, WebhookSink } from "../providers/types.ts";
import { emulatorLifecycle, type DeliveredWebhookOf, type HttpEmulator, type RecordedFormRequest } from "./lifecycle.ts";
import { fromUnits, toUnits } from "./money.ts";
import { sandboxOutcome, type SandboxOutcome } from "./test-numbers.ts";
import { smsShape } from "../validate/sms.ts";

export interface TwilioEmulatorOptions {
  accountSid: string;
  authToken: string;
  /** Where status callbacks and inbound messages go. */
  deliver: WebhookSink;
  /** The inbound-message webhook (the number's "A message comes in" URL), for STOP replies. */
  inboundUrl?: string;
  /** Delay before each status callback (default 5 ms). */
  reportDelayMs?: number;
  /** The account's starting balance (default 20.0000 USD). */
  balance?: Money;
  /** Price per segment of a delivered message, a positive decimal (default "0.0075"). */
  pricePerSegment?: string;
  /** The number a Messaging Service sends from (default +15017122661). */
  serviceNumber?: string;
  /** Every API answer (errors, 429s and lists included) is delayed by this many ms (default 0). */
  latencyMs?: number;
  /**
   * Message creations (POST Messages.json) admitted in any sliding second; the ones above it answer
   * HTTP 429 with Twilio's error 20429 "Too Many Requests" and create nothing (default unlimited).
   */
  ratePerSecond?: number;
}

export type TwilioMessageStatus = "accepted" | "queued" | "sending" | "sent" | "delivered" | "undelivered" | "failed";

export interface EmulatedTwilioMessage {
  sid: string;
  to: string;
  from: string;
  messagingServiceSid: string | null;
  body: string;
  numSegments: number;
  status: TwilioMessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  price: string | null;
  statusCallback: string | null;
  outcome: SandboxOutcome;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
}

/** `authorized`: whether the basic-auth credentials matched. */
export type RecordedTwilioRequest = RecordedFormRequest;

export type DeliveredWebhook = DeliveredWebhookOf<"status" | "inbound">;

export interface TwilioEmulator extends HttpEmulator<RecordedTwilioRequest, DeliveredWebhook, EmulatedTwilioMessage> {
  balance(): Money;
}

const API = "2010-04-01";
const DEFAULT_PRICE = "0.0075";

interface TwilioError {
  status: number;
  code: number;
  message: string;
}

const ERR = {
  auth: { status: 401, code: 20003, message: "Authenticate" },
  notFound: { status: 404, code: 20404, message: "The requested resource was not found" },
  internal: { status: 500, code: 20500, message: "An internal server error has occurred" },
  toRequired: { status: 400, code: 21604, message: "A 'To' phone number is required." },
  fromRequired: { status: 400, code: 21603, message: "A 'From' phone number is required." },
  bodyRequired: { status: 400, code: 21602, message: "Message body is required." },
  invalidFrom: { status: 400, code: 21212, message: "Invalid From Number (caller ID)" },
  invalidTo: { status: 400, code: 21211, message: "Invalid 'To' Phone Number" },
  unsubscribed: { status: 400, code: 21610, message: "Attempt to send to unsubscribed recipient" },
  tooMany: { status: 429, code: 20429, message: "Too Many Requests" },
} satisfies Record<string, TwilioError>;

// ---- wire helpers ----

function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString("hex");
}

/** RFC 2822 as Twilio writes dates: "Thu, 24 Aug 2023 05:01:45 +0000". */
function rfc2822(d: Date): string {
  return d.toUTCString().replace("GMT", "+0000");
}

function moreInfo(code: number): string {
  return `https://www.twilio.com/docs/errors/${code}`;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const DAY_MS = 86_400_000;
/** Twilio's largest PageSize; 50 when none is given. */
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 50;

/** Twilio keeps whole seconds. */
const seconds = (d: Date) => Math.floor(d.getTime() / 1000) * 1000;

/**
 * One DateSent filter as Twilio reads it: `DateSent>` (sent as `DateSent>=…` on the wire, the SDK's
 * dateSentAfter) is on or after, `DateSent<` (dateSentBefore) on or before, `DateSent` on; a day
 * (YYYY-MM-DD, the documented form) is the whole UTC day, a date-time (YYYY-MM-DDTHH:MM:SSZ, what the
 * SDK serializes a Date as) is that second. Null when the value is not a date.
 */
function dateSentTest(op: ">" | "<" | "=", value: string): ((sent: Date) => boolean) | null {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const t = Date.parse(day ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(t) || (!day && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value))) return null;
  const from = day ? t : Math.floor(t / 1000) * 1000;
  const until = day ? t + DAY_MS : from + 1000; // exclusive
  if (op === ">") return (d) => seconds(d) >= from;
  if (op === "<") return (d) => seconds(d) < until;
  return (d) => seconds(d) >= from && seconds(d) < until;
}

const UNDELIVERED_CODE = 30003;
const UNDELIVERED_MESSAGE = "Unreachable destination handset";

export async function startTwilioEmulator(opts: TwilioEmulatorOptions): Promise<TwilioEmulator> {
  const reportDelayMs = opts.reportDelayMs ?? 5;
  const currency = opts.balance?.currency ?? "USD";
  let balanceUnits = toUnits(opts.balance?.amount ?? "20.0000");
  const priceUnits = toUnits(opts.pricePerSegment ?? DEFAULT_PRICE);
  const serviceNumber = opts.serviceNumber ?? "+15017122661";
  const accountPath = `/${API}/Accounts/${opts.accountSid}`;
  const latencyMs = opts.latencyMs ?? 0;
  const ratePerSecond = opts.ratePerSecond ?? Infinity;
  if (!(latencyMs >= 0) || !Number.isFinite(latencyMs)) throw new Error(`twilio emulator: latencyMs must be a number of ms ≥ 0, not ${opts.latencyMs}`);
  if (!(ratePerSecond > 0)) throw new Error(`twilio emulator: ratePerSecond must be > 0, not ${opts.ratePerSecond}`);
  /** When each admitted creation of the last second arrived (ms), oldest first, from `admittedHead`. */
  const admitted: number[] = [];
  let admittedHead = 0;

  const requests: RecordedTwilioRequest[] = [];
  const messages = new Map<string, EmulatedTwilioMessage>();
  /** Each recipient's messages, oldest first (List Messages filtered by To). */
  const byTo = new Map<string, EmulatedTwilioMessage[]>();
  /** Recipients who replied STOP: further sends to them get 21610, as on Twilio. */
  const optedOut = new Set<string>();
  const life = emulatorLifecycle<DeliveredWebhook["kind"]>(opts.deliver);

  function sign(url: string, params: Record<string, string>): SignedRequest {
    const signature = twilio.getExpectedTwilioSignature(opts.authToken, url, params);
    return {
      method: "POST",
      url,
      headers: {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "x-twilio-signature": signature,
        "user-agent": "TwilioProxy/1.1",
        "i-twilio-idempotency-token": randomBytes(16).toString("hex"),
      },
      body: new URLSearchParams(params).toString(),
    };
  }

  function statusParams(m: EmulatedTwilioMessage): Record<string, string> {
    const p: Record<string, string> = {};
    if (m.errorCode !== null) p.ErrorCode = String(m.errorCode);
    p.SmsSid = m.sid;
    p.SmsStatus = m.status;
    p.MessageStatus = m.status;
    p.To = m.to;
    if (m.messagingServiceSid) p.MessagingServiceSid = m.messagingServiceSid;
    p.MessageSid = m.sid;
    p.AccountSid = opts.accountSid;
    p.From = m.from;
    p.ApiVersion = API;
    return p;
  }

  function setStatus(m: EmulatedTwilioMessage, status: TwilioMessageStatus): void {
    const now = new Date();
    m.status = status;
    m.dateUpdated = now;
    if (status === "sent") m.dateSent = now;
    if (status === "undelivered") {
      m.errorCode = UNDELIVERED_CODE;
      m.errorMessage = UNDELIVERED_MESSAGE;
    }
    if (status === "delivered") {
      const cost = priceUnits * BigInt(m.numSegments);
      m.price = fromUnits(-cost);
      balanceUnits -= cost;
    }
  }

  async function lifecycle(m: EmulatedTwilioMessage): Promise<void> {
    const finalStatus: TwilioMessageStatus = m.outcome === "undelivered" ? "undelivered" : "delivered";
    for (const status of ["queued", "sent", finalStatus] as const) {
      if (!(await life.sleep(reportDelayMs))) return;
      if (status !== "queued") setStatus(m, status);
      else if (m.status === "accepted") setStatus(m, "queued");
      if (m.statusCallback) await life.hand("status", sign(m.statusCallback, statusParams(m)));
      if (life.closed) return;
    }
    if (m.outcome === "stop_reply") {
      if (!(await life.sleep(reportDelayMs))) return;
      optedOut.add(m.to);
      if (!opts.inboundUrl) return;
      const sid = newSid("SM");
      const inbound: Record<string, string> = {
        ToCountry: "US",
        ToState: "",
        SmsMessageSid: sid,
        NumMedia: "0",
        ToCity: "",
        FromZip: "",
        SmsSid: sid,
        OptOutType: "STOP",
        FromState: "",
        SmsStatus: "received",
        FromCity: "",
        Body: "STOP",
        FromCountry: "",
        To: m.from,
        ...(m.messagingServiceSid ? { MessagingServiceSid: m.messagingServiceSid } : {}),
        ToZip: "",
        NumSegments: "1",
        MessageSid: sid,
        AccountSid: opts.accountSid,
        From: m.to,
        ApiVersion: API,
      };
      await life.hand("inbound", sign(opts.inboundUrl, inbound));
    }
  }

  function resource(m: EmulatedTwilioMessage): Record<string, unknown> {
    const uri = `${accountPath}/Messages/${m.sid}.json`;
    return {
      account_sid: opts.accountSid,
      api_version: API,
      body: m.body,
      date_created: rfc2822(m.dateCreated),
      date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
      date_updated: rfc2822(m.dateUpdated),
      direction: "outbound-api",
      error_code: m.errorCode,
      error_message: m.errorMessage,
      from: m.messagingServiceSid && m.status === "accepted" ? null : m.from,
      messaging_service_sid: m.messagingServiceSid,
      num_media: "0",
      num_segments: String(m.numSegments),
      price: m.price,
      price_unit: "USD",
      sid: m.sid,
      status: m.status,
      subresource_uris: { media: `${accountPath}/Messages/${m.sid}/Media.json` },
      to: m.to,
      uri,
    };
  }

  function json(res: ServerResponse, status: number, body: unknown, record: RecordedTwilioRequest): void {
    record.status = status;
    reply(res, status, "application/json; charset=utf-8", JSON.stringify(body), { "twilio-request-id": newSid("RQ") });
  }

  function error(res: ServerResponse, e: TwilioError, record: RecordedTwilioRequest): void {
    if (e.status === 401) res.setHeader("www-authenticate", 'Basic realm="Twilio API"');
    const body: Record<string, unknown> = { code: e.code, message: e.message, more_info: moreInfo(e.code), status: e.status };
    if (e.code === 20003) body.detail = "Your AccountSid or AuthToken was incorrect.";
    json(res, e.status, body, record);
  }

  function authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? "";
    if (!h.startsWith("Basic ")) return false;
    const decoded = Buffer.from(h.slice(6), "base64").toString("utf8");
    const i = decoded.indexOf(":");
    if (i < 0) return false;
    return safeEqual(decoded.slice(0, i), opts.accountSid) && safeEqual(decoded.slice(i + 1), opts.authToken);
  }

  function createMessage(form: Record<string, string>, res: ServerResponse, record: RecordedTwilioRequest): void {
    const to = form.To?.trim() ?? "";
    const from = form.From?.trim() ?? "";
    const serviceSid = form.MessagingServiceSid?.trim() ?? "";
    const body = form.Body ?? "";
    if (!to) return error(res, ERR.toRequired, record);
    if (!from && !serviceSid) return error(res, ERR.fromRequired, record);
    if (!body && !form.MediaUrl && !form.ContentSid) return error(res, ERR.bodyRequired, record);
    if (from && !/^\+[1-9]\d{6,14}$/.test(from) && !/^[A-Za-z0-9 ]{1,11}$/.test(from)) return error(res, ERR.invalidFrom, record);
    const outcome = sandboxOutcome(to);
    if (outcome === "invalid_number" || !/^\+?[1-9]\d{6,14}$/.test(to.replace(/[\s()-]/g, ""))) return error(res, ERR.invalidTo, record);
    if (outcome === "rejected" || optedOut.has(to)) return error(res, ERR.unsubscribed, record);
    if (outcome === "provider_error") return error(res, ERR.internal, record);
    if (outcome === "no_answer") return life.hang(res);
    const now = new Date();
    const m: EmulatedTwilioMessage = {
      sid: newSid("SM"),
      to,
      from: from || serviceNumber,
      messagingServiceSid: serviceSid || null,
      body,
      numSegments: body ? smsShape(body).segments : 1,
      // Twilio answers "accepted" when a Messaging Service picks the sender, "queued" otherwise.
      status: from ? "queued" : "accepted",
      errorCode: null,
      errorMessage: null,
      price: null,
      statusCallback: form.StatusCallback || null,
      outcome,
      dateCreated: now,
      dateUpdated: now,
      dateSent: null,
    };
    messages.set(m.sid, m);
    let list = byTo.get(m.to);
    if (!list) byTo.set(m.to, (list = []));
    list.push(m);
    json(res, 201, resource(m), record);
    void life.track(lifecycle(m));
  }

  /** Whether a creation arriving at `now` fits in the sliding second; if it does, it is counted. */
  function admit(now: number): boolean {
    if (ratePerSecond === Infinity) return true;
    while (admittedHead < admitted.length && admitted[admittedHead]! <= now - 1000) admittedHead++;
    if (admittedHead > 4096 && admittedHead * 2 > admitted.length) {
      admitted.splice(0, admittedHead);
      admittedHead = 0;
    }
    if (admitted.length - admittedHead >= ratePerSecond) return false;
    admitted.push(now);
    return true;
  }

  /**
   * List Messages as Twilio answers it: newest first, filtered by To, From and DateSent (a message
   * not sent yet has no date_sent, so any DateSent filter leaves it out, as on Twilio), in pages of
   * PageSize (default 50, at most 1000) that carry Twilio's meta keys and a next_page_uri with a
   * PageToken (the last sid of the page: a page stays stable while new messages arrive).
   */
  function listMessages(q: URLSearchParams, res: ServerResponse, record: RecordedTwilioRequest): void {
    const to = q.get("To")?.trim();
    const from = q.get("From")?.trim();
    const tests: Array<(sent: Date) => boolean> = [];
    const filters: Array<[string, string]> = [];
    if (to) filters.push(["To", to]);
    if (from) filters.push(["From", from]);
    // `DateSent>=2024-05-01` on the wire is the key "DateSent>" (what the SDK's dateSentAfter sends).
    for (const [key, op] of [["DateSent", "="], ["DateSent<", "<"], ["DateSent>", ">"]] as const) {
      const v = q.get(key);
      if (v === null) continue;
      const test = dateSentTest(op, v.trim());
      if (!test) return error(res, { status: 400, code: 20001, message: `Invalid value for ${key}: ${v.slice(0, 40)}` }, record);
      tests.push(test);
      filters.push([key, v]);
    }
    const sizeRaw = q.get("PageSize");
    const pageSize = sizeRaw === null ? DEFAULT_PAGE_SIZE : Number(sizeRaw);
    if (!Number.isInteger(pageSize) || pageSize < 1) return error(res, { status: 400, code: 20001, message: "Invalid PageSize" }, record);
    const size = Math.min(pageSize, MAX_PAGE_SIZE);
    const pageRaw = q.get("Page");
    const page = pageRaw === null ? 0 : Number(pageRaw);
    if (!Number.isInteger(page) || page < 0) return error(res, { status: 400, code: 20001, message: "Invalid Page" }, record);

    const pool = to ? (byTo.get(to) ?? []) : [...messages.values()];
    const matched: EmulatedTwilioMessage[] = [];
    for (let i = pool.length - 1; i >= 0; i--) {
      const m = pool[i]!;
      if (from && m.from !== from) continue;
      if (tests.length && (!m.dateSent || !tests.every((t) => t(m.dateSent!)))) continue;
      matched.push(m);
    }
    const token = q.get("PageToken");
    const after = token?.startsWith("PA") ? matched.findIndex((m) => m.sid === token.slice(2)) : -1;
    const start = after >= 0 ? after + 1 : page * size;
    const items = matched.slice(start, start + size);
    const pageUri = (p: number, tok?: string) => {
      const u = new URLSearchParams(filters);
      u.set("PageSize", String(size));
      u.set("Page", String(p));
      if (tok) u.set("PageToken", tok);
      return `${accountPath}/Messages.json?${u.toString()}`;
    };
    const more = start + items.length < matched.length;
    json(res, 200, {
      end: items.length ? start + items.length - 1 : start,
      first_page_uri: pageUri(0),
      messages: items.map(resource),
      next_page_uri: more ? pageUri(page + 1, `PA${items.at(-1)!.sid}`) : null,
      page,
      page_size: size,
      previous_page_uri: page > 0 ? pageUri(page - 1) : null,
      start,
      uri: pageUri(page, token ?? undefined),
    }, record);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = req.method === "POST" ? await readBody(req) : "";
    const params = req.method === "POST" ? formRecord(raw) : Object.fromEntries(url.searchParams);
    const record: RecordedTwilioRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      params,
      authorized: authorized(req),
      status: null,
      at: new Date(),
    };
    requests.push(record);
    const path = url.pathname;
    const rest = path.startsWith(`${accountPath}/`) ? path.slice(accountPath.length) : null;
    // The rate is judged on arrival; the answer then waits out the latency like any other.
    const limited = record.authorized && rest === "/Messages.json" && req.method === "POST" && !admit(record.at.getTime());
    if (latencyMs > 0 && !(await life.sleep(latencyMs))) return void res.destroy();
    if (!record.authorized) return error(res, ERR.auth, record);
    if (rest === null) return error(res, ERR.notFound, record);
    if (limited) return error(res, ERR.tooMany, record);
    if (rest === "/Messages.json" && req.method === "POST") return createMessage(params, res, record);
    if (rest === "/Messages.json" && req.method === "GET") return listMessages(url.searchParams, res, record);
    const one = /^\/Messages\/(SM[0-9a-f]{32})\.json$/.exec(rest);
    if (one && req.method === "GET") {
      const m = messages.get(one[1]!);
      return m ? json(res, 200, resource(m), record) : error(res, ERR.notFound, record);
    }
    if (rest === "/Balance.json" && req.method === "GET") {
      return json(res, 200, { currency, balance: fromUnits(balanceUnits), account_sid: opts.accountSid }, record);
    }
    return error(res, ERR.notFound, record);
  }

  const emulator = await life.serve({
    requests,
    messages,
    handle,
    failure: () => ({
      type: "application/json",
      body: JSON.stringify({ code: 20500, message: ERR.internal.message, more_info: moreInfo(20500), status: 500 }),
    }),
    keepAliveTimeout: 30_000,
  });
  return { ...emulator, balance: () => ({ amount: fromUnits(balanceUnits), currency }) };
}
