// Provider webhooks: verify the request came from the provider, then read it as delivery reports
// or inbound messages. Nothing here writes; a refused request is a status code and a reason for
// the log (never the request's secrets).
//   Twilio:   X-Twilio-Signature (HMAC-SHA1 of the public URL and the sorted form fields, auth token)
//   WhatsApp: X-Hub-Signature-256 (HMAC-SHA256 of the raw body, app secret); GET verify handshake
//   Africa's Talking: signs nothing — a secret token in the callback path, and reports must match
//             a message we sent to that number (applyStatusReport's recipient check)
import { timingSafeEqual } from "node:crypto";
import twilioSdk from "twilio";
import type { SignedRequest } from "../providers/types.ts";
import { verifyWhatsAppSignature } from "../providers/whatsapp.ts";
import type { InboundMessage } from "./inbound.ts";
import type { ReportStatus, StatusReport } from "./status.ts";

const twilio = twilioSdk as unknown as { validateRequest(token: string, signature: string, url: string, params: Record<string, string>): boolean };

export type Received =
  | { ok: true; reports: StatusReport[]; inbound: InboundMessage[] }
  | { ok: false; status: 400 | 401 | 403; reason: string };

const header = (req: SignedRequest, name: string) => {
  const k = Object.keys(req.headers).find((h) => h.toLowerCase() === name);
  return k ? req.headers[k] : undefined;
};
const form = (body: string) => Object.fromEntries(new URLSearchParams(body));
const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const TWILIO_STATUS: Record<string, ReportStatus> = {
  accepted: "queued", scheduled: "queued", queued: "queued", sending: "sent", sent: "sent", delivered: "delivered", undelivered: "failed", failed: "failed", read: "read",
};

export function receiveTwilio(req: SignedRequest, o: { authToken: string; kind: "status" | "inbound"; now: Date }): Received {
  const sig = header(req, "x-twilio-signature");
  if (!sig) return { ok: false, status: 401, reason: "no X-Twilio-Signature" };
  const f = form(req.body);
  if (!twilio.validateRequest(o.authToken, sig, req.url, f)) return { ok: false, status: 403, reason: "X-Twilio-Signature does not match" };
  if (o.kind === "inbound") {
    if (!f.MessageSid || !f.From || !f.To) return { ok: false, status: 400, reason: "inbound message without MessageSid, From or To" };
    return { ok: true, reports: [], inbound: [{ channel: "SMS", provider: "twilio", providerMessageId: f.MessageSid, from: f.From, to: f.To, text: f.Body ?? "", at: o.now }] };
  }
  const status = TWILIO_STATUS[(f.MessageStatus ?? "").toLowerCase()];
  if (!f.MessageSid || !status) return { ok: false, status: 400, reason: `status callback without MessageSid or with an unknown MessageStatus "${f.MessageStatus ?? ""}"` };
  // Matched by MessageSid alone; `To` only lets the report resolve an unknown outcome (status.ts).
  return {
    ok: true,
    inbound: [],
    reports: [{
      provider: "twilio", providerMessageId: f.MessageSid, status, providerStatus: f.MessageStatus!, code: f.ErrorCode || null, reason: f.ErrorCode ? `Twilio error ${f.ErrorCode}` : null, at: o.now,
      reportKey: `${f.MessageSid}:${f.MessageStatus}`, ...(f.To ? { recipient: f.To } : {}),
    }],
  };
}

const AT_STATUS: Record<string, ReportStatus> = { Submitted: "sent", Buffered: "sent", Sent: "sent", Success: "delivered", Rejected: "failed", Failed: "failed" };

