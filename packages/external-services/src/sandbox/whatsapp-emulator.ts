// A local WhatsApp Cloud API: an HTTP server on 127.0.0.1 answering
// `POST /{version}/{phone-number-id}/messages` as Graph does (Bearer token, the success body with a
// wamid, Graph's error shape), enforcing the 24-hour customer-service window for free text
// (131047 outside it; templates always allowed), and sending status and inbound-message webhooks in
// the Cloud API's JSON shape, signed with X-Hub-Signature-256 over the exact raw body.
//
// The recipient's last four digits choose what it does (sandbox/test-numbers.ts), checked in this
// order after the token and the request body:
//   provider_error → 500 code 131000; no_answer → the request hangs until close();
//   invalid_number → 400 code 100 (the `to` parameter is not a valid WhatsApp number);
//   rejected → 400 code 131050 (the user stopped marketing messages from this business);
//   then the window (free text only); then accepted, with statuses:
//   delivered → sent, delivered; undelivered → sent, failed [131026 Message undeliverable];
//   stop_reply → sent, delivered, then an inbound text "STOP" from the recipient.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody, reply } from "./http.ts";
import type { SignedRequest, WebhookSink } from "../providers/types.ts";
import { signWhatsApp, type GraphError } from "../providers/whatsapp.ts";
import { emulatorLifecycle, type DeliveredWebhookOf, type HttpEmulator } from "./lifecycle.ts";
import { sandboxOutcome, type SandboxOutcome } from "./test-numbers.ts";

export { signWhatsApp, verifyWhatsAppSignature } from "../providers/whatsapp.ts";

export interface WhatsAppEmulatorOptions {
  accessToken: string;
  appSecret: string;
  phoneNumberId: string;
  /** The business number as Meta displays it (default "15550001234"). */
  displayPhoneNumber?: string;
  /** The WhatsApp Business Account id in webhooks' entry[].id (default "102290129340398"). */
  wabaId?: string;
  deliver: WebhookSink;
  /** The public URL the webhooks are addressed to. */
  webhookUrl: string;
  /** Delay before each status webhook (default 5 ms). */
  reportDelayMs?: number;
  /** The clock (ms since the epoch), for tests of the 24-hour window. */
  now?: () => number;
}

export type WhatsAppStatus = "accepted" | "sent" | "delivered" | "read" | "failed";

export interface EmulatedWhatsAppMessage {
  id: string;
  to: string;
  type: "text" | "template";
  text: string | null;
  template: { name: string; language: string; params: string[] } | null;
  bizOpaqueCallbackData: string | null;
  outcome: SandboxOutcome;
  status: WhatsAppStatus;
  createdAt: Date;
}

export interface RecordedWhatsAppRequest {
  method: string;
  path: string;
  body: unknown;
  authorized: boolean;
  /** The HTTP status answered, or null while the request hangs (no_answer). */
  status: number | null;
  /** The Graph error code answered, if any. */
  errorCode: number | null;
  at: Date;
}

export type DeliveredWhatsAppWebhook = DeliveredWebhookOf<"status" | "inbound">;

export interface WhatsAppEmulator extends HttpEmulator<RecordedWhatsAppRequest, DeliveredWhatsAppWebhook, EmulatedWhatsAppMessage> {
  /** Records an inbound message from `number` now (opens its 24-hour window), without a webhook. */
  openWindow(number: string, atMs?: number): void;
  /** The customer sends a text: opens the window and delivers the inbound webhook. */
  receive(from: string, body: string): Promise<void>;
  /** Whether free text to `number` is allowed now. */
  windowOpen(number: string): boolean;
}

const WINDOW_MS = 24 * 60 * 60 * 1000;

const waId = (n: string) => n.replace(/\D/g, "");
const fbtrace = () => randomBytes(9).toString("base64").replace(/[+/=]/g, "A");

function graphError(e: Omit<GraphError, "fbtrace_id">): { error: GraphError } {
  return { error: { ...e, fbtrace_id: fbtrace() } };
}

interface Answer {
  status: number;
  body: { error: GraphError };
}

/** A refused send: Graph's OAuthException with the WhatsApp details. */
function refusal(code: number, message: string, details: string, status = 400): Answer {
  return { status, body: graphError({ message, type: "OAuthException", code, error_data: { messaging_product: "whatsapp", details } }) };
}

