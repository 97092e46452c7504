// Africa's Talking SMS through the official SDK (africastalking 0.8.x). AT's answers are mapped to
// a SendOutcome once, here. AT has no idempotency for sends: an `unknown` outcome is never resent
// blindly (the caller reconciles from delivery reports).
//
// Sandbox mode (the local emulator) and the SDK's process-global state:
// - The SDK's URLs are module-level values in `africastalking/lib/common` (SMS_URL …), read at call
//   time, with no option or env var. Setting them is process-global: a live client in the same
//   process would follow them. So we set SMS_URL to the emulator just before each call and restore
//   it right after the call returns. The SDK reads SMS_URL synchronously inside `SMS.send` (in the
//   request promise's executor, before any await), so the window is one synchronous stretch of
//   code and no other client can observe it.
// - Constructing a client with username "sandbox" calls `Common.enableSandbox()`, which rewrites
//   every URL for the whole process (live clients included). We snapshot the URLs around
//   construction and restore them.
// - The user-data (balance) call does not use `common`: it builds its own axios instance with a
//   fixed https://api(.sandbox).africastalking.com baseURL. We reach it through the SDK's own axios
//   (the copy the SDK requires): for one synchronous stretch around the call, its defaults carry
//   an adapter that points the request's baseURL at the emulator (the SDK's axios still does the
//   HTTP) and an AbortSignal; `axios.create` and `request` copy the defaults synchronously, so
//   other clients never see them.
// - Timeouts: Promise.race against opts.timeoutMs; a late answer is ignored (the race has settled)
//   and the request's AbortSignal is aborted so the socket does not hang around.
import atSdk from "africastalking";
import atCommon from "africastalking/lib/common.js";
import axios from "axios/dist/node/axios.cjs";
import type { Money, OutgoingMessage, Provider, SendOptions, SendOutcome } from "./types.ts";

export interface AfricasTalkingProviderConfig {
  username: string;
  apiKey: string;
  /** Default sender id / short code; AT's default sender when absent. */
  from?: string;
  /** The emulator's origin in sandbox mode (e.g. http://127.0.0.1:41234). */
  baseUrl?: string;
  sandbox: boolean;
}

// ---- the SDK's surface we use (it ships no types) ----

interface AtRecipient {
  statusCode?: unknown;
  number?: unknown;
  status?: unknown;
  cost?: unknown;
  messageId?: unknown;
}

interface AtSendResponse {
  SMSMessageData?: { Message?: unknown; Recipients?: AtRecipient[] };
}

interface AtClient {
  SMS: { send(params: { to: string | string[]; message: string; from?: string }): Promise<AtSendResponse> };
  APPLICATION: { fetchApplicationData(): Promise<{ UserData?: { balance?: unknown } }> };
}

type AtFactory = (options: { username: string; apiKey: string; format?: "json" | "xml" }) => AtClient;

type AtCommon = Record<string, unknown> & { SMS_URL: string };

interface AxiosLikeConfig {
  baseURL?: string;
  [k: string]: unknown;
}
type AxiosAdapter = (config: AxiosLikeConfig) => Promise<unknown>;
interface SdkAxios {
  defaults: { adapter?: unknown; signal?: AbortSignal | undefined; [k: string]: unknown };
  getAdapter(name: string): AxiosAdapter;
}

interface AxiosLikeError {
  isAxiosError?: boolean;
  code?: unknown;
  message?: unknown;
  response?: { status?: unknown; data?: unknown };
}

// Static imports, so a bundle (pnpm build) carries the SDK; axios is pinned to the SDK's own
// version in package.json and imported as the CommonJS build the SDK requires, so both are one
// module (the SDK's defaults are the ones set here).
const AfricasTalking = atSdk as unknown as AtFactory;
const common = atCommon as unknown as AtCommon;
const sdkAxios = axios as unknown as SdkAxios;

/** Every URL `common` holds, to undo `enableSandbox()` after constructing a "sandbox" client. */
function snapshotUrls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(common)) if (k.endsWith("_URL") && typeof v === "string") out[k] = v;
  return out;
}

function restoreUrls(snap: Record<string, string>): void {
  for (const [k, v] of Object.entries(snap)) common[k] = v;
}

// ---- mapping ----

