// Errors from providers (SMS, WhatsApp, email APIs), mapped once for every tool that calls one.
// An UpstreamError carries two messages: the internal one (status, provider codes, a body
// excerpt) goes to the log only; the public one is what the caller sees. Its outcome says what
// the caller may do next:
//   rejected  — the provider definitely refused (4xx): nothing happened; the same request fails again.
//   transient — the provider is down or overloaded (5xx, 429, unreachable): retry later (UNAVAILABLE).
//   unknown   — the provider may have acted but did not confirm (a timeout or a dropped connection
//               after the request went out): check before retrying, or it may happen twice.
// Whether a timeout is "unknown" depends on the request: repeating an idempotent one (a balance
// read, a send with an idempotency key) is safe, so it is transient instead.
import { OutcomeUnknownError, UnavailableError, UpstreamRejectedError, type ToolError } from "./errors.ts";

export type UpstreamOutcome = "rejected" | "transient" | "unknown";

export interface UpstreamErrorOptions {
  /** The provider as a person names it ("Twilio", "Africa's Talking"). */
  provider: string;
  outcome: UpstreamOutcome;
  /** For the caller: safe to show, says what to do. */
  publicMessage: string;
  /** For the log only: may hold provider codes, request ids, body excerpts. */
  internalMessage: string;
  /** The HTTP status, when there was a response. */
  status?: number;
  /** The provider's own error code, when it gave one. */
  providerCode?: string | number;
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class UpstreamError extends Error {
  readonly provider: string;
  readonly outcome: UpstreamOutcome;
  readonly publicMessage: string;
  readonly status: number | undefined;
  readonly providerCode: string | number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(o: UpstreamErrorOptions) {
    // message is the internal one: stack traces and log lines show it; callers never see it.
    super(o.internalMessage, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = "UpstreamError";
    this.provider = o.provider;
    this.outcome = o.outcome;
    this.publicMessage = o.publicMessage;
    this.status = o.status;
    this.providerCode = o.providerCode;
    this.retryAfterSeconds = o.retryAfterSeconds;
  }

  /** The typed error the pipeline answers with. */
  toToolError(): ToolError {
    const base: Record<string, unknown> = { provider: this.provider };
    if (this.status !== undefined) base.status = this.status;
    if (this.providerCode !== undefined) base.provider_code = this.providerCode;
    switch (this.outcome) {
      case "transient":
        return new UnavailableError(this.publicMessage, {
          ...base,
          retryable: true,
          ...(this.retryAfterSeconds !== undefined ? { retry_after_seconds: this.retryAfterSeconds } : {}),
        });
      case "unknown":
        return new OutcomeUnknownError(this.publicMessage, { ...base, retryable: false });
      case "rejected":
        return new UpstreamRejectedError(this.publicMessage, { ...base, retryable: false });
    }
  }
}

export interface UpstreamRequestKind {
  /** Whether repeating the request is harmless (reads; sends with an idempotency key). */
  idempotent: boolean;
}

/** What an HTTP error status means for the caller. 504 is a gateway timeout: the provider may have acted. */
export function outcomeOfStatus(status: number, req: UpstreamRequestKind): UpstreamOutcome {
  if (status === 504) return req.idempotent ? "transient" : "unknown";
  if (status >= 500 || status === 429 || status === 408) return "transient";
  if (status >= 400) return "rejected";
  return "unknown";
}

/** Retry-After as seconds (delta-seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null | undefined, now: Date = new Date()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.max(0, Number(v));
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

export interface HttpErrorOptions extends UpstreamRequestKind {
  status: number;
  /** Provider detail safe for the caller (e.g. "the number is not a valid mobile number"). */
  publicDetail?: string;
  /** Anything else for the log (provider message, request id, body excerpt). */
  internalDetail?: string;
  providerCode?: string | number;
  /** The response's Retry-After header. */
  retryAfter?: string | null;
  now?: Date;
}

/** An UpstreamError for a provider's HTTP error response. */
export function upstreamHttpError(provider: string, o: HttpErrorOptions): UpstreamError {
  const outcome = outcomeOfStatus(o.status, o);
  const retryAfterSeconds = outcome === "transient" ? parseRetryAfter(o.retryAfter, o.now) : undefined;
  const code = o.providerCode !== undefined ? `, code ${o.providerCode}` : "";
  const detail = o.publicDetail ? `: ${o.publicDetail}` : "";
  const publicMessage =
    outcome === "rejected"
      ? `${provider} refused the request (HTTP ${o.status}${code})${detail}. Nothing was done; change the request before trying again.`
      : outcome === "transient"
        ? `${provider} is not available right now (HTTP ${o.status}${code}); retry in ${retryAfterSeconds !== undefined ? `${retryAfterSeconds} s` : "a few seconds"}.`
        : `${provider} did not confirm the request (HTTP ${o.status}${code}); it may or may not have been carried out. Check its status before retrying.`;
  return new UpstreamError({
    provider,
    outcome,
    publicMessage,
    internalMessage: `${provider} answered HTTP ${o.status}${code}${o.internalDetail ? `: ${o.internalDetail}` : ""}`,
    status: o.status,
    providerCode: o.providerCode,
    retryAfterSeconds,
  });
}

/** Failures before any byte was sent: the provider cannot have acted. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT", "CERT_HAS_EXPIRED", "DEPTH_ZERO_SELF_SIGNED_CERT", "ERR_TLS_CERT_ALTNAME_INVALID"]);

function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && typeof e === "object" && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const o = e as { code?: unknown; name?: unknown };
    if (typeof o.code === "string") return o.code;
    if (o.name === "TimeoutError" || o.name === "AbortError") return o.name;
  }
  return undefined;
}

/** An UpstreamError for a request that got no HTTP answer (refused, unresolvable, timed out, reset). */
export function upstreamNetworkError(provider: string, err: unknown, req: UpstreamRequestKind): UpstreamError {
  const code = networkCode(err) ?? "unknown";
  const outcome: UpstreamOutcome = NOT_SENT.has(code) || req.idempotent ? "transient" : "unknown";
  const publicMessage =
    outcome === "transient"
      ? `${provider} could not be reached; nothing was done. Retry in a few seconds.`
      : `${provider} did not answer in time; the request may or may not have been carried out. Check its status before retrying.`;
  return new UpstreamError({
    provider,
    outcome,
    publicMessage,
    internalMessage: `${provider} request failed without a response (${code}): ${err instanceof Error ? err.message : String(err)}`,
    cause: err,
  });
}
