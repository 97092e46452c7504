// WhatsApp through the Cloud API (Graph `POST /{version}/{phone-number-id}/messages`) with plain
// fetch: free text (only inside the customer's 24-hour window) or an approved template when
// `message.template` is set. Graph's answers are mapped to a SendOutcome once, here:
//   200 with messages[0].id → accepted ("queued": the sent/delivered/read statuses come by webhook)
//   131047 → definite "window_closed" (a template is needed); 131050 → definite "opted_out";
//   invalid recipient (100 on `to`, 131026, 131030) → definite "invalid_number";
//   190 / HTTP 401 → definite "auth_failed"; template errors (132xxx) → definite "template_invalid";
//   5xx, 1, 2, 131000, rate limits → transient; timeout, abort, connection dropped → unknown;
//   connection refused / DNS failure (nothing went out) → transient.
// Also the webhook signature: X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(raw body, app secret).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Money, OutgoingMessage, Provider, SendOptions, SendOutcome } from "./types.ts";

export interface WhatsAppProviderConfig {
  accessToken: string;
  phoneNumberId: string;
  /** https://graph.facebook.com, or the emulator's origin in sandbox mode. */
  baseUrl: string;
  /** Graph API version (default v21.0). */
  apiVersion?: string;
  sandbox: boolean;
}

export const WHATSAPP_API_VERSION = "v21.0";

/** The X-Hub-Signature-256 header value for a raw webhook body. */
export function signWhatsApp(body: string, appSecret: string): string {
  return "sha256=" + createHmac("sha256", appSecret).update(body, "utf8").digest("hex");
}