/** AT's per-recipient status codes. */
const ACCEPTED: Record<number, "queued" | "sent"> = { 100: "queued", 101: "sent", 102: "queued" };
const DEFINITE: Record<number, { code: string; reason: string }> = {
  401: { code: "risk_hold", reason: "Africa's Talking held the message for risk review" },
  402: { code: "invalid_sender", reason: "Africa's Talking does not accept this sender id for the account" },
  403: { code: "invalid_number", reason: "Africa's Talking says the number is invalid" },
  404: { code: "unsupported_number_type", reason: "Africa's Talking does not support this number type" },
  405: { code: "insufficient_balance", reason: "the Africa's Talking account balance is too low" },
  406: { code: "opted_out", reason: "the recipient is blacklisted at Africa's Talking (opted out)" },
  407: { code: "cannot_route", reason: "Africa's Talking could not route the message" },
};
const TRANSIENT: Record<number, { code: string; reason: string }> = {
  500: { code: "provider_error", reason: "Africa's Talking had an internal error; nothing was sent" },
  501: { code: "gateway_error", reason: "Africa's Talking's gateway failed; nothing was sent" },
  502: { code: "gateway_rejected", reason: "the operator's gateway rejected the message; nothing was sent" },
};
/** Africa's Talking's own names of the refusals (its summary text names them when no recipient result comes back). */
const AT_NAMES: Record<number, string> = { 401: "RiskHold", 402: "InvalidSenderId", 403: "InvalidPhoneNumber", 404: "UnsupportedNumberType", 405: "InsufficientBalance", 406: "UserInBlacklist", 407: "CouldNotRoute" };
const DEFINITE_BY_NAME = new Map(Object.entries(AT_NAMES).map(([code, name]) => [name, DEFINITE[Number(code)]!]));

/** "KES 0.8000" → { amount: "0.8000", currency: "KES" }; "0" / "None" / anything else → null. */
export function parseAtMoney(s: unknown): Money | null {
  if (typeof s !== "string") return null;
  const m = /^([A-Z]{3})\s+(-?\d+(?:\.\d+)?)$/.exec(s.trim());
  return m ? { currency: m[1]!, amount: m[2]! } : null;
}

function digits(s: unknown): string {
  return typeof s === "string" ? s.replace(/\D/g, "") : "";
}

function mapSendResponse(data: AtSendResponse, to: string): SendOutcome {
  const recipients = data.SMSMessageData?.Recipients;
  const summary = data.SMSMessageData?.Message;
  if (!Array.isArray(recipients) || recipients.length === 0) {
    const named = typeof summary === "string" ? DEFINITE_BY_NAME.get(summary.trim()) : undefined;
    if (named) return { kind: "definite", code: named.code, reason: named.reason };
    return { kind: "unknown", reason: "Africa's Talking answered without a recipient result" };
  }
  const r = recipients.find((x) => digits(x.number) === digits(to)) ?? recipients[0]!;
  const code = typeof r.statusCode === "number" ? r.statusCode : Number(r.statusCode);
  const status = ACCEPTED[code];
  if (status) {
    if (typeof r.messageId !== "string" || r.messageId === "" || r.messageId === "None") {
      return { kind: "unknown", reason: "Africa's Talking accepted the message without a message id" };
    }
    return { kind: "accepted", providerMessageId: r.messageId, status, cost: parseAtMoney(r.cost) };
  }
  const d = DEFINITE[code];
  if (d) return { kind: "definite", code: d.code, reason: d.reason };
  const t = TRANSIENT[code];
  if (t) return { kind: "transient", code: t.code, reason: t.reason };
  return { kind: "unknown", reason: `Africa's Talking answered an unrecognised recipient status code ${Number.isFinite(code) ? code : "(none)"}` };
}

