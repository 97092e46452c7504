// Which providers are live and which run in sandbox mode, from the environment (.env.example).
// A provider is live when its credentials are all set; otherwise it runs against its local
// emulator (sandbox mode, the default on a laptop). MESSAGING_SANDBOX=true forces sandbox mode for
// every provider even when credentials are set (a staging deployment); Africa's Talking's own
// sandbox (AFRICASTALKING_USERNAME=sandbox) is a live configuration of its sandbox servers.
// Credentials never appear in errors or logs: `describeConfig` names what is set, not its value.
import type { Channel, ProviderName } from "./providers/types.ts";

type Env = Readonly<Record<string, string | undefined>>;

export interface AfricasTalkingLive { username: string; apiKey: string; from: string | undefined }
export interface TwilioLive {
  accountSid: string;
  authToken: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  /** TWILIO_API_BASE: the origin the client talks to instead of https://api.twilio.com (a Twilio-compatible gateway, or one emulator shared by several processes); none: Twilio itself. */
  baseUrl: string | undefined;
}
export interface SmtpLive { host: string; port: number; secure: boolean; user: string | undefined; pass: string | undefined; from: string }
export interface WhatsAppLive { accessToken: string; phoneNumberId: string; appSecret: string; verifyToken: string | undefined; baseUrl: string; apiVersion: string }

export type ProviderSetting<L> = { provider: ProviderName; channel: Channel; mode: "live"; live: L } | { provider: ProviderName; channel: Channel; mode: "sandbox"; reason: string };

export interface MessagingConfig {
  africastalking: ProviderSetting<AfricasTalkingLive>;
  twilio: ProviderSetting<TwilioLive>;
  smtp: ProviderSetting<SmtpLive>;
  whatsapp: ProviderSetting<WhatsAppLive>;
  /** Public base URL of the HTTP host (what providers call back), e.g. https://mcp.example.com; none in pure stdio sandbox use. */
  publicUrl: string | undefined;
  /** Secret path token for Africa's Talking's unsigned callbacks (/webhooks/africastalking/<token>/...). */
  africasTalkingWebhookToken: string | undefined;
  /** Default SMS provider order for `provider: "auto"` when rates and delivery rates tie. */
  smsOrder: ProviderName[];
}

export class MessagingConfigError extends Error {}

/**
 * TWILIO_API_BASE as an origin (with an optional path prefix, no trailing slash), or a config error.
 * No credentials, query or fragment: the value is named in errors and descriptions.
 */
