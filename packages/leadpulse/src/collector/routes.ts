// The website collector on the HTTP host: POST /collect (events from the snippet, sendBeacon-
// compatible: a text/plain JSON body, the site key in the query string), its CORS preflight, and
// GET /collect.js (the snippet). Per request: the body is parsed and each event checked (whole-
// request problems refuse it; otherwise valid events are stored and the others listed with their
// problems); the site key must exist, be unrevoked and allow the request's Origin; limits apply per
// client address (the host) and per site key (here); then the one ingestion path stores the events
// in one transaction. Not audited per request (a public, high-volume, write-only endpoint); the
// audit log records track_events calls.
import { createHash } from "node:crypto";
import { createKeyedLimiter, type HttpRequest, type HttpResponse, type HttpRoute, type KeyedLimiter, type RouteContext } from "@marketsage/core";
import { poolOf } from "@marketsage/db";
import type pg from "pg";
import { parseBatch } from "./batch.ts";
import { MAX_BYTES } from "./events.ts";
import { countryOfHeaders, countryOfTimeZone } from "./geo.ts";
import { snippetSource, snippetTag } from "./snippet.ts";
import { ingestEvents, type SqlRunner } from "../ingest/ingest.ts";

export interface CollectorSettings {
  /** Requests per minute per client address (0 = none). */
  perAddressPerMinute: number;
  /** Requests per minute per site key, across replicas (0 = none). */
  perKeyPerMinute: number;
  /** Country headers are read only behind a trusted proxy. */
  trustProxy: boolean;
}

export const DEFAULT_COLLECTOR_SETTINGS: CollectorSettings = { perAddressPerMinute: 3_000, perKeyPerMinute: 30_000, trustProxy: false };

const intOf = (v: string | undefined, fallback: number, name: string): number => {
  if (v === undefined || v.trim() === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number ≥ 0 (requests per minute; 0 turns the limit off), not "${v}"`);
  return n;
};

export function collectorSettings(env: Readonly<Record<string, string | undefined>>): CollectorSettings {
  return {
    perAddressPerMinute: intOf(env.LEADPULSE_COLLECT_PER_ADDRESS_PER_MINUTE, DEFAULT_COLLECTOR_SETTINGS.perAddressPerMinute, "LEADPULSE_COLLECT_PER_ADDRESS_PER_MINUTE"),
    perKeyPerMinute: intOf(env.LEADPULSE_COLLECT_PER_KEY_PER_MINUTE, DEFAULT_COLLECTOR_SETTINGS.perKeyPerMinute, "LEADPULSE_COLLECT_PER_KEY_PER_MINUTE"),
    trustProxy: /^(1|true|yes|on)$/i.test(env.MCP_HTTP_TRUST_PROXY ?? ""),
  };
}

/** Does an allow-list entry admit the Origin? Entries: "*" (any), an exact origin, or "scheme://host:*" (any port). */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  const o = origin.trim().toLowerCase().replace(/\/$/, "");
  for (const raw of allowed) {
    const a = raw.trim().toLowerCase().replace(/\/$/, "");
    if (a === "*" || a === o) return true;
    if (a.endsWith(":*")) {
      const base = a.slice(0, -2);
      if (o === base || (o.startsWith(`${base}:`) && /^\d+$/.test(o.slice(base.length + 1)))) return true;
    }
  }
  return false;
}

interface SiteKeyRow {
  organization_id: string;
  default_country: string;
  allowed_origins: string[];
  revoked_at: Date | null;
}

const header = (req: HttpRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  body: JSON.stringify(body),
});

/** The page may read every answer, refusals included (so the snippet drops what will never be
 *  accepted instead of retrying it), and Retry-After (so it waits as long as asked). */
function corsHeaders(origin: string | undefined): Record<string, string> {
  return origin && origin !== "null" ? { "access-control-allow-origin": origin, "access-control-expose-headers": "Retry-After", vary: "Origin" } : {};
}

/** The site key as logs may show it: never the key itself. */
const keyTag = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 12);

/** How long a site key's row (or its absence) is reused: a revoked key stops working within this. */
export const SITE_KEY_CACHE_MS = 10_000;
const MAX_CACHED_KEYS = 10_000;

/** Site keys by public key, cached per process for SITE_KEY_CACHE_MS (unknown keys too: a flood of
 *  made-up keys does not reach the database on every request). */
function siteKeys(pool: () => pg.Pool) {
  const cache = new Map<string, { row: SiteKeyRow | undefined; until: number }>();
  return async (key: string): Promise<SiteKeyRow | undefined> => {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.row;
    const { rows } = await pool().query<SiteKeyRow>(
      `select k.organization_id::text, trim(o.default_country) as default_country, k.allowed_origins, k.revoked_at
         from site_keys k join organizations o on o.id = k.organization_id where k.public_key = $1`,
      [key],
    );
    if (cache.size >= MAX_CACHED_KEYS) cache.clear();
    cache.set(key, { row: rows[0], until: now + SITE_KEY_CACHE_MS });
    return rows[0];
  };
}

/** The key's checks shared by the preflight and the POST: a response when refused, else the key's row. */
async function admit(findKey: (key: string) => Promise<SiteKeyRow | undefined>, req: HttpRequest): Promise<{ refused: HttpResponse } | { site: SiteKeyRow; key: string; origin: string | undefined }> {
  const key = req.query.get("key")?.trim();
  const origin = header(req, "origin");
  if (!key) return { refused: json(400, { error: "Give the site key: POST /collect?key=<site key> (the snippet's data-site-key)." }) };
  const site = await findKey(key);
  if (!site) return { refused: json(401, { error: "Unknown site key. Check data-site-key on the snippet tag." }) };
  if (site.revoked_at) return { refused: json(403, { error: "This site key has been revoked. Use the organization's current site key." }) };
  if (origin === undefined || origin === "null") {
    if (!site.allowed_origins.includes("*")) {
      return { refused: json(403, { error: "No Origin header: the collector takes events from web pages on the key's allowed origins (server-side integrations use the track_events tool)." }) };
    }
  } else if (!originAllowed(origin, site.allowed_origins)) {
    return { refused: json(403, { error: `Origin ${origin} is not allowed for this site key. Add it to the key's allowed origins.` }) };
  }
  return { site, key, origin: origin === "null" ? undefined : origin };
}

