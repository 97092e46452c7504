// A local Africa's Talking: an HTTP server on 127.0.0.1 speaking AT's wire format to the official
// `africastalking` SDK (0.8.x): the bulk SMS endpoint (POST /version1/messaging, form-encoded,
// `apikey` header, fields username/to/message/from; 201 with `SMSMessageData`) and the user-data
// endpoint (GET /version1/user?username=…; 200 with `UserData.balance`). The recipient's last four
// digits choose what it does (sandbox/test-numbers.ts). Delivery reports and inbound messages are
// handed to `deliver` as SignedRequests: form-encoded with AT's field names, unsigned (AT does not
// sign its callbacks: the URLs carry our secret token).
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { formRecord, readBody, reply } from "./http.ts";
import type { Money, WebhookSink } from "../providers/types.ts";
import { emulatorLifecycle, type DeliveredWebhookOf, type HttpEmulator, type RecordedFormRequest } from "./lifecycle.ts";
import { fromUnits, toUnits } from "./money.ts";
import { sandboxOutcome, type SandboxOutcome } from "./test-numbers.ts";

export interface AfricasTalkingEmulatorOptions {
  username: string;
  apiKey: string;
  /** Where delivery reports and inbound messages go. */
  deliver: WebhookSink;
  /** The application's delivery-report callback URL; no reports are sent when absent. */
  deliveryReportUrl?: string;
  /** The application's incoming-messages callback URL (STOP replies); none sent when absent. */
  inboundUrl?: string;
  /** Delay before each report / inbound message (default 50 ms). */
  reportDelayMs?: number;
  /** The account's starting balance (default KES 1234.5000). */
  balance?: Money;
  /** Send a "Submitted" report before the final one (default true). */
  intermediateReports?: boolean;
  /**
   * Hold each send's answer this long after processing it (default 0): the message is accepted
   * and charged at once, the caller hears about it late (a timeout then yields `unknown` for a
   * message that was in fact sent: the case reports reconcile).
   */
  responseDelayMs?: number;
  /** The short code an inbound reply is addressed to when the message had no `from` (default "20880"). */
  shortCode?: string;
}

export type AtReportStatus = "Sent" | "Submitted" | "Buffered" | "Rejected" | "Success" | "Failed";

export interface AtRecipientResult {
  statusCode: number;
  number: string;
  status: string;
  cost: string;
  messageId: string;
}

export interface EmulatedAtMessage {
  messageId: string;
  to: string;
  from: string | null;
  message: string;
  cost: Money;
  outcome: SandboxOutcome;
  /** The last report status sent (null before the first). */
  status: AtReportStatus | null;
  createdAt: Date;
}

/** `authorized`: whether the api key and username matched. */
export type RecordedAtRequest = RecordedFormRequest;

export type DeliveredAtWebhook = DeliveredWebhookOf<"report" | "inbound">;

export interface AfricasTalkingEmulator extends HttpEmulator<RecordedAtRequest, DeliveredAtWebhook, EmulatedAtMessage> {
  balance(): Money;
}

// ---- prices by the recipient's country (illustrative, in the country's currency) ----

interface CountryPrice {
  prefix: string;
  currency: string;
  amount: string;
  networkCode: string;
}

/** Longest prefix first. Network codes are AT's MCC+MNC (Safaricom, MTN NG, MTN UG, …). */
const PRICES: readonly CountryPrice[] = [
  { prefix: "254", currency: "KES", amount: "0.8000", networkCode: "63902" },
  { prefix: "234", currency: "NGN", amount: "2.2000", networkCode: "62130" },
  { prefix: "256", currency: "UGX", amount: "25.0000", networkCode: "64110" },
  { prefix: "255", currency: "TZS", amount: "20.0000", networkCode: "64002" },
  { prefix: "250", currency: "RWF", amount: "15.0000", networkCode: "63510" },
  { prefix: "27", currency: "ZAR", amount: "0.3000", networkCode: "65501" },
];
/** Anywhere else: AT prices international SMS in USD; 99999 is AT's sandbox network (Athena). */
const OTHER: CountryPrice = { prefix: "", currency: "USD", amount: "0.0500", networkCode: "99999" };

