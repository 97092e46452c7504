// A local Africa's Talking: an HTTP server on 127.0.0.1 speaking AT's wire format to the official
// `africastalking` SDK (0.8.x): the bulk SMS endpoint (POST /version1/messaging, form-encoded,
// `apikey` header, fields username/to/message/from; 201 with `SMSMessageData`) and the user-data
// endpoint (GET /version1/user?username=…; 200 with `UserData.balance`). The recipient's last four
// digits choose what it does (sandbox/test-numbers.ts). Delivery reports and inbound messages are
// handed to `deliver` as SignedRequests: form-encoded with AT's field names, unsigned (AT does not
// sign its callbacks: the URLs carry our secret token).
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { formRecord, readBody } from "./http.ts";
import type { AddressInfo, Socket } from "node:net";
import type { Money, SignedRequest, WebhookSink } from "../providers/types.ts";
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

export interface RecordedAtRequest {
  method: string;
  path: string;
  /** The decoded form fields (POST) or query (GET). */
  params: Record<string, string>;
  /** Whether the api key and username matched. */
  authorized: boolean;
  /** The HTTP status answered, or null while the request hangs (no_answer). */
  status: number | null;
  at: Date;
}

export interface DeliveredAtWebhook {
  kind: "report" | "inbound";
  request: SignedRequest;
  /** Set when the sink threw. */
  error?: string;
}

export interface AfricasTalkingEmulator {
  /** The origin to point the SDK at, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly requests: RecordedAtRequest[];
  /** Every delivery report and inbound message handed to `deliver`, in order. */
  readonly webhooks: DeliveredAtWebhook[];
  message(messageId: string): EmulatedAtMessage | undefined;
  messages(): EmulatedAtMessage[];
  balance(): Money;
  /** Resolves when every scheduled report and inbound message has been handed over. */
  idle(): Promise<void>;
  /** Ends hanging requests, cancels pending reports and stops the server. */
  close(): Promise<void>;
}

// ---- decimal arithmetic in fixed-point bigint (4 decimals, as AT writes amounts) ----

const SCALE = 4;
const ONE = 10n ** BigInt(SCALE);

function toUnits(amount: string): bigint {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new Error(`not a decimal amount: ${amount}`);
  const frac = (m[3] ?? "").padEnd(SCALE, "0").slice(0, SCALE);
  const v = BigInt(m[2]!) * ONE + BigInt(frac);
  return m[1] ? -v : v;
}

function fromUnits(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const s = a.toString().padStart(SCALE + 1, "0");
  return `${neg ? "-" : ""}${s.slice(0, -SCALE)}.${s.slice(-SCALE)}`;
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
  const webhooks: DeliveredAtWebhook[] = [];
  const messages = new Map<string, EmulatedAtMessage>();
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const timers = new Map<NodeJS.Timeout, () => void>();
  const pending = new Set<Promise<void>>();
  let closed = false;

  /** Resolves true after `ms`, or false at once if the emulator closes first. */
  function wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (closed) return resolve(false);
      const t = setTimeout(() => {
        timers.delete(t);
        resolve(!closed);
      }, ms);
      timers.set(t, () => resolve(false));
    });
  }

  async function hand(kind: DeliveredAtWebhook["kind"], url: string, fields: Record<string, string>): Promise<void> {
    const request: SignedRequest = {
      method: "POST",
      url,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    };
    const entry: DeliveredAtWebhook = { kind, request };
    webhooks.push(entry);
    try {
      await opts.deliver(request);
    } catch (e) {
      entry.error = e instanceof Error ? e.message : String(e);
    }
  }

  /** Reports (and the STOP reply) for one accepted message, in order, each after reportDelayMs. */
  function schedule(m: EmulatedAtMessage, networkCode: string): void {
    const run = async (): Promise<void> => {
      const report = async (status: AtReportStatus, failureReason?: string): Promise<boolean> => {
        if (!(await wait(reportDelayMs))) return false;
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
        if (!(await wait(reportDelayMs))) return;
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
    };
    const p = run().finally(() => pending.delete(p));
    pending.add(p);
  }

  function send(res: ServerResponse, rec: RecordedAtRequest, status: number, body: string, type: string): void {
    rec.status = status;
    res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
    res.end(body);
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
    if (outcomes.includes("no_answer")) {
      // Never answers: the caller's timeout decides. close() ends it.
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
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
    for (const a of accepted) schedule(a.m, a.networkCode);
    if (responseDelayMs <= 0) return json(res, rec, 201, answer);
    hanging.add(res);
    res.on("close", () => hanging.delete(res));
    void wait(responseDelayMs).then((ok) => {
      if (ok && !res.destroyed) json(res, rec, 201, answer);
    });
  }

  const server = createServer((req, res) => {
    void (async () => {
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
    })().catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("Internal Server Error");
      }
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    webhooks,
    message: (id) => messages.get(id),
    messages: () => [...messages.values()],
    balance: () => ({ amount: fromUnits(balanceUnits), currency: balanceCurrency }),
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const [t, cancel] of timers) {
        clearTimeout(t);
        cancel();
      }
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await done;
      await Promise.all([...pending]);
    },
  };
}
