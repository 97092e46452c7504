// Twilio SMS through the official SDK (twilio 6.x). With `baseUrl` the SDK talks to that origin
// instead of api.twilio.com: a RequestClient subclass rewrites each request URI's origin (the SDK's
// `edge`/`region` only change *.twilio.com hosts). Sandbox mode needs it (the local emulator); live
// mode takes it from TWILIO_API_BASE (a Twilio-compatible gateway, or one emulator shared by
// several processes). Twilio's answers are mapped to a SendOutcome once, here: 429 / 20429 is
// transient rate_limited. Twilio has no idempotency for message creation: an `unknown` outcome is
// never resent blindly (the caller reconciles from status callbacks, or asks `lookup`).
import { Agent as HttpAgent } from "node:http";
import twilio from "twilio";
import type RequestClient from "twilio/lib/base/RequestClient";
import type Response from "twilio/lib/http/response";
import type { LookedUpMessage, LookupQuery, Money, OutgoingMessage, Provider, SendOptions, SendOutcome } from "./types.ts";

export interface TwilioProviderConfig {
  accountSid: string;
  authToken: string;
  /** Default sender (E.164 or an alphanumeric sender id). */
  from?: string;
  /** A Messaging Service that picks the sender (used when no `from`). */
  messagingServiceSid?: string;
  /**
   * The origin the SDK talks to instead of https://api.twilio.com (a path prefix is kept): the
   * emulator's in sandbox mode (e.g. http://127.0.0.1:41234), TWILIO_API_BASE in live mode.
   */
  baseUrl?: string;
  sandbox: boolean;
}

type RequestClientOptions = RequestClient.RequestClientOptions;

/** The SDK's own HTTP client, with every request's origin rewritten to `origin`. */
export class OriginRewritingRequestClient extends twilio.RequestClient {
  private readonly origin: URL;

  constructor(origin: string, opts: RequestClientOptions = {}) {
    super(opts);
    this.origin = new URL(origin);
    if (this.origin.protocol === "http:") {
      // The SDK only configures an https agent; give the plain-http origin a keep-alive agent of
      // its own, with the same socket timeout.
      this.axios.defaults.httpAgent = new HttpAgent({ keepAlive: this.keepAlive, timeout: this.defaultTimeout });
    }
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const u = new URL(opts.uri);
    u.protocol = this.origin.protocol;
    u.host = this.origin.host;
    const prefix = this.origin.pathname.replace(/\/$/, "");
    if (prefix) u.pathname = prefix + u.pathname;
    return super.request<TData>({ ...opts, uri: u.href });
  }
}

interface TwilioLikeError {
  status?: unknown;
  code?: unknown;
  message?: unknown;
}

/** Twilio error codes whose meaning a retry cannot change, as our codes. */
const DEFINITE: Record<number, { code: string; reason: string }> = {
  21211: { code: "invalid_number", reason: "Twilio says the 'To' number is invalid" },
  21614: { code: "invalid_number", reason: "Twilio says the 'To' number is not a mobile number" },
  21610: { code: "opted_out", reason: "the recipient has unsubscribed (replied STOP) or is blocked at Twilio" },
  21408: { code: "cannot_route", reason: "sending to this region is not enabled on the Twilio account" },
  21612: { code: "cannot_route", reason: "Twilio cannot route a message to this number from this sender" },
  20003: { code: "auth_failed", reason: "Twilio refused the account credentials" },
  21606: { code: "invalid_sender", reason: "the 'From' number is not a valid, SMS-capable Twilio number for this account" },
};

/** Network errors where the request may have gone out: the outcome is unknown. */
const UNKNOWN_NET = new Set(["ECONNABORTED", "ETIMEDOUT", "ECONNRESET", "EPIPE", "ESOCKETTIMEDOUT", "ERR_CANCELED", "ECONNCLOSED"]);
/** Pages of List Messages that lookup reads: the DateSent query, and the newest messages to `to`. */
const LOOKUP_PAGE = 50;
const LOOKUP_DATED_LIMIT = 500;

/** Network errors before any byte went out: nothing was sent. */
const NOT_SENT_NET = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

