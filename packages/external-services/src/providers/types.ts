// The one interface every provider implements (Africa's Talking, Twilio, SMTP, WhatsApp Cloud API).
// A provider turns one message into one request through its official SDK (or, for WhatsApp, plain
// HTTP), and maps the provider's answer to a SendOutcome once, here, so the tools never read a
// provider's own error shapes.
//
// Outcomes:
// - accepted: the provider took the message (its id; its cost when it says one).
// - definite: the provider refused it for a reason a retry cannot fix (invalid number, blacklisted,
//   insufficient balance, unknown sender id). Safe to try another provider.
// - transient: the provider failed on its side (5xx, gateway error) and said so: nothing was sent.
// - unknown: no answer (timeout, connection dropped after the request went out). The message may or
//   may not have been sent: never resent blindly, reconciled from the provider's reports.

export type Channel = "EMAIL" | "SMS" | "WHATSAPP";
export type ProviderName = "africastalking" | "twilio" | "smtp" | "whatsapp";

/** The providers of each channel (SMS: the ones `provider: "auto"` ranks). */
export const CHANNEL_PROVIDERS: Readonly<Record<Channel, readonly ProviderName[]>> = { SMS: ["africastalking", "twilio"], EMAIL: ["smtp"], WHATSAPP: ["whatsapp"] };

export interface Money {
  /** Decimal string, as the provider states it (e.g. "0.8000"). */
  amount: string;
  /** ISO 4217. */
  currency: string;
}

export interface OutgoingMessage {
  /** E.164 for SMS and WhatsApp, an address for email. */
  to: string;
  /** Sender id / from number / from address; the provider's configured default when absent. */
  from?: string | undefined;
  /** SMS text, WhatsApp free text, or the email's text part. */
  text?: string | undefined;
  /** Email only. */
  subject?: string | undefined;
  html?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** WhatsApp only: an approved template instead of free text. */
  template?: { name: string; language: string; params: string[] } | undefined;
  /** Ours, recorded before the call (the provider may or may not honour it). */
  idempotencyKey: string;
  /** Where the provider should send this message's status reports (Twilio's StatusCallback). */
  statusCallbackUrl?: string | undefined;
}

export type SendOutcome =
  | { kind: "accepted"; providerMessageId: string; status: "queued" | "sent"; cost: Money | null }
  | { kind: "definite"; code: string; reason: string }
  | { kind: "transient"; code: string; reason: string }
  | { kind: "unknown"; reason: string };

export interface SendOptions {
  /** Give up waiting after this long: the outcome is then `unknown`. */
  timeoutMs: number;
}

export interface Provider {
  readonly name: ProviderName;
  readonly channel: Channel;
  /** Live, or against the local emulator (sandbox mode). */
  readonly sandbox: boolean;
  send(message: OutgoingMessage, opts: SendOptions): Promise<SendOutcome>;
  /** The provider's balance API; null when the provider has none (SMTP). */
  balance(opts: SendOptions): Promise<Money | null>;
  /**
   * Reconciliation after a crash or an `unknown` outcome: the messages the provider holds for `to`
   * created at or after `since` (and with exactly `body`, when given), newest first, so that a
   * message whose outcome is unknown is found instead of resent blindly. Rejects when the provider
   * gives no usable answer (then nothing is known: ask again later). Only providers with a
   * message-list API implement it (Twilio).
   */
  lookup?(q: LookupQuery, opts: SendOptions): Promise<LookedUpMessage[]>;
}

export interface LookupQuery {
  to: string;
  since: Date;
  body?: string;
}

export interface LookedUpMessage {
  providerMessageId: string;
  /** The provider's creation time (Twilio: whole seconds). */
  createdAt: Date;
  /** The provider's own status word (Twilio: accepted, queued, sending, sent, delivered, undelivered, failed…). */
  status: string;
  body: string | null;
}

/**
 * A webhook request as a provider sends it (method, full public URL, headers with the provider's
 * signature, raw body). Emulators produce these; the production webhook handlers consume them,
 * over HTTP (the HTTP host's routes) or in-process when only stdio servers run.
 */
export interface SignedRequest {
  method: "POST" | "GET";
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Where an emulator hands its delivery reports and inbound messages. */
export type WebhookSink = (req: SignedRequest) => Promise<void>;

/**
 * The codes providers map their refusals to (one vocabulary, so the tools and the router read no
 * provider's own): invalid_number, unsupported_number_type, opted_out (blacklisted, unsubscribed,
 * stopped), insufficient_balance, invalid_sender, cannot_route, risk_hold, auth_failed,
 * window_closed (WhatsApp: a template is needed), template_invalid, permission_denied,
 * invalid_request (definite); provider_error, gateway_error, gateway_rejected, rate_limited,
 * unreachable, http_<status> (transient); smtp_<reply code> for SMTP; <provider>_<code> for a
 * provider code with no mapping.
 */
export type OutcomeCode = string;