/** Codes where the connection never carried the request: nothing was sent. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function mapError(e: unknown): SendOutcome {
  const err = (e ?? {}) as AxiosLikeError;
  if (err.isAxiosError) {
    const status = typeof err.response?.status === "number" ? err.response.status : null;
    if (status !== null) {
      if (status === 401 || status === 403) {
        return { kind: "definite", code: "auth_failed", reason: "Africa's Talking refused the credentials (username or api key)" };
      }
      if (status === 429) return { kind: "transient", code: "rate_limited", reason: "Africa's Talking is rate limiting requests" };
      if (status >= 500) return { kind: "transient", code: `http_${status}`, reason: `Africa's Talking answered HTTP ${status}; nothing was sent` };
      if (status >= 400) return { kind: "definite", code: `http_${status}`, reason: `Africa's Talking refused the request (HTTP ${status})` };
      // A 2xx other than 201: the SDK rejects it, but AT did answer; treat it as a response body.
      const data = err.response?.data;
      if (data && typeof data === "object") return { kind: "unknown", reason: `Africa's Talking answered HTTP ${status} instead of 201` };
    }
    const code = typeof err.code === "string" ? err.code : "";
    if (NOT_CONNECTED.has(code)) return { kind: "transient", code: "unreachable", reason: `could not connect to Africa's Talking (${code})` };
    if (code === "ERR_CANCELED") return { kind: "unknown", reason: "the request was cancelled after it went out" };
    return { kind: "unknown", reason: `the connection to Africa's Talking failed after the request went out (${code || "no answer"})` };
  }
  if (e instanceof Error) {
    // The SDK's own validation (Joi), before any request: nothing was sent.
    if (/valid phone number|did not seem to be a phone number|"to" failed/i.test(e.message)) {
      return { kind: "definite", code: "invalid_number", reason: "the Africa's Talking SDK says the number is invalid" };
    }
    return { kind: "definite", code: "invalid_request", reason: "the Africa's Talking SDK refused the request before sending it" };
  }
  // The SDK rejects a non-201 2xx with the response body itself.
  if (e && typeof e === "object" && "SMSMessageData" in e) return { kind: "unknown", reason: "Africa's Talking answered without HTTP 201" };
  return { kind: "unknown", reason: "the Africa's Talking SDK failed without an error" };
}

const TIMEOUT = Symbol("timeout");

/** Race `p` against `ms`; on timeout abort `ctl` (the late answer is then ignored). */
async function withTimeout<T>(p: Promise<T>, ms: number, ctl: AbortController): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
  });
  // A late rejection must not become an unhandled rejection.
  p.catch(() => undefined);
  try {
    const r = await Promise.race([p, timeout]);
    if (r === TIMEOUT) ctl.abort();
    return r;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run `call` (which must start the SDK request synchronously) with the SDK's axios defaults
 * carrying `signal` and, in sandbox, an adapter that points the request at `origin`; restore
 * them before returning.
 */
function withSdkAxios<T>(signal: AbortSignal, origin: string | null, call: () => T): T {
  const d = sdkAxios.defaults;
  const prevSignal = d.signal;
  const prevAdapter = d.adapter;
  d.signal = signal;
  if (origin !== null) {
    const http = sdkAxios.getAdapter("http");
    d.adapter = (config: AxiosLikeConfig) => {
      config.baseURL = origin;
      return http(config);
    };
  }
  try {
    return call();
  } finally {
    d.signal = prevSignal;
    d.adapter = prevAdapter;
  }
}

export function africasTalkingProvider(config: AfricasTalkingProviderConfig): Provider {
  const origin = config.sandbox ? (config.baseUrl ?? "").replace(/\/+$/, "") : null;
  if (config.sandbox && !origin) throw new Error("africasTalkingProvider: sandbox mode needs baseUrl (the emulator's origin)");
  const snap = snapshotUrls();
  let client: AtClient;
  try {
    client = AfricasTalking({ username: config.username, apiKey: config.apiKey, format: "json" });
  } finally {
    restoreUrls(snap);
  }

  return {
    name: "africastalking",
    channel: "SMS",
    sandbox: config.sandbox,

    async send(message: OutgoingMessage, opts: SendOptions): Promise<SendOutcome> {
      const from = message.from ?? config.from;
      const params: { to: string; message: string; from?: string } = { to: message.to, message: message.text ?? "" };
      if (from) params.from = from;
      const ctl = new AbortController();
      let p: Promise<AtSendResponse>;
      try {
        p = withSdkAxios(ctl.signal, null, () => {
          if (origin === null) return client.SMS.send(params);
          const prev = common.SMS_URL;
          common.SMS_URL = `${origin}/version1/messaging`;
          try {
            return client.SMS.send(params);
          } finally {
            common.SMS_URL = prev;
          }
        });
      } catch (e) {
        return mapError(e);
      }
      try {
        const r = await withTimeout(p, opts.timeoutMs, ctl);
        if (r === TIMEOUT) return { kind: "unknown", reason: `no answer from Africa's Talking within ${opts.timeoutMs} ms` };
        return mapSendResponse(r, message.to);
      } catch (e) {
        return mapError(e);
      }
    },

    async balance(opts: SendOptions): Promise<Money | null> {
      const ctl = new AbortController();
      const p = withSdkAxios(ctl.signal, origin, () => client.APPLICATION.fetchApplicationData());
      let r: Awaited<typeof p> | typeof TIMEOUT;
      try {
        r = await withTimeout(p, opts.timeoutMs, ctl);
      } catch (e) {
        // Never rethrow the SDK's error as is: axios errors carry the request config (the api key).
        const o = mapError(e);
        throw new Error(`Africa's Talking's balance call failed: ${o.kind === "accepted" ? "unexpected answer" : o.reason}`);
      }
      if (r === TIMEOUT) throw new Error(`no answer from Africa's Talking's balance call within ${opts.timeoutMs} ms`);
      const m = parseAtMoney(r.UserData?.balance);
      if (!m) throw new Error("Africa's Talking answered the balance call without a balance");
      return m;
    },
  };
}