/** `token`: the AFRICASTALKING_WEBHOOK_TOKEN; `pathToken`: the one in the request's path. */
export function receiveAfricasTalking(req: SignedRequest, o: { token: string; pathToken: string; kind: "delivery" | "inbound"; now: Date }): Received {
  if (!o.token || !same(o.pathToken, o.token)) return { ok: false, status: 403, reason: "wrong callback token in the path" };
  const f = form(req.body);
  if (o.kind === "inbound") {
    if (!f.id || !f.from || !f.to) return { ok: false, status: 400, reason: "inbound message without id, from or to" };
    const at = f.date ? new Date(f.date) : o.now;
    return { ok: true, reports: [], inbound: [{ channel: "SMS", provider: "africastalking", providerMessageId: f.id, from: f.from, to: f.to, text: f.text ?? "", at: Number.isNaN(at.getTime()) ? o.now : at }] };
  }
  const status = AT_STATUS[f.status ?? ""];
  if (!f.id || !status || !f.phoneNumber) return { ok: false, status: 400, reason: `delivery report without id or phoneNumber, or with an unknown status "${f.status ?? ""}"` };
  return {
    ok: true,
    inbound: [],
    reports: [{
      provider: "africastalking", providerMessageId: f.id, status, providerStatus: f.status!, code: f.failureReason || null, reason: f.failureReason || null, at: o.now,
      reportKey: `${f.id}:${f.status}:${f.retryCount ?? "0"}`, recipient: f.phoneNumber,
    }],
  };
}

type WaBody = {
  object?: string;
  entry?: Array<{ changes?: Array<{ field?: string; value?: {
    metadata?: { phone_number_id?: string };
    statuses?: Array<{ id?: string; status?: string; timestamp?: string; recipient_id?: string; errors?: Array<{ code?: number; title?: string }> }>;
    messages?: Array<{ from?: string; id?: string; timestamp?: string; type?: string; text?: { body?: string } }>;
  } }> }>;
};
const WA_STATUS: Record<string, ReportStatus> = { sent: "sent", delivered: "delivered", read: "read", failed: "failed" };

export function receiveWhatsApp(req: SignedRequest, o: { appSecret: string; now: Date }): Received {
  const sig = header(req, "x-hub-signature-256");
  if (!sig) return { ok: false, status: 401, reason: "no X-Hub-Signature-256" };
  if (!verifyWhatsAppSignature(req.body, sig, o.appSecret)) return { ok: false, status: 403, reason: "X-Hub-Signature-256 does not match the body" };
  let body: WaBody;
  try {
    body = JSON.parse(req.body) as WaBody;
  } catch {
    return { ok: false, status: 400, reason: "the body is not JSON" };
  }
  const reports: StatusReport[] = [];
  const inbound: InboundMessage[] = [];
  const when = (ts: string | undefined) => (ts && /^\d+$/.test(ts) ? new Date(Number(ts) * 1000) : o.now);
  for (const e of body.entry ?? []) {
    for (const c of e.changes ?? []) {
      const v = c.value;
      if (c.field !== "messages" || !v) continue;
      for (const s of v.statuses ?? []) {
        const status = s.status ? WA_STATUS[s.status] : undefined;
        if (!s.id || !status) continue;
        const err = s.errors?.[0];
        // recipient_id (digits, no "+") only lets the report resolve an unknown outcome (status.ts).
        reports.push({
          provider: "whatsapp", providerMessageId: s.id, status, providerStatus: s.status!, code: err?.code !== undefined ? String(err.code) : null, reason: err?.title ?? null, at: when(s.timestamp),
          reportKey: `${s.id}:${s.status}`, ...(s.recipient_id ? { recipient: s.recipient_id.startsWith("+") ? s.recipient_id : `+${s.recipient_id}` } : {}),
        });
      }
      for (const m of v.messages ?? []) {
        if (!m.id || !m.from || !v.metadata?.phone_number_id) continue;
        inbound.push({ channel: "WHATSAPP", provider: "whatsapp", providerMessageId: m.id, from: m.from.startsWith("+") ? m.from : `+${m.from}`, to: v.metadata.phone_number_id, text: m.text?.body ?? `[${m.type ?? "message"}]`, at: when(m.timestamp) });
      }
    }
  }
  return { ok: true, reports, inbound };
}

/** The GET handshake Meta sends when a webhook is registered: echo the challenge for our token. */
export function whatsAppVerify(query: URLSearchParams, verifyToken: string | undefined): { status: 200; body: string } | { status: 403; body: string } {
  const token = query.get("hub.verify_token") ?? "";
  if (query.get("hub.mode") === "subscribe" && verifyToken && same(token, verifyToken)) return { status: 200, body: query.get("hub.challenge") ?? "" };
  return { status: 403, body: "verification failed" };
}
