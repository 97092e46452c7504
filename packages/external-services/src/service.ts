// The messaging service of one process: which providers are live and which run in sandbox mode
// (config.ts), each provider built once, the local emulators started on first use, and the webhook
// secrets the receivers check. One per database client (the server's tools and the HTTP host's
// webhook routes of one process share it).
//
// Sandbox mode: each emulator signs its delivery reports and inbound messages with this process's
// random sandbox secrets and hands them to the production webhook code — over HTTP to the HTTP
// host's own /webhooks routes when this process is the host (it announces its base URL), else
// in-process to the same handler (a stdio server). What runs in sandbox is what runs live.
import { randomBytes } from "node:crypto";
import type { Db } from "@marketsage/db";
import type { Logger } from "@marketsage/core";
import { messagingConfig, processEnv, type MessagingConfig } from "./config.ts";
import { africasTalkingProvider } from "./providers/africastalking.ts";
import { smtpProvider } from "./providers/smtp.ts";
import { twilioProvider } from "./providers/twilio.ts";
import type { Money, Provider, ProviderName, SignedRequest } from "./providers/types.ts";
import { whatsAppProvider } from "./providers/whatsapp.ts";
import { startAfricasTalkingEmulator, type AfricasTalkingEmulator } from "./sandbox/africastalking-emulator.ts";
import { startSmtpEmulator, type SmtpEmulator } from "./sandbox/smtp-emulator.ts";
import { startTwilioEmulator, type TwilioEmulator } from "./sandbox/twilio-emulator.ts";
import { startWhatsAppEmulator, type WhatsAppEmulator } from "./sandbox/whatsapp-emulator.ts";
import { handleWebhook, type WebhookSecrets } from "./webhooks/handle.ts";
import { handleTracking } from "./tracking/handle.ts";
import { trackingKey } from "./tracking/index.ts";
import { engagementRates, plannedEngagement, readerSteps, trackingLinksOf, type ReaderStep } from "./tracking/simulate.ts";
import type { ReceivedEmail } from "./sandbox/smtp-emulator.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** Where sandbox callbacks are addressed when no HTTP host runs in this process (never fetched). */
export const IN_PROCESS_BASE = "http://in-process.sandbox.invalid";

export interface Emulators {
  africastalking?: AfricasTalkingEmulator;
  twilio?: TwilioEmulator;
  whatsapp?: WhatsAppEmulator;
  smtp?: SmtpEmulator;
}

export interface MessagingService {
  readonly config: MessagingConfig;
  readonly secrets: WebhookSecrets;
  /** How long a send waits for the provider before its outcome is unknown. */
  readonly sendTimeoutMs: number;
  provider(name: ProviderName): Promise<Provider>;
  /**
   * The base URL a provider calls back: live, MESSAGING_PUBLIC_URL (none: no per-message callback);
   * sandbox, the HTTP host's of this process, or the in-process placeholder.
   */
  callbackBase(name: ProviderName): string | undefined;
  /** The HTTP host of this process announces where it listens: sandbox callbacks then go there over HTTP. */
  useHost(baseUrl: string): void;
  /** The base of campaign links: MESSAGING_PUBLIC_URL, else this process's HTTP host, else the in-process placeholder. */
  trackingBase(): string;
  /** The running emulators (sandbox mode), for tests, the tour and list_providers. */
  readonly emulators: Emulators;
  /** A provider's balance, cached for BALANCE_CACHE_MS. */
  balance(name: ProviderName): Promise<{ balance: Money | null; fetchedAt: Date; cached: boolean }>;
  /** Resolves when every emulator has handed over what it scheduled (tests, the tour). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const BALANCE_CACHE_MS = 60_000;
const DEFAULT_TIMEOUT_MS = { live: 10_000, sandbox: 3_000 };

const secret = (n = 24) => randomBytes(n).toString("hex");

export interface ServiceOptions {
  env?: Env;
  log?: Logger;
  /** Emulator report delay (ms); tests and benchmarks shorten it. */
  reportDelayMs?: number;
  /** Starting balances of the sandbox emulators (tests: an empty account). */
  sandboxBalances?: Partial<Record<"africastalking" | "twilio", Money>>;
}

const services = new WeakMap<Db, MessagingService>();

/** The process's service for this database client (made on first use). */
export function messagingFor(db: Db, opts: ServiceOptions = {}): MessagingService {
  let s = services.get(db);
  if (!s) {
    s = createMessagingService(db, opts);
    services.set(db, s);
  }
  return s;
}

/** Forget (and close) the service of a database client: tests that change the environment. */
export async function closeMessagingFor(db: Db): Promise<void> {
  const s = services.get(db);
  services.delete(db);
  await s?.close();
}