const ERR = {
  auth: (): Answer => ({
    status: 401,
    body: graphError({ message: "Invalid OAuth access token - Cannot parse access token", type: "OAuthException", code: 190 }),
  }),
  unknownPath: (path: string): Answer => ({
    status: 400,
    body: graphError({
      message: `Unsupported post request. Object with ID '${path}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      type: "GraphMethodException",
      code: 100,
      error_subcode: 33,
    }),
  }),
  param: (details: string) => refusal(100, "(#100) Invalid parameter", details),
  invalidTo: () => refusal(100, "(#100) Invalid parameter", "Parameter 'to' is not a valid WhatsApp phone number"),
  stoppedMarketing: () =>
    refusal(
      131050,
      "(#131050) Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
      "The recipient has stopped marketing messages from this business",
    ),
  reengagement: () =>
    refusal(
      131047,
      "(#131047) Re-engagement message",
      "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
  internal: () => refusal(131000, "(#131000) Something went wrong", "Something went wrong", 500),
};

function newWamid(to: string): string {
  // Meta's ids are base64 of an internal structure carrying the recipient; this is the same shape.
  return "wamid." + Buffer.concat([Buffer.from(`HBgM${waId(to)}FQIAERgS`), randomBytes(12)]).toString("base64");
}

export async function startWhatsAppEmulator(opts: WhatsAppEmulatorOptions): Promise<WhatsAppEmulator> {
  const now = opts.now ?? (() => Date.now());
  const delay = opts.reportDelayMs ?? 5;
  const display = opts.displayPhoneNumber ?? "15550001234";
  const wabaId = opts.wabaId ?? "102290129340398";
  const messages = new Map<string, EmulatedWhatsAppMessage>();
  const lastInbound = new Map<string, number>();
  const requests: RecordedWhatsAppRequest[] = [];
  const life = emulatorLifecycle<DeliveredWhatsAppWebhook["kind"]>(opts.deliver);

  const unix = () => String(Math.floor(now() / 1000));

  function envelope(value: Record<string, unknown>): string {
    return JSON.stringify({
      object: "whatsapp_business_account",
      entry: [
        {
          id: wabaId,
          changes: [
            {
              field: "messages",
              value: { messaging_product: "whatsapp", metadata: { display_phone_number: display, phone_number_id: opts.phoneNumberId }, ...value },
            },
          ],
        },
      ],
    });
  }

  function signed(body: string): SignedRequest {
    return {
      method: "POST",
      url: opts.webhookUrl,
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": signWhatsApp(body, opts.appSecret),
        "user-agent": "facebookexternalua",
      },
      body,
    };
  }

  function statusBody(m: EmulatedWhatsAppMessage, status: "sent" | "delivered" | "read" | "failed"): string {
    const s: Record<string, unknown> = { id: m.id, status, timestamp: unix(), recipient_id: waId(m.to) };
    if (m.bizOpaqueCallbackData !== null) s["biz_opaque_callback_data"] = m.bizOpaqueCallbackData;
    if (status === "failed") {
      s["errors"] = [
        {
          code: 131026,
          title: "Message undeliverable",
          message: "Message undeliverable",
          error_data: { details: "Message Undeliverable." },
        },
      ];
    }
    return envelope({ statuses: [s] });
  }

  function inboundBody(from: string, text: string): string {
    const digits = waId(from);
    return envelope({
      contacts: [{ profile: { name: `Customer ${digits.slice(-4)}` }, wa_id: digits }],
      messages: [{ from: digits, id: newWamid(from), timestamp: unix(), type: "text", text: { body: text } }],
    });
  }

  function inbound(from: string, text: string): Promise<void> {
    lastInbound.set(waId(from), now());
    return life.hand("inbound", signed(inboundBody(from, text)));
  }

  /** Runs the steps one after another, `delay` apart. */
  function schedule(steps: Array<() => Promise<void>>): void {
    void life.track(
      (async () => {
        for (const step of steps) {
          if (!(await life.sleep(delay))) return;
          await step();
        }
      })(),
    );
  }

  function statusStep(m: EmulatedWhatsAppMessage, status: "sent" | "delivered" | "failed"): () => Promise<void> {
    return () => {
      m.status = status;
      return life.hand("status", signed(statusBody(m, status)));
    };
  }

  function windowOpen(number: string): boolean {
    const t = lastInbound.get(waId(number));
    return t !== undefined && now() - t < WINDOW_MS;
  }

  function parseSend(body: unknown): { ok: true; msg: Omit<EmulatedWhatsAppMessage, "id" | "outcome" | "status" | "createdAt"> } | { ok: false; details: string } {
    if (!body || typeof body !== "object") return { ok: false, details: "The request body must be JSON" };
    const b = body as Record<string, unknown>;
    if (b["messaging_product"] !== "whatsapp") return { ok: false, details: "The parameter messaging_product is required and must be 'whatsapp'" };
    const to = b["to"];
    if (typeof to !== "string" || to.length === 0) return { ok: false, details: "The parameter to is required." };
    const opaque = typeof b["biz_opaque_callback_data"] === "string" ? (b["biz_opaque_callback_data"] as string) : null;
    const type = b["type"] ?? "text";
    if (type === "text") {
      const text = b["text"] as { body?: unknown } | undefined;
      if (!text || typeof text.body !== "string" || text.body.length === 0) return { ok: false, details: "The parameter text['body'] is required." };
      if (text.body.length > 4096) return { ok: false, details: "Param text['body'] must be at most 4096 characters long." };
      return { ok: true, msg: { to, type: "text", text: text.body, template: null, bizOpaqueCallbackData: opaque } };
    }
    if (type === "template") {
      const t = b["template"] as { name?: unknown; language?: { code?: unknown }; components?: unknown } | undefined;
      if (!t || typeof t.name !== "string" || t.name.length === 0) return { ok: false, details: "The parameter template['name'] is required." };
      if (!t.language || typeof t.language.code !== "string") return { ok: false, details: "The parameter template['language']['code'] is required." };
      const params: string[] = [];
      if (t.components !== undefined) {
        if (!Array.isArray(t.components)) return { ok: false, details: "Param template['components'] must be an array." };
        for (const c of t.components as Array<{ type?: unknown; parameters?: unknown }>) {
          if (c?.type !== "body" || !Array.isArray(c.parameters)) continue;
          for (const p of c.parameters as Array<{ type?: unknown; text?: unknown }>) {
            if (p?.type !== "text" || typeof p.text !== "string") return { ok: false, details: "Each body parameter needs type 'text' and a text." };
            params.push(p.text);
          }
        }
      }
      return { ok: true, msg: { to, type: "template", text: null, template: { name: t.name, language: t.language.code, params }, bizOpaqueCallbackData: opaque } };
    }
    return { ok: false, details: `Unsupported message type '${String(type)}' in the sandbox (text and template only)` };
  }

  function answer(res: ServerResponse, rec: RecordedWhatsAppRequest, { status, body }: { status: number; body: unknown }): void {
    rec.status = status;
    const e = (body as { error?: { code?: unknown } }).error;
    rec.errorCode = e && typeof e.code === "number" ? e.code : null;
    const headers = status === 401 ? { "www-authenticate": 'OAuth "Facebook Platform" "invalid_token"' } : {};
    reply(res, status, "application/json; charset=UTF-8", JSON.stringify(body), headers);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const authorized = (req.headers.authorization ?? "") === `Bearer ${opts.accessToken}`;
    const rec: RecordedWhatsAppRequest = { method: req.method ?? "", path, body, authorized, status: null, errorCode: null, at: new Date() };
    requests.push(rec);

    if (!authorized) return answer(res, rec, ERR.auth());
    const m = /^\/v\d+(?:\.\d+)?\/([^/]+)\/messages\/?$/.exec(path);
    if (req.method !== "POST" || !m) return answer(res, rec, ERR.unknownPath(path.split("/").filter(Boolean)[1] ?? path));
    if (decodeURIComponent(m[1]!) !== opts.phoneNumberId) return answer(res, rec, ERR.unknownPath(m[1]!));
    const parsed = parseSend(body);
    if (!parsed.ok) return answer(res, rec, ERR.param(parsed.details));
    const msg = parsed.msg;
    const outcome = sandboxOutcome(msg.to);
    if (outcome === "provider_error") return answer(res, rec, ERR.internal());
    if (outcome === "no_answer") return life.hang(res);
    if (outcome === "invalid_number" || waId(msg.to).length < 7 || waId(msg.to).length > 15) return answer(res, rec, ERR.invalidTo());
    if (outcome === "rejected") return answer(res, rec, ERR.stoppedMarketing());
    if (msg.type === "text" && !windowOpen(msg.to)) return answer(res, rec, ERR.reengagement());
    const stored: EmulatedWhatsAppMessage = { ...msg, id: newWamid(msg.to), outcome, status: "accepted", createdAt: new Date(now()) };
    messages.set(stored.id, stored);
    const sent: Record<string, unknown> = { id: stored.id };
    if (msg.type === "template") sent["message_status"] = "accepted";
    answer(res, rec, { status: 200, body: { messaging_product: "whatsapp", contacts: [{ input: msg.to, wa_id: waId(msg.to) }], messages: [sent] } });

    if (outcome === "undelivered") schedule([statusStep(stored, "sent"), statusStep(stored, "failed")]);
    else if (outcome === "stop_reply") schedule([statusStep(stored, "sent"), statusStep(stored, "delivered"), () => inbound(msg.to, "STOP")]);
    else schedule([statusStep(stored, "sent"), statusStep(stored, "delivered")]);
  }

  const emulator = await life.serve({
    requests,
    messages,
    handle,
    failure: (e) => ({
      type: "application/json",
      body: JSON.stringify(graphError({ message: `(#1) ${e instanceof Error ? e.message : "An unknown error occurred"}`, type: "OAuthException", code: 1 })),
    }),
  });
  return {
    ...emulator,
    openWindow(number, atMs) {
      lastInbound.set(waId(number), atMs ?? now());
    },
    receive: (from, body) => inbound(from, body),
    windowOpen,
  };
}