function pgRunner(client: pg.PoolClient): SqlRunner {
  return { query: async <T>(text: string, params: unknown[]) => (await client.query(text, params)).rows as T[] };
}

/** The routes, with settings from the host's environment (the catalog entry passes it). */
export function collectorRoutes(env: Readonly<Record<string, string | undefined>>): HttpRoute[] {
  const settings = collectorSettings(env);
  let limiter: KeyedLimiter | undefined;
  let current: pg.Pool | undefined;
  const poolFor = (ctx: RouteContext): pg.Pool => {
    const pool = poolOf(ctx.runtime.db);
    if (!pool) throw new Error("the runtime's database pool is closed");
    return (current = pool);
  };
  const findKey = siteKeys(() => current!);

  /** Per client address and per site key, on the shared store with points reserved in blocks (no
   *  database write per request, no hot row): seconds to wait, or null. The limit is part of the
   *  store's key: hosts configured alike share one window. */
  async function overLimit(pool: pg.Pool, ip: string, key: string): Promise<{ wait: number; what: string } | null> {
    limiter ??= createKeyedLimiter(pool);
    if (settings.perAddressPerMinute > 0) {
      const wait = await limiter.consume(`collect_ip:${settings.perAddressPerMinute}:${ip}`, settings.perAddressPerMinute);
      if (wait !== null) return { wait, what: "from this address" };
    }
    if (settings.perKeyPerMinute > 0) {
      const wait = await limiter.consume(`collect_key:${settings.perKeyPerMinute}:${keyTag(key)}`, settings.perKeyPerMinute);
      if (wait !== null) return { wait, what: "for this site key" };
    }
    return null;
  }

  async function collect(req: HttpRequest, ctx: RouteContext): Promise<HttpResponse> {
    const pool = poolFor(ctx);
    const admitted = await admit(findKey, req);
    if ("refused" in admitted) {
      const r = admitted.refused;
      return { ...r, headers: { ...r.headers, ...corsHeaders(header(req, "origin")) } };
    }
    const { site, key, origin } = admitted;
    const cors = corsHeaders(origin);
    const limited = await overLimit(pool, req.ip, key);
    if (limited) {
      return json(429, { error: `Too many requests ${limited.what}; retry after ${limited.wait} s.` }, { ...cors, "retry-after": String(limited.wait) });
    }
    const type = (header(req, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "" && type !== "text/plain" && type !== "application/json") {
      return json(415, { error: `Content-Type ${type} is not accepted: send the JSON body as text/plain (sendBeacon) or application/json.` }, cors);
    }
    const parsed = parseBatch(req.body, { now: ctx.runtime.now() });
    if (!parsed.ok) return json(parsed.status, { error: parsed.error }, cors);
    if (parsed.events.length === 0 && parsed.rejected.length > 0) {
      return json(400, { error: "No event in the batch is valid.", stored: 0, duplicates: 0, rejected: parsed.rejected }, cors);
    }
    const country = (settings.trustProxy ? countryOfHeaders(req.headers) : null) ?? countryOfTimeZone(parsed.context.tz);
    const ua = header(req, "user-agent") ?? "";
    const client = await pool.connect();
    let result;
    try {
      await client.query("begin");
      result = await ingestEvents(pgRunner(client), { id: site.organization_id, defaultCountry: site.default_country }, { userAgent: ua, country }, parsed.events);
      await client.query("commit");
    } catch (e) {
      await client.query("rollback").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
    ctx.log.debug({ site: keyTag(key), stored: result.stored, duplicates: result.duplicates, rejected: parsed.rejected.length }, "collect");
    return json(200, {
      stored: result.stored,
      duplicates: result.duplicates,
      page_leaves: result.page_leaves,
      identified: result.identified.map((i) => ({ visitor_id: i.visitor_id, linked: i.contact_id !== null })),
      rejected: parsed.rejected,
    }, cors);
  }

  const snippet = snippetSource();
  const etag = `"${createHash("sha256").update(snippet).digest("hex").slice(0, 16)}"`;

  return [
    // The per-address limit is the handler's (block-reserved like the per-key one), not the host's per-request row.
    { method: "POST", path: "/collect", bodyLimitBytes: MAX_BYTES, handle: collect },
    {
      method: "OPTIONS",
      path: "/collect",
      async handle(req, ctx) {
        poolFor(ctx);
        const admitted = await admit(findKey, req);
        if ("refused" in admitted) return { ...admitted.refused, status: admitted.refused.status === 400 ? 400 : 403 };
        return {
          status: 204,
          headers: {
            ...corsHeaders(admitted.origin),
            "access-control-allow-methods": "POST, OPTIONS",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "86400",
          },
        };
      },
    },
    {
      method: "GET",
      path: "/collect.js",
      async handle(req): Promise<HttpResponse> {
        if (header(req, "if-none-match") === etag) return { status: 304, headers: { etag } };
        return {
          status: 200,
          headers: { "content-type": "application/javascript; charset=utf-8", "cache-control": "public, max-age=3600", etag, "x-content-type-options": "nosniff" },
          body: snippet,
        };
      },
      async banner(baseUrl, ctx) {
        // The demo organizations' keys, when this database has them (a production database has none).
        const { rows } = await poolFor(ctx).query<{ public_key: string; name: string }>(
          `select k.public_key, o.name from site_keys k join organizations o on o.id = k.organization_id
            where k.public_key like 'ms_site\\_demo\\_%' and k.revoked_at is null order by o.name`,
        );
        if (!rows.length) return [];
        return [
          "Website collector: put this tag on a page served from localhost or 127.0.0.1 (any port) to send its visits to the demo organization:",
          ...rows.map((r) => `  ${r.name}: ${snippetTag(baseUrl, r.public_key)}`),
        ];
      },
    },
  ];
}