/** Checks X-Hub-Signature-256 against the exact raw body (timing-safe). */
export function verifyWhatsAppSignature(rawBody: string, header: string | null | undefined, appSecret: string): boolean {
  if (typeof header !== "string" || appSecret.length === 0) return false;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return false;
  const expected = createHmac("sha256", appSecret).update(rawBody, "utf8").digest();
  const given = Buffer.from(m[1]!.toLowerCase(), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The Cloud API's error body. */
export interface GraphError {
  message: string;
  type: string;
  code: number;
  error_subcode?: number;
  error_data?: { messaging_product?: string; details?: string };
  fbtrace_id?: string;
}

/** The request body the Cloud API takes for one message. */
export function whatsAppRequestBody(message: OutgoingMessage): Record<string, unknown> {
  const base = {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: message.to.replace(/[^\d+]/g, ""),
    // echoed in this message's status webhooks: ties a report to our record
    biz_opaque_callback_data: message.idempotencyKey,
  };
  if (message.template) {
    const t = message.template;
    return {
      ...base,
      type: "template",
      template: {
        name: t.name,
        language: { code: t.language },
        components: t.params.length > 0 ? [{ type: "body", parameters: t.params.map((text) => ({ type: "text", text })) }] : [],
      },
    };
  }
  return { ...base, type: "text", text: { preview_url: false, body: message.text ?? "" } };
}

const NOT_SENT_NET = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function errCode(e: unknown): string {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === "object"; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === "string") return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return "";
}

function mapGraphError(status: number, err: GraphError | null, scrub: (s: string) => string): SendOutcome {
  const code = err?.code ?? null;
  const details = err?.error_data?.details ?? "";
  const said = scrub(`${err?.message ?? `HTTP ${status}`}${details && !(err?.message ?? "").includes(details) ? ` (${details})` : ""}`);
  if (code === 131047) {
    return {
      kind: "definite",
      code: "window_closed",
      reason: "more than 24 hours since the customer's last message: WhatsApp refuses free text, send an approved template instead",
    };
  }
  if (code === 190 || status === 401) return { kind: "definite", code: "auth_failed", reason: `WhatsApp refused the access token: ${said}` };
  if (code === 131050) return { kind: "definite", code: "opted_out", reason: `the recipient has stopped marketing messages from this business: ${said}` };
  if (code === 131026 || code === 131030 || code === 131021) return { kind: "definite", code: "invalid_number", reason: `WhatsApp cannot message this recipient: ${said}` };
  // 100 is Graph's generic "invalid parameter": the recipient only when the details name it
  if (code === 100 && err?.error_subcode === undefined && /'to'|\bto\b|recipient|phone number|wa_?id/i.test(details)) {
    return { kind: "definite", code: "invalid_number", reason: `WhatsApp says the recipient number is invalid: ${said}` };
  }
  if (code === 10 || code === 200 || code === 3 || (code !== null && code >= 200 && code <= 299) || status === 403) {
    return { kind: "definite", code: "permission_denied", reason: `the app lacks permission for this phone number: ${said}` };
  }
  if (code !== null && code >= 132000 && code <= 132999) return { kind: "definite", code: "template_invalid", reason: `the template was refused: ${said}` };
  if (code === 131056 || code === 130429 || code === 131048 || code === 80007 || code === 4 || status === 429) {
    return { kind: "transient", code: "rate_limited", reason: `WhatsApp rate limit: ${said}` };
  }
  if (status >= 500 || code === 1 || code === 2 || code === 131000 || code === 131016) {
    return { kind: "transient", code: code !== null ? `graph_${code}` : `http_${status}`, reason: `WhatsApp failed on its side: ${said}` };
  }
  return { kind: "definite", code: code !== null ? `graph_${code}` : `http_${status}`, reason: said };
}

export function whatsAppProvider(config: WhatsAppProviderConfig): Provider {
  const version = config.apiVersion ?? WHATSAPP_API_VERSION;
  const url = `${config.baseUrl.replace(/\/+$/, "")}/${version}/${encodeURIComponent(config.phoneNumberId)}/messages`;
  const secrets = [config.accessToken].filter((s) => s.length > 0);
  const scrub = (s: string) => secrets.reduce((acc, x) => acc.split(x).join("[redacted]"), s).slice(0, 300);

  async function send(message: OutgoingMessage, opts: SendOptions): Promise<SendOutcome> {
    if (!message.template && !(message.text ?? "").trim()) {
      return { kind: "definite", code: "empty_message", reason: "a WhatsApp message needs text or a template" };
    }
    const signal = AbortSignal.timeout(Math.max(1, opts.timeoutMs));
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${config.accessToken}`, "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(whatsAppRequestBody(message)),
        signal,
      });
    } catch (e) {
      const name = (e as { name?: unknown })?.name;
      if (name === "TimeoutError" || name === "AbortError" || signal.aborted) {
        return { kind: "unknown", reason: `no answer from WhatsApp within ${opts.timeoutMs} ms` };
      }
      const code = errCode(e);
      if (NOT_SENT_NET.has(code)) return { kind: "transient", code: "unreachable", reason: `cannot reach the WhatsApp API (${code})` };
      return { kind: "unknown", reason: scrub(`the connection to WhatsApp failed (${code || String(e)})`) };
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      // headers came back, the body did not: the message may have been taken
      if (res.ok) return { kind: "unknown", reason: "WhatsApp answered but the body did not arrive (timeout or dropped connection)" };
      return mapGraphError(res.status, null, scrub);
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    if (res.ok) {
      const id = (json as { messages?: Array<{ id?: unknown }> } | null)?.messages?.[0]?.id;
      if (typeof id === "string" && id.length > 0) return { kind: "accepted", providerMessageId: id, status: "queued", cost: null };
      return { kind: "unknown", reason: scrub(`WhatsApp answered ${res.status} without a message id`) };
    }
    const err = (json as { error?: GraphError } | null)?.error ?? null;
    return mapGraphError(res.status, err && typeof err.code === "number" ? err : null, scrub);
  }

  return {
    name: "whatsapp",
    channel: "WHATSAPP",
    sandbox: config.sandbox,
    send,
    async balance(): Promise<Money | null> {
      return null;
    },
  };
}