function twilioApiBase(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const hint = "an http(s) URL such as https://twilio-gateway.example.com or http://127.0.0.1:41234";
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new MessagingConfigError(`twilio: TWILIO_API_BASE must be ${hint}, not "${raw.slice(0, 100)}"`);
  }
  if (u.username || u.password) throw new MessagingConfigError("twilio: TWILIO_API_BASE must not carry credentials (user:password@): the account SID and auth token authenticate");
  if ((u.protocol !== "http:" && u.protocol !== "https:") || !u.hostname || u.search || u.hash || !/^https?:\/\//i.test(raw)) {
    throw new MessagingConfigError(`twilio: TWILIO_API_BASE must be ${hint}, not "${raw.slice(0, 100)}"`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
}

const val = (env: Env, k: string) => {
  const v = env[k]?.trim();
  return v ? v : undefined;
};

function setting<L>(provider: ProviderName, channel: Channel, env: Env, required: readonly string[], build: () => L): ProviderSetting<L> {
  const missing = required.filter((k) => !val(env, k));
  const forced = /^(1|true|yes)$/i.test(env.MESSAGING_SANDBOX ?? "");
  if (forced) return { provider, channel, mode: "sandbox", reason: "MESSAGING_SANDBOX is set" };
  if (missing.length === required.length) return { provider, channel, mode: "sandbox", reason: `not configured (${required.join(", ")})` };
  if (missing.length) throw new MessagingConfigError(`${provider}: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set while ${required.filter((k) => !missing.includes(k)).join(", ")} ${required.length - missing.length === 1 ? "is" : "are"}: set all of them for live sending, or none for sandbox mode`);
  return { provider, channel, mode: "live", live: build() };
}

export function messagingConfig(env: Env): MessagingConfig {
  const africastalking = setting<AfricasTalkingLive>("africastalking", "SMS", env, ["AFRICASTALKING_USERNAME", "AFRICASTALKING_API_KEY"], () => ({
    username: val(env, "AFRICASTALKING_USERNAME")!,
    apiKey: val(env, "AFRICASTALKING_API_KEY")!,
    from: val(env, "AFRICASTALKING_SENDER_ID"),
  }));
  const twilio = setting<TwilioLive>("twilio", "SMS", env, ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"], () => {
    const from = val(env, "TWILIO_FROM");
    const messagingServiceSid = val(env, "TWILIO_MESSAGING_SERVICE_SID");
    if (!from && !messagingServiceSid) throw new MessagingConfigError("twilio: set TWILIO_FROM (a number or alphanumeric sender id) or TWILIO_MESSAGING_SERVICE_SID");
    return { accountSid: val(env, "TWILIO_ACCOUNT_SID")!, authToken: val(env, "TWILIO_AUTH_TOKEN")!, from, messagingServiceSid, baseUrl: twilioApiBase(val(env, "TWILIO_API_BASE")) };
  });
  const smtp = setting<SmtpLive>("smtp", "EMAIL", env, ["SMTP_HOST", "SMTP_FROM"], () => {
    const port = Number(val(env, "SMTP_PORT") ?? "587");
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new MessagingConfigError(`smtp: SMTP_PORT must be a port number, not "${env.SMTP_PORT}"`);
    const user = val(env, "SMTP_USER");
    const pass = val(env, "SMTP_PASS");
    if (!!user !== !!pass) throw new MessagingConfigError("smtp: set both SMTP_USER and SMTP_PASS, or neither");
    return { host: val(env, "SMTP_HOST")!, port, secure: /^(1|true|yes)$/i.test(env.SMTP_SECURE ?? "") || port === 465, user, pass, from: val(env, "SMTP_FROM")! };
  });
  const whatsapp = setting<WhatsAppLive>("whatsapp", "WHATSAPP", env, ["WHATSAPP_ACCESS_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET"], () => ({
    accessToken: val(env, "WHATSAPP_ACCESS_TOKEN")!,
    phoneNumberId: val(env, "WHATSAPP_PHONE_NUMBER_ID")!,
    appSecret: val(env, "WHATSAPP_APP_SECRET")!,
    verifyToken: val(env, "WHATSAPP_VERIFY_TOKEN"),
    baseUrl: (val(env, "WHATSAPP_API_BASE") ?? "https://graph.facebook.com").replace(/\/+$/, ""),
    apiVersion: val(env, "WHATSAPP_API_VERSION") ?? "v21.0",
  }));
  const publicUrl = val(env, "MESSAGING_PUBLIC_URL")?.replace(/\/+$/, "");
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new MessagingConfigError(`MESSAGING_PUBLIC_URL must be an http(s) URL, not "${publicUrl}"`);
  const token = val(env, "AFRICASTALKING_WEBHOOK_TOKEN");
  if (africastalking.mode === "live" && publicUrl && (!token || token.length < 24)) {
    throw new MessagingConfigError("AFRICASTALKING_WEBHOOK_TOKEN must be set (24+ random characters) when Africa's Talking is live: its callbacks are unsigned and the token in their path is what authenticates them");
  }
  const order = (val(env, "MESSAGING_SMS_ORDER") ?? "africastalking,twilio").split(",").map((s) => s.trim()).filter(Boolean);
  const bad = order.filter((p) => p !== "africastalking" && p !== "twilio");
  if (bad.length || order.length === 0) throw new MessagingConfigError(`MESSAGING_SMS_ORDER lists SMS providers (africastalking, twilio), not "${bad.join(", ")}"`);
  return { africastalking, twilio, smtp, whatsapp, publicUrl, africasTalkingWebhookToken: token, smsOrder: [...new Set(order)] as ProviderName[] };
}

/** One line per provider for logs and list_providers: mode and which settings are set (never values). */
export function describeConfig(c: MessagingConfig): string[] {
  return [c.africastalking, c.twilio, c.smtp, c.whatsapp].map((s) =>
    s.mode === "live"
      ? `${s.provider} (${s.channel}): live${s.provider === "africastalking" && (s.live as AfricasTalkingLive).username === "sandbox" ? " (Africa's Talking sandbox servers)" : ""}${s.provider === "twilio" && (s.live as TwilioLive).baseUrl ? ` (through TWILIO_API_BASE ${(s.live as TwilioLive).baseUrl})` : ""}`
      : `${s.provider} (${s.channel}): sandbox — ${s.reason}`,
  );
}

/** The process's environment: the default for the messaging service when no entry point passes one. */
export const processEnv = (): Env => process.env;
