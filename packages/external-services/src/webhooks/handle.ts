// The one webhook handler: the HTTP host's /webhooks routes call it, and so do the sandbox
// emulators in a process without the host (the same signed request, handed over in-process).
//   POST /webhooks/twilio/status | /webhooks/twilio/inbound   X-Twilio-Signature
//   GET  /webhooks/whatsapp                                   Meta's verify handshake
//   POST /webhooks/whatsapp                                   X-Hub-Signature-256
//   POST /webhooks/africastalking/<token>/delivery | /inbound the secret token in the path
// Verified requests are applied (delivery reports, inbound messages and STOP replies); refused
// ones write nothing and answer 401/403 (400 for a verified request we cannot read).
import { poolOf, type Db } from "@marketsage/db";
import { pgTransactions, type TxRunner } from "./pg-tx.ts";
import type { Logger } from "@marketsage/core";
import { applyInbound } from "./inbound.ts";
import { receiveAfricasTalking, receiveTwilio, receiveWhatsApp, whatsAppVerify, type Received } from "./receive.ts";
import { applyStatusReport } from "./status.ts";

export interface WebhookSecrets {
  twilioAuthToken: string | undefined;
  whatsappAppSecret: string | undefined;
  whatsappVerifyToken: string | undefined;
  africasTalkingToken: string | undefined;
}

export interface WebhookRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The full URL as the provider called it (Twilio signs it). */
  url: string;
}

export interface WebhookAnswer {
  status: number;
  body: string;
  /** text/plain unless said (Twilio's inbound webhook answers TwiML). */
  contentType?: string;
  /** What was applied (tests, benchmarks). */
  /** held: reports for a message not settled yet, applied when it is (webhooks/status.ts). */
  applied?: { reports: number; inbound: number; held: number; unmatched: number; optedOut: number };
}

const flat = (h: WebhookRequest["headers"]): Record<string, string> =>
  Object.fromEntries(Object.entries(h).flatMap(([k, v]) => (v === undefined ? [] : [[k.toLowerCase(), Array.isArray(v) ? v[0]! : v]])));

export async function handleWebhook(
  db: Db, secrets: WebhookSecrets, req: WebhookRequest, o: { now: Date; log?: Logger | undefined; /** Where reports are applied (default: the runtime's pool). */ reports?: TxRunner | undefined },
): Promise<WebhookAnswer> {
  const parts = req.path.split("/").filter(Boolean); // webhooks, provider, ...
  if (parts[0] !== "webhooks") return { status: 404, body: "not a webhook path" };
  const signed = { method: req.method === "GET" ? ("GET" as const) : ("POST" as const), url: req.url, headers: flat(req.headers), body: req.body };
  let received: Received;
  if (parts[1] === "whatsapp" && parts.length === 2 && req.method === "GET") {
    const v = whatsAppVerify(req.query, secrets.whatsappVerifyToken);
    return { status: v.status, body: v.body };
  }
  if (req.method !== "POST") return { status: 405, body: "POST only" };
  if (parts[1] === "twilio" && parts.length === 3 && (parts[2] === "status" || parts[2] === "inbound")) {
    if (!secrets.twilioAuthToken) return { status: 403, body: "Twilio is not configured" };
    received = receiveTwilio(signed, { authToken: secrets.twilioAuthToken, kind: parts[2], now: o.now });
  } else if (parts[1] === "whatsapp" && parts.length === 2) {
    if (!secrets.whatsappAppSecret) return { status: 403, body: "WhatsApp is not configured" };
    received = receiveWhatsApp(signed, { appSecret: secrets.whatsappAppSecret, now: o.now });
  } else if (parts[1] === "africastalking" && parts.length === 4 && (parts[3] === "delivery" || parts[3] === "inbound")) {
    received = receiveAfricasTalking(signed, { token: secrets.africasTalkingToken ?? "", pathToken: parts[2]!, kind: parts[3], now: o.now });
  } else return { status: 404, body: "no such webhook" };

  if (!received.ok) {
    o.log?.warn({ provider: parts[1], status: received.status, reason: received.reason }, "webhook refused");
    return { status: received.status, body: received.reason };
  }
  const pool = poolOf(db);
  const reportsDb = o.reports ?? (pool ? pgTransactions(pool) : db);
  let unmatched = 0;
  let held = 0;
  let optedOut = 0;
  for (const r of received.reports) {
    const a = await applyStatusReport(reportsDb, r);
    if (a.held) held++;
    else if (!a.found) unmatched++;
  }
  for (const m of received.inbound) if ((await applyInbound(db, m)).optedOut) optedOut++;
  const twiml = parts[1] === "twilio" && parts[2] === "inbound";
  return {
    status: 200,
    ...(twiml ? { body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', contentType: "text/xml" } : { body: "ok" }),
    applied: { reports: received.reports.length, inbound: received.inbound.length, held, unmatched, optedOut } };
}