export function twilioProvider(config: TwilioProviderConfig): Provider {
  if (config.sandbox && !config.baseUrl) throw new Error("twilio provider: sandbox mode needs baseUrl (the emulator's origin)");
  const secrets = [config.authToken].filter((s) => s.length > 0);
  const scrub = (s: string) => secrets.reduce((acc, x) => acc.split(x).join("[redacted]"), s).slice(0, 300);

  // One SDK client per timeout (the SDK's timeout is a RequestClient option): sockets are reused.
  const clients = new Map<number, twilio.Twilio>();
  function client(timeoutMs: number): twilio.Twilio {
    let c = clients.get(timeoutMs);
    if (!c) {
      const rc: RequestClientOptions = { timeout: timeoutMs, autoRetry: false };
      const httpClient = config.baseUrl ? new OriginRewritingRequestClient(config.baseUrl, rc) : new twilio.RequestClient(rc);
      c = twilio(config.accountSid, config.authToken, { httpClient, autoRetry: false });
      clients.set(timeoutMs, c);
    }
    return c;
  }

  function mapError(e: unknown): SendOutcome {
    const err = (e ?? {}) as TwilioLikeError & { isAxiosError?: unknown; response?: unknown };
    const status = typeof err.status === "number" ? err.status : undefined;
    const isRest = e instanceof twilio.RestException || (status !== undefined && err.isAxiosError !== true);
    if (isRest && status !== undefined) {
      const code = typeof err.code === "number" ? err.code : undefined;
      const known = code !== undefined ? DEFINITE[code] : undefined;
      if (known) return { kind: "definite", code: known.code, reason: `${known.reason} (Twilio ${code})` };
      const detail = typeof err.message === "string" ? scrub(err.message) : "";
      const label = code !== undefined ? `Twilio ${code}, HTTP ${status}` : `HTTP ${status}`;
      if (status >= 500 || status === 429) {
        return { kind: "transient", code: status === 429 ? "rate_limited" : `http_${status}`, reason: `Twilio failed on its side (${label})${detail ? `: ${detail}` : ""}` };
      }
      return { kind: "definite", code: code !== undefined ? `twilio_${code}` : `http_${status}`, reason: `Twilio refused the message (${label})${detail ? `: ${detail}` : ""}` };
    }
    const netCode = typeof err.code === "string" ? err.code : undefined;
    if (netCode && NOT_SENT_NET.has(netCode)) {
      return { kind: "transient", code: "unreachable", reason: `could not connect to Twilio (${netCode}): nothing was sent` };
    }
    if (netCode && UNKNOWN_NET.has(netCode)) {
      const timedOut = netCode === "ECONNABORTED" || netCode === "ETIMEDOUT" || netCode === "ESOCKETTIMEDOUT";
      return { kind: "unknown", reason: timedOut ? `no answer from Twilio in time (${netCode})` : `the connection to Twilio dropped (${netCode})` };
    }
    const msg = e instanceof Error ? scrub(e.message) : "unexpected error";
    return { kind: "unknown", reason: `no usable answer from Twilio: ${msg}` };
  }

  /**
   * Reconciliation through List Messages. Twilio filters by date_sent, not date_created, and a
   * message it still holds (accepted, queued — no date_sent yet) is left out by any DateSent
   * filter; so two queries, merged by sid: To + DateSent>= the UTC day of `since` (every message
   * sent since that day, up to LOOKUP_DATED_LIMIT), and To alone, the newest LOOKUP_PAGE (what is
   * not sent yet is among the newest). Then filtered precisely here: date_created ≥ `since` cut to
   * the second (Twilio's dates have whole seconds: a message created up to a second before `since`
   * may be included), and the exact body when given.
   */
  async function lookup(q: LookupQuery, opts: SendOptions): Promise<LookedUpMessage[]> {
    const c = client(opts.timeoutMs);
    const day = new Date(Date.UTC(q.since.getUTCFullYear(), q.since.getUTCMonth(), q.since.getUTCDate()));
    const floor = Math.floor(q.since.getTime() / 1000) * 1000;
    let found: Awaited<ReturnType<twilio.Twilio["messages"]["list"]>>[];
    try {
      found = await Promise.all([
        c.messages.list({ to: q.to, dateSentAfter: day, pageSize: LOOKUP_PAGE, limit: LOOKUP_DATED_LIMIT }),
        c.messages.list({ to: q.to, pageSize: LOOKUP_PAGE, limit: LOOKUP_PAGE }),
      ]);
    } catch (e) {
      const o = mapError(e);
      throw new Error(`twilio lookup: ${o.kind}: ${o.kind === "accepted" ? "" : o.reason}`);
    }
    const bySid = new Map<string, LookedUpMessage>();
    for (const m of found.flat()) {
      if (bySid.has(m.sid) || !(m.dateCreated instanceof Date) || m.dateCreated.getTime() < floor) continue;
      if (q.body !== undefined && m.body !== q.body) continue;
      bySid.set(m.sid, { providerMessageId: m.sid, createdAt: m.dateCreated, status: String(m.status), body: m.body ?? null });
    }
    return [...bySid.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  return {
    name: "twilio",
    channel: "SMS",
    sandbox: config.sandbox,

    async send(message: OutgoingMessage, opts: SendOptions): Promise<SendOutcome> {
      const from = message.from ?? config.from;
      if (!from && !config.messagingServiceSid) {
        return { kind: "definite", code: "invalid_sender", reason: "no sender: set from or messagingServiceSid" };
      }
      const params: Parameters<twilio.Twilio["messages"]["create"]>[0] = {
        to: message.to,
        body: message.text ?? "",
        ...(from ? { from } : { messagingServiceSid: config.messagingServiceSid! }),
        ...(message.statusCallbackUrl ? { statusCallback: message.statusCallbackUrl } : {}),
      };
      try {
        const m = await client(opts.timeoutMs).messages.create(params);
        const status = m.status === "sent" ? "sent" : "queued";
        const cost = m.price && m.priceUnit ? { amount: m.price.replace(/^-/, ""), currency: m.priceUnit.toUpperCase() } : null;
        return { kind: "accepted", providerMessageId: m.sid, status, cost };
      } catch (e) {
        return mapError(e);
      }
    },

    async balance(opts: SendOptions): Promise<Money | null> {
      try {
        const b = await client(opts.timeoutMs).api.v2010.account.balance.fetch();
        return { amount: b.balance, currency: b.currency.toUpperCase() };
      } catch (e) {
        const o = mapError(e);
        throw new Error(`twilio balance: ${o.kind}: ${o.kind === "accepted" ? "" : o.reason}`);
      }
    },

    lookup,
  };
}