/** Illustrative exchange rates: KES per one unit of each currency (4 decimals). */
const KES_PER: Record<string, string> = {
  KES: "1.0000",
  NGN: "0.0850",
  UGX: "0.0350",
  TZS: "0.0500",
  RWF: "0.0900",
  ZAR: "7.0000",
  USD: "129.0000",
};

function priceFor(number: string): CountryPrice {
  const digits = number.replace(/\D/g, "");
  return PRICES.find((p) => digits.startsWith(p.prefix)) ?? OTHER;
}

/** `units` of `from` in `to`, rounded half up to 4 decimals. */
function convert(units: bigint, from: string, to: string): bigint {
  if (from === to) return units;
  const a = KES_PER[from];
  const b = KES_PER[to];
  if (a === undefined || b === undefined) throw new Error(`no rate for ${from} → ${to}`);
  const num = units * toUnits(a);
  const den = toUnits(b);
  return (num * 2n + den) / (2n * den);
}

// ---- wire helpers ----

const AUTH_INVALID = "The supplied authentication is invalid";

function newMessageId(): string {
  return "ATXid_" + randomBytes(16).toString("hex");
}

/** "2026-12-02 16:10:28" (UTC), as AT writes an inbound message's date. */
function atDate(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

const STATUS_NAME: Record<number, string> = {
  100: "Processed",
  101: "Success",
  102: "Queued",
  401: "RiskHold",
  402: "InvalidSenderId",
  403: "InvalidPhoneNumber",
  404: "UnsupportedNumberType",
  405: "InsufficientBalance",
  406: "UserInBlacklist",
  407: "CouldNotRoute",
  500: "InternalServerError",
  501: "GatewayError",
  502: "RejectedByGateway",
};

function refused(number: string, statusCode: number): AtRecipientResult {
  return { statusCode, number, status: STATUS_NAME[statusCode] ?? "Failed", cost: "0", messageId: "None" };
}

export async function startAfricasTalkingEmulator(opts: AfricasTalkingEmulatorOptions): Promise<AfricasTalkingEmulator> {
  const reportDelayMs = opts.reportDelayMs ?? 50;
  const responseDelayMs = opts.responseDelayMs ?? 0;
  const intermediate = opts.intermediateReports ?? true;
  const shortCode = opts.shortCode ?? "20880";
  const balanceCurrency = opts.balance?.currency ?? "KES";
  let balanceUnits = toUnits(opts.balance?.amount ?? "1234.5000");

  const requests: RecordedAtRequest[] = [];
  const messages = new Map<string, EmulatedAtMessage>();
  const life = emulatorLifecycle<DeliveredAtWebhook["kind"]>(opts.deliver);

  function hand(kind: DeliveredAtWebhook["kind"], url: string, fields: Record<string, string>): Promise<void> {
    const body = new URLSearchParams(fields).toString();
    return life.hand(kind, { method: "POST", url, headers: { "content-type": "application/x-www-form-urlencoded" }, body });
  }

  /** Reports (and the STOP reply) for one accepted message, in order, each after reportDelayMs. */
  async function lifecycle(m: EmulatedAtMessage, networkCode: string): Promise<void> {
    const report = async (status: AtReportStatus, failureReason?: string): Promise<boolean> => {
      if (!(await life.sleep(reportDelayMs))) return false;
      m.status = status;
      if (opts.deliveryReportUrl) {
        const fields: Record<string, string> = { id: m.messageId, status, phoneNumber: m.to, networkCode };
        if (failureReason) fields.failureReason = failureReason;
        fields.retryCount = "0";
        await hand("report", opts.deliveryReportUrl, fields);
      }
      return true;
    };
    if (intermediate && !(await report("Submitted"))) return;
    if (m.outcome === "undelivered") {
      await report("Failed", "DeliveryFailure");
      return;
    }
    if (!(await report("Success"))) return;
    if (m.outcome === "stop_reply" && opts.inboundUrl) {
      if (!(await life.sleep(reportDelayMs))) return;
      await hand("inbound", opts.inboundUrl, {
        from: m.to,
        to: m.from ?? shortCode,
        text: "STOP",
        date: atDate(new Date()),
        id: randomBytes(16).toString("hex").replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-"),
        linkId: randomBytes(12).toString("hex"),
        networkCode,
      });
    }
  }

  function send(res: ServerResponse, rec: RecordedAtRequest, status: number, body: string, type: string): void {
    rec.status = status;
    reply(res, status, type, body);
  }
  const json = (res: ServerResponse, rec: RecordedAtRequest, status: number, v: unknown) =>
    send(res, rec, status, JSON.stringify(v), "application/json");
  const text = (res: ServerResponse, rec: RecordedAtRequest, status: number, s: string) =>
    send(res, rec, status, s, "text/plain; charset=utf-8");

  function handleSms(res: ServerResponse, rec: RecordedAtRequest): void {
    const p = rec.params;
    if (!p.username) return text(res, rec, 400, "Request is missing required form field 'username'");
    if (!p.to) return text(res, rec, 400, "Request is missing required form field 'to'");
    if (p.message === undefined) return text(res, rec, 400, "Request is missing required form field 'message'");
    const numbers = p.to.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    const outcomes = numbers.map((n) => sandboxOutcome(n));
    if (outcomes.includes("no_answer")) return life.hang(res);
    if (outcomes.includes("provider_error")) return text(res, rec, 500, "Internal Server Error");

    const recipients: AtRecipientResult[] = [];
    const accepted: { m: EmulatedAtMessage; networkCode: string; charged: bigint }[] = [];
    numbers.forEach((number, i) => {
      const outcome = outcomes[i]!;
      if (!/^\+\d{8,15}$/.test(number) || outcome === "invalid_number") return recipients.push(refused(number, 403));
      if (outcome === "rejected") return recipients.push(refused(number, 406));
      const price = priceFor(number);
      const charged = convert(toUnits(price.amount), price.currency, balanceCurrency);
      if (balanceUnits - charged < 0n) return recipients.push(refused(number, 405));
      balanceUnits -= charged;
      const m: EmulatedAtMessage = {
        messageId: newMessageId(),
        to: number,
        from: p.from ?? null,
        message: p.message ?? "",
        cost: { amount: price.amount, currency: price.currency },
        outcome,
        status: null,
        createdAt: new Date(),
      };
      messages.set(m.messageId, m);
      accepted.push({ m, networkCode: price.networkCode, charged });
      return recipients.push({ statusCode: 101, number, status: "Success", cost: `${price.currency} ${price.amount}`, messageId: m.messageId });
    });

    let total = "0";
    if (accepted.length > 0) {
      const currencies = new Set(accepted.map((a) => a.m.cost.currency));
      if (currencies.size === 1) {
        const sum = accepted.reduce((s, a) => s + toUnits(a.m.cost.amount), 0n);
        total = `${[...currencies][0]} ${fromUnits(sum)}`;
      } else {
        total = `${balanceCurrency} ${fromUnits(accepted.reduce((s, a) => s + a.charged, 0n))}`;
      }
    }
    const answer = { SMSMessageData: { Message: `Sent to ${accepted.length}/${numbers.length} Total Cost: ${total}`, Recipients: recipients } };
    for (const a of accepted) void life.track(lifecycle(a.m, a.networkCode));
    if (responseDelayMs <= 0) return json(res, rec, 201, answer);
    life.hang(res);
    void life.sleep(responseDelayMs).then((ok) => {
      if (ok && !res.destroyed) json(res, rec, 201, answer);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? "/", "http://127.0.0.1");
    const body = req.method === "POST" ? await readBody(req) : "";
    const params = req.method === "POST" ? formRecord(body) : formRecord(u.search);
    const key = header(req, "apikey");
    const rec: RecordedAtRequest = {
      method: req.method ?? "GET",
      path: u.pathname,
      params,
      authorized: key === opts.apiKey && params.username === opts.username,
      status: null,
      at: new Date(),
    };
    requests.push(rec);
    const route = `${rec.method} ${u.pathname.replace(/\/+$/, "")}`;
    if (route !== "POST /version1/messaging" && route !== "GET /version1/user") return text(res, rec, 404, "Not Found");
    if (!rec.authorized) return text(res, rec, 401, AUTH_INVALID);
    if (route === "GET /version1/user") {
      return json(res, rec, 200, { UserData: { balance: `${balanceCurrency} ${fromUnits(balanceUnits)}` } });
    }
    return handleSms(res, rec);
  }

  const emulator = await life.serve({ requests, messages, handle, failure: () => ({ type: "text/plain", body: "Internal Server Error" }) });
  return { ...emulator, balance: () => ({ amount: fromUnits(balanceUnits), currency: balanceCurrency }) };
}
