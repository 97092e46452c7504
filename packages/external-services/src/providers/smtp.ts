// Email over SMTP through nodemailer (10.x). One connection per send (no pool), bounded by
// nodemailer's connection/greeting/socket timeouts and an overall timer. The relay's answer is
// mapped to a SendOutcome once, here:
//   accepted (250 after DATA) → accepted, providerMessageId = the Message-ID nodemailer generated
//   5xx reply (RCPT, MAIL, DATA, AUTH) → definite, code "smtp_<reply code>"
//   4xx reply, connection refused / DNS failure → transient (nothing was sent)
//   timeout, connection dropped mid-conversation → unknown (the relay may have queued it)
import nodemailer from "nodemailer";
import type { Money, OutgoingMessage, Provider, SendOptions, SendOutcome } from "./types.ts";

export interface SmtpProviderConfig {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS when the server offers it. */
  secure?: boolean;
  user?: string;
  pass?: string;
  /** Default From (an address or `Name <address>`). */
  from: string;
  sandbox: boolean;
}

interface NodemailerLikeError {
  code?: unknown;
  originalCode?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
  message?: unknown;
}

/** Failures before any byte of the message could have gone out. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EDNS"]);

export function smtpProvider(config: SmtpProviderConfig): Provider {
  const secrets = [config.pass ?? ""].filter((s) => s.length > 0);
  const scrub = (s: string) => secrets.reduce((acc, x) => acc.split(x).join("[redacted]"), s).slice(0, 300);

  function mapError(e: unknown): SendOutcome {
    const err = (e ?? {}) as NodemailerLikeError;
    const code = typeof err.code === "string" ? err.code : "";
    const original = typeof err.originalCode === "string" ? err.originalCode : "";
    const reply = typeof err.responseCode === "number" ? err.responseCode : null;
    const response = typeof err.response === "string" ? err.response : "";
    const command = typeof err.command === "string" ? err.command : "";
    const message = typeof err.message === "string" ? err.message : String(e);
    if (reply !== null && reply >= 500 && reply < 600) {
      return { kind: "definite", code: `smtp_${reply}`, reason: scrub(`${command ? command + ": " : ""}${response || message}`) };
    }
    if (reply !== null && reply >= 400 && reply < 500) {
      return { kind: "transient", code: `smtp_${reply}`, reason: scrub(`${command ? command + ": " : ""}${response || message}`) };
    }
    if (NOT_SENT.has(original) || NOT_SENT.has(code)) {
      return { kind: "transient", code: "smtp_unreachable", reason: scrub(`cannot reach ${config.host}:${config.port} (${original || code})`) };
    }
    if (code === "ETIMEDOUT") return { kind: "unknown", reason: scrub(`SMTP timeout: ${message}`) };
    if (code === "EAUTH" || code === "ENOAUTH") return { kind: "definite", code: "smtp_auth", reason: scrub(message) };
    if (code === "EENVELOPE" || code === "EMESSAGE") return { kind: "definite", code: "smtp_invalid_message", reason: scrub(message) };
    if (code === "ECONFIG") return { kind: "definite", code: "smtp_config", reason: scrub(message) };
    // ECONNECTION, ESOCKET (reset mid-conversation), EPROTOCOL…: the relay may have queued it.
    return { kind: "unknown", reason: scrub(`SMTP connection failed (${original || code || "error"}): ${message}`) };
  }

  async function send(message: OutgoingMessage, opts: SendOptions): Promise<SendOutcome> {
    const t = Math.max(1, opts.timeoutMs);
    const transport = nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure ?? false,
      ...(config.user !== undefined ? { auth: { user: config.user, pass: config.pass ?? "" } } : {}),
      connectionTimeout: t,
      greetingTimeout: t,
      socketTimeout: t,
      dnsTimeout: t,
      logger: false,
      debug: false,
    });
    let timer: NodeJS.Timeout | undefined;
    const overall = new Promise<SendOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "unknown", reason: `no SMTP answer within ${t} ms` }), t);
    });
    const attempt = (async (): Promise<SendOutcome> => {
      try {
        const info = await transport.sendMail({
          from: message.from ?? config.from,
          to: message.to,
          subject: message.subject ?? "",
          ...(message.text !== undefined ? { text: message.text } : {}),
          ...(message.html !== undefined ? { html: message.html } : {}),
          headers: { ...(message.headers ?? {}), "X-MarketSage-Idempotency-Key": message.idempotencyKey },
        });
        const rejected: unknown[] = info.rejected ?? [];
        if (rejected.length > 0 && (info.accepted ?? []).length === 0) {
          return { kind: "definite", code: "smtp_rejected", reason: scrub(`recipient refused: ${rejected.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join(", ")}`) };
        }
        return { kind: "accepted", providerMessageId: info.messageId, status: "sent", cost: null };
      } catch (e) {
        return mapError(e);
      }
    })();
    try {
      return await Promise.race([attempt, overall]);
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }

  return {
    name: "smtp",
    channel: "EMAIL",
    sandbox: config.sandbox,
    send,
    async balance(): Promise<Money | null> {
      return null;
    },
  };
}
