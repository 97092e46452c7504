// The collector over real HTTP on the host: POST /collect with a site key (sendBeacon's text/plain
// body), CORS and its preflight, per-event rejections beside stored events, duplicates, size and
// count limits, unknown / revoked keys, disallowed origins, rate limits with Retry-After (per site
// key and per client address), and GET /collect.js.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { useTestDatabase } from "@marketsage/core/testing";
import { DEMO_ORGS, demoSiteKey } from "@marketsage/db";
import { startHttpHost, type StartedHost } from "@marketsage/http";
import { collectorRoutes, originAllowed } from "../src/collector/routes.ts";

const tdb = useTestDatabase();
const ORG = DEMO_ORGS[0]!;
const KEY = demoSiteKey(ORG);
const ORIGIN = "http://localhost:5173";
const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
let host: StartedHost;
let limited: StartedHost;
let perAddress: StartedHost;
let sql: pg.Client;

const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: tdb.url, MCP_HTTP_PORT: "0", LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent", ...extra });

beforeAll(async () => {
  host = await startHttpHost(env(), { extraRoutes: collectorRoutes(env()) });
  const low = env({ LEADPULSE_COLLECT_PER_KEY_PER_MINUTE: "3", LEADPULSE_COLLECT_PER_ADDRESS_PER_MINUTE: "0" });
  limited = await startHttpHost(low, { extraRoutes: collectorRoutes(low) });
  const addr = env({ LEADPULSE_COLLECT_PER_KEY_PER_MINUTE: "0", LEADPULSE_COLLECT_PER_ADDRESS_PER_MINUTE: "2" });
  perAddress = await startHttpHost(addr, { extraRoutes: collectorRoutes(addr) });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await host?.close();
  await limited?.close();
  await perAddress?.close();
});

let n = 0;
const eid = () => `coll_${String(++n).padStart(8, "0")}`;
const pageview = (visitor: string, url = "https://shop.test/") => ({ type: "pageview", id: eid(), ts: Date.now() - 1_000, visitor_id: visitor, url });