export function createMessagingService(db: Db, opts: ServiceOptions = {}): MessagingService {
  const env = opts.env ?? processEnv();
  const config = messagingConfig(env);
  const log = opts.log;
  const sandboxSecrets = {
    twilioAccountSid: `AC${secret(16)}`,
    twilioAuthToken: secret(16),
    whatsappAppSecret: secret(),
    whatsappAccessToken: secret(),
    whatsappPhoneNumberId: "109876543210",
    atApiKey: secret(),
  };
  const secrets: WebhookSecrets = {
    twilioAuthToken: config.twilio.mode === "live" ? config.twilio.live.authToken : sandboxSecrets.twilioAuthToken,
    whatsappAppSecret: config.whatsapp.mode === "live" ? config.whatsapp.live.appSecret : sandboxSecrets.whatsappAppSecret,
    whatsappVerifyToken: config.whatsapp.mode === "live" ? config.whatsapp.live.verifyToken : undefined,
    africasTalkingToken: config.africasTalkingWebhookToken ?? (config.africastalking.mode === "sandbox" ? secret() : undefined),
  };
  const anySandbox = [config.africastalking, config.twilio, config.smtp, config.whatsapp].some((s) => s.mode === "sandbox");
  const timeoutRaw = env.MESSAGING_SEND_TIMEOUT_MS?.trim();
  const sendTimeoutMs = timeoutRaw ? Number(timeoutRaw) : anySandbox ? DEFAULT_TIMEOUT_MS.sandbox : DEFAULT_TIMEOUT_MS.live;
  if (!Number.isInteger(sendTimeoutMs) || sendTimeoutMs < 100) throw new Error(`MESSAGING_SEND_TIMEOUT_MS must be a whole number of milliseconds ≥ 100, not "${timeoutRaw}"`);
  const reportDelayMs = opts.reportDelayMs ?? (env.MESSAGING_SANDBOX_REPORT_DELAY_MS ? Number(env.MESSAGING_SANDBOX_REPORT_DELAY_MS) : 200);

  let hostBase: string | undefined;
  const callbackBase = (name: ProviderName) => (config[name].mode === "live" ? config.publicUrl : (hostBase ?? IN_PROCESS_BASE));
  const emulators: Emulators = {};
  const providers = new Map<ProviderName, Promise<Provider>>();
  const balances = new Map<ProviderName, { balance: Money | null; fetchedAt: Date }>();

  /** The sink every emulator hands its signed requests to. */
  async function deliver(req: SignedRequest): Promise<void> {
    const url = new URL(req.url);
    if (hostBase && req.url.startsWith(hostBase)) {
      const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.method === "POST" ? req.body : undefined, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) log?.warn({ path: url.pathname, status: res.status }, "sandbox webhook refused by the host");
      await res.arrayBuffer();
      return;
    }
    const out = await handleWebhook(db, secrets, { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body: req.body, url: req.url }, { now: new Date(), log });
    if (out.status >= 300) log?.warn({ path: url.pathname, status: out.status }, "sandbox webhook refused");
  }

  const rates = engagementRates(env.MESSAGING_SANDBOX_ENGAGEMENT);
  const readers = new Set<Promise<void>>();
  const trackingBase = () => config.publicUrl ?? hostBase ?? IN_PROCESS_BASE;

  /** One step of a simulated reader: over HTTP to a host (this one, or the public URL), else in-process. */
  async function follow(step: ReaderStep): Promise<void> {
    if (step.url.startsWith(IN_PROCESS_BASE)) {
      const out = await handleTracking(db, await trackingKey(db, env), { method: step.method, path: new URL(step.url).pathname, body: step.body ?? "" }, {
        now: new Date(), transaction: (fn) => db.$transaction((tx) => fn(tx)),
      });
      if (out.status >= 400) log?.warn({ status: out.status }, "sandbox reader: tracking link refused");
      return;
    }
    const res = await fetch(step.url, {
      method: step.method, redirect: "manual", signal: AbortSignal.timeout(10_000),
      ...(step.body ? { body: step.body, headers: { "content-type": "application/x-www-form-urlencoded" } } : {}),
    });
    await res.arrayBuffer();
    if (res.status >= 500 || res.status === 429) throw new Error(`tracking link answered ${res.status}`);
    if (res.status >= 400) log?.warn({ status: res.status }, "sandbox reader: tracking link refused");
  }

  /** The sandbox SMTP server accepted an email: its reader (simulate.ts) opens, clicks or unsubscribes. */
  function read(mail: ReceivedEmail): void {
    const to = mail.envelope.to[0];
    if (!rates || !to) return;
    const steps = readerSteps(plannedEngagement(to, rates), trackingLinksOf(mail, trackingBase()));
    if (!steps.length) return;
    const p = (async () => {
      await new Promise((r) => setTimeout(r, reportDelayMs));
      // A reader whose request failed (a busy host or database) tries again, as a mail client
      // re-fetching an image would: a simulated open or click is not lost to a transient error.
      for (const step of steps) {
        for (let attempt = 1; ; attempt++) {
          try {
            await follow(step);
            break;
          } catch (err) {
            if (attempt >= 5) throw err;
            log?.info({ err: (err as Error).message, attempt }, "sandbox reader: retrying a tracking link");
            await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
          }
        }
      }
    })()
      .catch((err: Error) => log?.warn({ err: err.message }, "sandbox reader failed"))
      .finally(() => readers.delete(p));
    readers.add(p);
  }

  async function build(name: ProviderName): Promise<Provider> {
    const base = callbackBase(name);
    switch (name) {
      case "africastalking": {
        const c = config.africastalking;
        if (c.mode === "live") return africasTalkingProvider({ username: c.live.username, apiKey: c.live.apiKey, ...(c.live.from ? { from: c.live.from } : {}), sandbox: false });
        const token = secrets.africasTalkingToken!;
        const emu = await startAfricasTalkingEmulator({
          username: "sandbox", apiKey: sandboxSecrets.atApiKey, reportDelayMs, deliver, ...(opts.sandboxBalances?.africastalking ? { balance: opts.sandboxBalances.africastalking } : {}),
          deliveryReportUrl: `${base}/webhooks/africastalking/${token}/delivery`, inboundUrl: `${base}/webhooks/africastalking/${token}/inbound`,
        });
        emulators.africastalking = emu;
        return africasTalkingProvider({ username: "sandbox", apiKey: sandboxSecrets.atApiKey, baseUrl: emu.url, sandbox: true });
      }
      case "twilio": {
        const c = config.twilio;
        if (c.mode === "live") {
          return twilioProvider({ accountSid: c.live.accountSid, authToken: c.live.authToken, ...(c.live.from ? { from: c.live.from } : {}), ...(c.live.messagingServiceSid ? { messagingServiceSid: c.live.messagingServiceSid } : {}), ...(c.live.baseUrl ? { baseUrl: c.live.baseUrl } : {}), sandbox: false });
        }
        const emu = await startTwilioEmulator({
          accountSid: sandboxSecrets.twilioAccountSid, authToken: sandboxSecrets.twilioAuthToken, reportDelayMs, deliver, inboundUrl: `${base}/webhooks/twilio/inbound`,
          ...(opts.sandboxBalances?.twilio ? { balance: opts.sandboxBalances.twilio } : {}),
        });
        emulators.twilio = emu;
        return twilioProvider({ accountSid: sandboxSecrets.twilioAccountSid, authToken: sandboxSecrets.twilioAuthToken, from: "+15005550006", baseUrl: emu.url, sandbox: true });
      }
      case "whatsapp": {
        const c = config.whatsapp;
        if (c.mode === "live") return whatsAppProvider({ accessToken: c.live.accessToken, phoneNumberId: c.live.phoneNumberId, baseUrl: c.live.baseUrl, apiVersion: c.live.apiVersion, sandbox: false });
        const emu = await startWhatsAppEmulator({
          accessToken: sandboxSecrets.whatsappAccessToken, appSecret: sandboxSecrets.whatsappAppSecret, phoneNumberId: sandboxSecrets.whatsappPhoneNumberId,
          reportDelayMs, deliver, webhookUrl: `${base}/webhooks/whatsapp`,
        });
        emulators.whatsapp = emu;
        return whatsAppProvider({ accessToken: sandboxSecrets.whatsappAccessToken, phoneNumberId: sandboxSecrets.whatsappPhoneNumberId, baseUrl: emu.url, sandbox: true });
      }
      case "smtp": {
        const c = config.smtp;
        if (c.mode === "live") {
          return smtpProvider({ host: c.live.host, port: c.live.port, secure: c.live.secure, ...(c.live.user ? { user: c.live.user, pass: c.live.pass! } : {}), from: c.live.from, sandbox: false });
        }
        const emu = await startSmtpEmulator({ onAccepted: read });
        emulators.smtp = emu;
        return smtpProvider({ host: emu.host, port: emu.port, from: "MarketSage Sandbox <sandbox@sandbox.marketsage.test>", sandbox: true });
      }
    }
  }

  return {
    config,
    secrets,
    sendTimeoutMs,
    emulators,
    callbackBase,
    trackingBase,
    useHost(baseUrl) {
      hostBase = baseUrl.replace(/\/+$/, "");
    },
    provider(name) {
      let p = providers.get(name);
      if (!p) {
        p = build(name);
        providers.set(name, p);
        p.catch(() => providers.delete(name));
      }
      return p;
    },
    async balance(name) {
      const hit = balances.get(name);
      if (hit && Date.now() - hit.fetchedAt.getTime() < BALANCE_CACHE_MS) return { ...hit, cached: true };
      const p = await this.provider(name);
      const balance = await p.balance({ timeoutMs: sendTimeoutMs });
      const entry = { balance, fetchedAt: new Date() };
      balances.set(name, entry);
      return { ...entry, cached: false };
    },
    async idle() {
      await Promise.all([emulators.africastalking?.idle(), emulators.twilio?.idle(), emulators.whatsapp?.idle()]);
      while (readers.size) await Promise.all([...readers]);
    },
    async close() {
      await Promise.allSettled([emulators.africastalking?.close(), emulators.twilio?.close(), emulators.whatsapp?.close(), emulators.smtp?.close()]);
    },
  };
}
