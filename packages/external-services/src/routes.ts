// The provider webhooks on the HTTP host (the catalog entry's routes): Twilio status callbacks and
// inbound messages, WhatsApp's verify handshake and notifications, Africa's Talking delivery
// reports and inbound SMS under the secret path token. Each request goes to the one handler
// (webhooks/handle.ts): verified, then applied; forged ones answer 401/403 and write nothing.
// Not audited per request (the providers' high-volume callbacks; every change they make is a
// message event or a consent event with its source). In sandbox mode the host's own emulators
// post here over HTTP: the banner tells the process's messaging service where the host listens.
import type { HttpRequest, HttpResponse, HttpRoute, RouteContext } from "@marketsage/core";
import { poolOf, type Db } from "@marketsage/db";
import pg from "pg";
import { pgTransactions, type TxRunner } from "./webhooks/pg-tx.ts";
import { describeConfig } from "./config.ts";
import { messagingFor } from "./service.ts";
import { handleWebhook } from "./webhooks/handle.ts";
import { handleTracking } from "./tracking/handle.ts";
import { trackingKey } from "./tracking/index.ts";

type Env = Readonly<Record<string, string | undefined>>;

const WEBHOOK_BODY_LIMIT = 256 * 1024;
/**
 * Connections for applying reports on the host, beside the tools' pool (providers send bursts: a
 * campaign's reports arrive together; measured: 5 connections capped ingestion at ~940 reports/s).
 */
const WEBHOOK_POOL_SIZE = 10;
const reportPools = new WeakMap<Db, TxRunner>();

function reportsOn(db: Db): TxRunner | undefined {
  let r = reportPools.get(db);
  const base = poolOf(db);
  if (!r && base) {
    // The same connection settings (statement timeout included); idle connections never hold the process.
    const pool = new pg.Pool({ ...base.options, max: WEBHOOK_POOL_SIZE, allowExitOnIdle: true });
    pool.on("error", () => undefined); // an idle connection dropped by the server is not the host's crash
    r = pgTransactions(pool);
    reportPools.set(db, r);
  }
  return r;
}

/**
 * Campaign tracking links (tracking/handle.ts): open pixel, click redirect, unsubscribe page and
 * RFC 8058 one-click POST. Small bodies; a per-address limit generous enough for a mobile
 * carrier's shared addresses (many readers behind one NAT).
 */
export function trackingRoutes(env: Env): readonly HttpRoute[] {
  const handle = async (req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> => {
    const db = ctx.runtime.db;
    const out = await handleTracking(db, await trackingKey(db, env), { method: req.method, path: req.path, body: req.body.toString("utf8") }, {
      now: ctx.runtime.now(), transaction: (fn) => db.$transaction((tx) => fn(tx)),
    });
    return { status: out.status, headers: out.headers, body: out.body };
  };
  const route = (method: "GET" | "POST", path: string): HttpRoute => ({ method, path, bodyLimitBytes: 4096, rateLimitPerMinute: 1200, handle });
  return [route("GET", "/o/*"), route("GET", "/c/*"), route("GET", "/u/*"), route("POST", "/u/*")];
}

/** Every route external-services adds to the HTTP host. */
export function routes(env: Env): readonly HttpRoute[] {
  return [...webhookRoutes(env), ...trackingRoutes(env)];
}

export function webhookRoutes(env: Env): readonly HttpRoute[] {
  const handle = async (req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> => {
    const svc = messagingFor(ctx.runtime.db, { env, log: ctx.log });
    const out = await handleWebhook(ctx.runtime.db, svc.secrets, { method: req.method, path: req.path, query: req.query, headers: req.headers, body: req.body.toString("utf8"), url: req.url }, { now: ctx.runtime.now(), log: ctx.log, reports: reportsOn(ctx.runtime.db) });
    return { status: out.status, headers: { "content-type": out.contentType ?? "text/plain; charset=utf-8", "cache-control": "no-store" }, body: out.body };
  };
  const route = (method: "GET" | "POST", path: string, banner?: HttpRoute["banner"]): HttpRoute => ({
    method, path, bodyLimitBytes: WEBHOOK_BODY_LIMIT, rateLimitPerMinute: 0, handle, ...(banner ? { banner } : {}),
  });
  return [
    route("POST", "/webhooks/twilio/status", async (baseUrl, ctx) => {
      const svc = messagingFor(ctx.runtime.db, { env, log: ctx.log });
      svc.useHost(baseUrl);
      const pub = svc.config.publicUrl ?? baseUrl;
      const at = svc.secrets.africasTalkingToken;
      return [
        "Provider webhooks (register these with each live provider; sandbox emulators post here by themselves):",
        `  Twilio:   status callback ${pub}/webhooks/twilio/status (sent per message), "A message comes in" ${pub}/webhooks/twilio/inbound`,
        `  WhatsApp: callback URL ${pub}/webhooks/whatsapp (verify token WHATSAPP_VERIFY_TOKEN)`,
        `  Africa's Talking: delivery reports ${pub}/webhooks/africastalking/${at && svc.config.africastalking.mode === "live" ? "<AFRICASTALKING_WEBHOOK_TOKEN>" : (at ?? "<token>")}/delivery, incoming messages …/inbound`,
        ...describeConfig(svc.config).map((l) => `  ${l}`),
      ];
    }),
    route("POST", "/webhooks/twilio/inbound"),
    route("GET", "/webhooks/whatsapp"),
    route("POST", "/webhooks/whatsapp"),
    route("POST", "/webhooks/africastalking/*"),
  ];
}