async function post(body: unknown, opts: { key?: string | null; origin?: string | null; type?: string; base?: StartedHost } = {}) {
  const key = opts.key === undefined ? KEY : opts.key;
  const url = `${(opts.base ?? host).url}/collect${key === null ? "" : `?key=${encodeURIComponent(key)}`}`;
  const headers: Record<string, string> = { "content-type": opts.type ?? "text/plain;charset=UTF-8", "user-agent": UA };
  if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
  const res = await fetch(url, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

const countFor = async (visitor: string) =>
  (await sql.query(`select count(*)::int n from touchpoints t join visitors v on v.id = t.visitor_id where v.organization_id = $1 and v.fingerprint = $2`, [ORG.id, visitor])).rows[0].n as number;

describe("POST /collect", () => {
  it("stores a sendBeacon batch (text/plain) and answers with CORS for the allowed origin", async () => {
    const r = await post({ events: [pageview("web_visitor_1"), pageview("web_visitor_1", "https://shop.test/pricing")], context: { tz: "Africa/Lagos" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 2, duplicates: 0, rejected: [] });
    expect(r.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(await countFor("web_visitor_1")).toBe(2);
    const v = (await sql.query(`select device::text, browser, trim(country) as country, is_bot from visitors where organization_id = $1 and fingerprint = 'web_visitor_1'`, [ORG.id])).rows[0];
    expect(v).toEqual({ device: "DESKTOP", browser: "Chrome", country: "NG", is_bot: false });
  });

  it("keeps the valid events of a batch and lists the others' problems; a retry stores nothing twice", async () => {
    const good = pageview("web_visitor_2");
    const body = { events: [good, { type: "pageview", id: eid(), ts: Date.now(), visitor_id: "web_visitor_2", url: "ftp://x" }, { ...good }] };
    const r = await post(body);
    expect(r.status).toBe(200);
    expect(r.body.stored).toBe(1);
    expect(r.body.rejected.map((x: { index: number }) => x.index)).toEqual([1, 2]);
    expect(r.body.rejected[0].errors.join()).toMatch(/url: not an absolute http\(s\) URL/);
    expect(r.body.rejected[1].errors.join()).toMatch(/duplicate id in this batch/);
    const again = await post({ events: [good] });
    expect(again.body).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await countFor("web_visitor_2")).toBe(1);
  });

  it("application/json works too; other content types are refused", async () => {
    expect((await post({ events: [pageview("web_visitor_3")] }, { type: "application/json" })).status).toBe(200);
    const r = await post({ events: [pageview("web_visitor_3")] }, { type: "application/x-www-form-urlencoded" });
    expect(r.status).toBe(415);
    expect(r.body.error).toMatch(/text\/plain/);
  });

  it("refuses whole requests that are not a batch: not JSON, too many events, too large", async () => {
    expect((await post("not json")).status).toBe(400);
    const many = await post({ events: Array.from({ length: 101 }, () => pageview("web_visitor_4")) });
    expect(many.status).toBe(413);
    expect(many.body.error).toMatch(/101 events; the limit is 100/);
    const big = await post({ events: [{ ...pageview("web_visitor_4"), title: "x".repeat(70_000) }] });
    expect(big.status).toBe(413);
    const none = await post({ events: [{ type: "pageview" }] });
    expect(none.status).toBe(400);
    expect(none.body.error).toMatch(/No event in the batch is valid/);
    expect(await countFor("web_visitor_4")).toBe(0);
  });

  it("refuses a missing, unknown or revoked site key, and origins not on the key's list", async () => {
    expect((await post({ events: [pageview("web_visitor_5")] }, { key: null })).status).toBe(400);
    expect((await post({ events: [pageview("web_visitor_5")] }, { key: "ms_site_nope" })).status).toBe(401);
    const bad = await post({ events: [pageview("web_visitor_5")] }, { origin: "https://evil.test" });
    expect(bad.status).toBe(403);
    expect(bad.body.error).toMatch(/Origin https:\/\/evil\.test is not allowed/);
    // The page may read the refusal (the snippet then drops the events instead of retrying them).
    expect(bad.headers.get("access-control-allow-origin")).toBe("https://evil.test");
    expect((await post({ events: [pageview("web_visitor_5")] }, { origin: null })).status).toBe(403);
    await sql.query(`insert into site_keys (id, organization_id, public_key, name, allowed_origins, revoked_at) values (gen_random_uuid(), $1, 'ms_site_revoked_1', 'old', '{*}', now())`, [ORG.id]);
    const revoked = await post({ events: [pageview("web_visitor_5")] }, { key: "ms_site_revoked_1" });
    expect(revoked.status).toBe(403);
    expect(revoked.body.error).toMatch(/revoked/);
    expect(await countFor("web_visitor_5")).toBe(0);
  });

  it("answers the CORS preflight for an allowed origin only", async () => {
    const pre = (origin: string) => fetch(`${host.url}/collect?key=${KEY}`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    const ok = await pre("http://127.0.0.1:8080");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:8080");
    expect(ok.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect((await pre("https://evil.test")).status).toBe(403);
  });

  it("limits requests per site key with Retry-After", async () => {
    // Its own key: the limit's window is shared by every host on the database (the other host used the demo key).
    await sql.query(`insert into site_keys (id, organization_id, public_key, name, allowed_origins) values (gen_random_uuid(), $1, 'ms_site_limited_1', 'limited', '{http://localhost:*}')`, [ORG.id]);
    const statuses: number[] = [];
    let retry: string | null = null;
    for (let i = 0; i < 5; i++) {
      const r = await post({ events: [pageview("web_visitor_6")] }, { base: limited, key: "ms_site_limited_1" });
      statuses.push(r.status);
      if (r.status === 429) retry = r.headers.get("retry-after");
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(retry)).toBeGreaterThan(0);
    const limitedAnswer = await post({ events: [pageview("web_visitor_6")] }, { base: limited, key: "ms_site_limited_1" });
    expect(limitedAnswer.headers.get("access-control-expose-headers")).toMatch(/Retry-After/i);
    expect(await countFor("web_visitor_6")).toBe(3);
  });
});

describe("per client address", () => {
  it("limits requests per address with Retry-After, whatever the key", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post({ events: [pageview("web_visitor_7")] }, { base: perAddress })).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const r = await post({ events: [pageview("web_visitor_7")] }, { base: perAddress });
    expect(r.body.error).toMatch(/from this address; retry after \d+ s/);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await countFor("web_visitor_7")).toBe(2);
  });
});

describe("GET /collect.js", () => {
  it("serves the snippet as JavaScript with an ETag (304 when unchanged)", async () => {
    const r = await fetch(`${host.url}/collect.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/application\/javascript/);
    const js = await r.text();
    expect(js).toMatch(/collect\?key=/);
    const again = await fetch(`${host.url}/collect.js`, { headers: { "if-none-match": r.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });
});

describe("originAllowed", () => {
  it("exact origins, any port with :*, and * for any", () => {
    expect(originAllowed("https://shop.test", ["https://shop.test"])).toBe(true);
    expect(originAllowed("https://shop.test", ["https://shop.test/"])).toBe(true);
    expect(originAllowed("https://shop.test.evil", ["https://shop.test"])).toBe(false);
    expect(originAllowed("http://shop.test", ["https://shop.test"])).toBe(false);
    expect(originAllowed("http://localhost:3000", ["http://localhost:*"])).toBe(true);
    expect(originAllowed("http://localhost", ["http://localhost:*"])).toBe(true);
    expect(originAllowed("http://localhost.evil:3000", ["http://localhost:*"])).toBe(false);
    expect(originAllowed("http://localhost:3000x", ["http://localhost:*"])).toBe(false);
    expect(originAllowed("https://anything.test", ["*"])).toBe(true);
  });
});
