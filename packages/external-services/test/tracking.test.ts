// Campaign tracking: signed tokens, the links added to each campaign message, and what the HTTP
// host answers on them — checked on the email as the sandbox SMTP server received it, on a real
// HTTP host (its routes, with the bulk worker inside it and the sandbox's simulated readers going
// over HTTP), and by SQL over the base tables (message events, consent events, contacts).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { DEMO_ORGS, demoApiKey } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import { createLogger, type Runtime } from "@marketsage/core";
import { startHttpHost, type StartedHost } from "@marketsage/http";
import { externalServicesServer } from "../src/server.ts";
import { closeMessagingFor, IN_PROCESS_BASE, messagingFor } from "../src/service.ts";
import { startWorker, type RunningWorker } from "../src/bulk/run.ts";
import { campaignUrls, trackMessage } from "../src/tracking/links.ts";
import { signToken, trackingUrl, verifyToken } from "../src/tracking/token.ts";
import { engagementRates, plannedEngagement } from "../src/tracking/simulate.ts";
import { waitUntil } from "./bulk-support.ts";

const SECRET = "tracking-test-secret-0123456789abcdef";
const KEY = Buffer.from(SECRET, "utf8");
process.env.MESSAGING_SANDBOX_REPORT_DELAY_MS = "5";
process.env.MESSAGING_SEND_TIMEOUT_MS = "2000";
process.env.MESSAGING_TRACKING_SECRET = SECRET;
// Only the documented test addresses engage (opens@, clicks@, unsubscribes@): exact counts.
process.env.MESSAGING_SANDBOX_ENGAGEMENT = "open=0,click=0,unsubscribe=0";
const BULK_ENV = { BULK_RATE_SMTP: "400", BULK_JOB_EXPIRE_SECONDS: "30", BULK_MAINTENANCE_SECONDS: "2", BULK_CHUNK_SIZE: "50", BULK_WAVE_SIZE: "25" };

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const B = DEMO_ORGS[1]!;
let sql: pg.Client;
const q = async <T = Record<string, unknown>>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];
const D = "sandbox.marketsage.test";
/** A zone where it is midday now (quiet hours never defer these tests). */
const NOON_ZONE = (() => {
  const off = ((12 - new Date().getUTCHours() + 36) % 24) - 12;
  return off === 0 ? "Etc/UTC" : `Etc/GMT${off > 0 ? "-" : "+"}${Math.abs(off)}`;
})();

beforeAll(async () => {
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
});

/** Email contacts of an organization, subscribed to email, in the noon zone. */
async function emailContacts(orgId: string, locals: string[]): Promise<string[]> {
  const rows = locals.map((l) => ({ id: randomUUID(), email: `${l}@${D}` }));
  await sql.query(
    `insert into contacts (id, organization_id, email, first_name, country, time_zone)
     select x.id, $2, x.email, 'Amina', 'KE', $3 from json_to_recordset($1::json) as x(id uuid, email text)`,
    [JSON.stringify(rows), orgId, NOON_ZONE],
  );
  await sql.query(
    `insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at)
     select $1, c, 'EMAIL', 'SUBSCRIBED', 'test', now() - interval '1 day' from unnest($2::uuid[]) c`,
    [orgId, rows.map((r) => r.id)],
  );
  return rows.map((r) => r.id);
}

const HTML = `<html><body><h1>Hi {{first_name}}</h1><p><a href="https://shop.example.com/sale?utm_source=email&amp;utm_campaign=nov">Shop the sale</a>
 or <a href='https://shop.example.com/new'>see what is new</a>; <a href="https://shop.example.com/u/{{first_name}}">your page</a>, <a href="mailto:help@shop.example.com">write to us</a>.</p></body></html>`;
const TEXT = "Hi {{first_name}}, shop the sale: https://shop.example.com/sale?utm_source=email&utm_campaign=nov. New: https://shop.example.com/new!";

describe("tokens and links (pure)", () => {
  const msg = randomUUID();
  it("a token names its message (and link) and verifies only with its key, kind and bytes", () => {
    const t = signToken(KEY, { kind: "click", messageId: msg, link: 3 });
    expect(t).toMatch(/^[A-Za-z0-9_-]{42}$/);
    expect(verifyToken(KEY, t)).toEqual({ kind: "click", messageId: msg, link: 3 });
    expect(signToken(KEY, { kind: "open", messageId: msg })).toHaveLength(39);
    expect(verifyToken(Buffer.from("another key of at least thirty-two chars"), t)).toBeNull();
    const flipped = t.slice(0, 10) + (t[10] === "A" ? "B" : "A") + t.slice(11);
    expect(verifyToken(KEY, flipped)).toBeNull();
    expect(verifyToken(KEY, t.slice(0, -1))).toBeNull();
    expect(verifyToken(KEY, "not a token")).toBeNull();
  });

  it("the campaign's URLs: text and hrefs, entities decoded, sentence punctuation and merge-field URLs left out", () => {
    expect(campaignUrls([TEXT, HTML])).toEqual(["https://shop.example.com/sale?utm_source=email&utm_campaign=nov", "https://shop.example.com/new"]);
    expect(campaignUrls(["(see https://en.wikipedia.org/wiki/Lagos_(disambiguation))"])).toEqual(["https://en.wikipedia.org/wiki/Lagos_(disambiguation)"]);
  });

  it("email: links become signed click links, a pixel, the unsubscribe footer and RFC 8058 headers; SMS: short links only", () => {
    const links = [{ idx: 0, url: "https://shop.example.com/sale?utm_source=email&utm_campaign=nov" }, { idx: 1, url: "https://shop.example.com/new" }];
    const ctx = { baseUrl: "https://t.example.org", key: KEY };
    const html = HTML.replace("{{first_name}}", "Amina").replace("/u/{{first_name}}", "/u/Amina");
    const t = trackMessage(ctx, { messageId: msg, channel: "EMAIL", text: TEXT, html, links, shortenLinks: true });
    const unsub = trackingUrl("https://t.example.org", KEY, { kind: "unsubscribe", messageId: msg });
    expect(t.headers).toEqual({ "List-Unsubscribe": `<${unsub}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" });
    expect(t.html).toContain(`href="${trackingUrl("https://t.example.org", KEY, { kind: "click", messageId: msg, link: 0 })}"`);
    expect(t.html).toContain(`href='${trackingUrl("https://t.example.org", KEY, { kind: "click", messageId: msg, link: 1 })}'`);
    expect(t.html).toContain('href="https://shop.example.com/u/Amina"'); // not a campaign link: as written
    expect(t.html).toContain('href="mailto:help@shop.example.com"');
    expect(t.html).toContain(`src="${trackingUrl("https://t.example.org", KEY, { kind: "open", messageId: msg })}"`);
    expect(t.html).toMatch(new RegExp(`Unsubscribe</a></p><img [^>]+></body></html>$`));
    expect(t.html).not.toContain("shop.example.com/sale");
    expect(t.text).toContain(`${trackingUrl("https://t.example.org", KEY, { kind: "click", messageId: msg, link: 0 })}. New: `);
    expect(t.text!.endsWith(`--\nUnsubscribe: ${unsub}`)).toBe(true);
    // Without track_links: the unsubscribe link and headers stay, links and pixel do not.
    const plain = trackMessage(ctx, { messageId: msg, channel: "EMAIL", text: TEXT, html, links, shortenLinks: false });
    expect(plain.html).toContain("https://shop.example.com/sale?utm_source=email&amp;utm_campaign=nov");
    expect(plain.html).not.toContain("/o/");
    expect(plain.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    const sms = trackMessage(ctx, { messageId: msg, channel: "SMS", text: "Sale: https://shop.example.com/new", html: null, links, shortenLinks: true });
    expect(sms).toEqual({ text: `Sale: ${trackingUrl("https://t.example.org", KEY, { kind: "click", messageId: msg, link: 1 })}`, html: null, headers: {} });
  });

  it("simulated readers: the test addresses, and the same person the same way every run", () => {
    const r = engagementRates(undefined)!;
    expect(plannedEngagement(`clicks@${D}`, r)).toEqual({ open: true, click: true, unsubscribe: false });
    expect(plannedEngagement(`unsubscribes@${D}`, r)).toEqual({ open: false, click: false, unsubscribe: true });
    expect(engagementRates("off")).toBeNull();
    expect(() => engagementRates("open=2")).toThrow(/MESSAGING_SANDBOX_ENGAGEMENT/);
    const many = Array.from({ length: 4000 }, (_, i) => plannedEngagement(`reader${i}@example.com`, r));
    const share = (k: "open" | "click" | "unsubscribe") => many.filter((e) => e[k]).length / many.length;
    expect(share("open")).toBeGreaterThan(0.32);
    expect(share("open")).toBeLessThan(0.38);
    expect(share("click")).toBeGreaterThan(0.06);
    expect(share("click")).toBeLessThan(0.1);
    expect(many.every((e) => !e.click || e.open)).toBe(true);
    expect(plannedEngagement("reader7@example.com", r)).toEqual(many[7]);
  });
});

describe("in one process (a stdio server with its worker): the email as sent, and readers in-process", () => {
  let runtime: Runtime;
  let client: TestClient;
  let worker: RunningWorker;
  beforeAll(async () => {
    runtime = testRuntime(tdb.url);
    client = await connectTestClient({ server: externalServicesServer.name, tools: externalServicesServer.tools, runtime, apiKey: demoApiKey(A, "ADMIN") });
    worker = await startWorker({ databaseUrl: tdb.url, db: runtime.db, env: { ...process.env, ...BULK_ENV }, log: createLogger({ level: "warn" }) });
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.close();
    await closeMessagingFor(runtime.db);
    await runtime?.close();
  });

  it("each recipient's email carries its own links, pixel and one-click unsubscribe; opens, clicks and the unsubscribe are recorded", async () => {
    const ids = await emailContacts(A.id, ["opens", "clicks", "unsubscribes", "reader-a", "reader-b"]);
    const r = await client.client.callTool({
      name: "send_bulk",
      arguments: { contact_ids: ids, campaign: { name: "Tracked sale", channel: "EMAIL", subject: "The sale, {{first_name}}", html: HTML, text: TEXT }, idempotency_key: `trk-${randomUUID()}`, wait_seconds: 20 },
    });
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as { campaign_id: string; progress: { status: string } };
    expect(out.progress.status).toBe("completed");
    const svc = messagingFor(runtime.db);
    await svc.idle();
    const mails = svc.emulators.smtp!.messages.filter((m) => m.subject === "The sale, Amina");
    expect(mails).toHaveLength(5);
    const msgs = await q<{ id: string; recipient: string }>(`select id::text, recipient from messages where campaign_id = $1`, [out.campaign_id]);
    for (const m of mails) {
      const id = msgs.find((x) => x.recipient === m.envelope.to[0])!.id;
      const unsub = trackingUrl(IN_PROCESS_BASE, KEY, { kind: "unsubscribe", messageId: id });
      expect(m.listUnsubscribe).toBe(`<${unsub}>`);
      expect(m.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
      expect(m.html).toContain(trackingUrl(IN_PROCESS_BASE, KEY, { kind: "click", messageId: id, link: 0 }));
      expect(m.html).toContain(trackingUrl(IN_PROCESS_BASE, KEY, { kind: "open", messageId: id }));
      expect(m.html).toContain('href="https://shop.example.com/u/Amina"');
      expect(m.text).toContain(`Unsubscribe: ${unsub}`);
    }
    const links = await q<{ idx: number; url: string }>(`select idx, url from campaign_links where campaign_id = $1 order by idx`, [out.campaign_id]);
    expect(links).toEqual([{ idx: 0, url: "https://shop.example.com/sale?utm_source=email&utm_campaign=nov" }, { idx: 1, url: "https://shop.example.com/new" }]);
    await waitUntil("the readers' events", async () => (await q<{ n: number }>(`select count(*)::int as n from message_events where campaign_id = $1 and type in ('OPENED', 'CLICKED', 'UNSUBSCRIBED')`, [out.campaign_id]))[0]!.n >= 4, 40_000);
    const events = await q<{ recipient: string; type: string; detail: Record<string, unknown> }>(
      `select m.recipient, e.type::text as type, e.detail from message_events e join messages m on m.id = e.message_id
        where e.campaign_id = $1 and e.type in ('OPENED', 'CLICKED', 'UNSUBSCRIBED') order by m.recipient, e.type`,
      [out.campaign_id],
    );
    expect(events).toEqual([
      { recipient: `clicks@${D}`, type: "OPENED", detail: { via: "pixel" } },
      { recipient: `clicks@${D}`, type: "CLICKED", detail: { link: 0, url: "https://shop.example.com/sale?utm_source=email&utm_campaign=nov" } },
      { recipient: `opens@${D}`, type: "OPENED", detail: { via: "pixel" } },
      { recipient: `unsubscribes@${D}`, type: "UNSUBSCRIBED", detail: { via: "one-click" } },
    ]);
    const consent = await q<{ email: string; consent_email: string }>(`select email, consent_email::text from contacts where id = any($1::uuid[]) order by email`, [ids]);
    expect(consent.filter((c) => c.consent_email === "UNSUBSCRIBED").map((c) => c.email)).toEqual([`unsubscribes@${D}`]);
    const [ce] = await q<{ source: string; reason: string }>(`select source, reason from consent_events where contact_id = $1 and action = 'UNSUBSCRIBED'`, [ids[2]]);
    expect(ce).toEqual({ source: "unsubscribe_link", reason: "one-click unsubscribe (List-Unsubscribe-Post)" });
    const [stats] = await q<{ opened: number; clicked: number; unsubscribed: number }>(
      `select sum(opened)::int as opened, sum(clicked)::int as clicked, sum(unsubscribed)::int as unsubscribed from campaign_stats where campaign_id = $1`, [out.campaign_id]);
    expect(stats).toEqual({ opened: 2, clicked: 1, unsubscribed: 1 });
  });
});

describe("on the HTTP host: the routes, the worker inside the host, readers over HTTP", () => {
  let host: StartedHost;
  const env = () => ({
    DATABASE_URL: tdb.url, MCP_HTTP_PORT: "0", LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent", MARKETSAGE_WORKER: "1",
    MESSAGING_SANDBOX_REPORT_DELAY_MS: "5", MESSAGING_TRACKING_SECRET: SECRET, MESSAGING_SANDBOX_ENGAGEMENT: "open=0,click=0,unsubscribe=0", ...BULK_ENV,
  });
  let campaignId = "";
  let msgs: Array<{ id: string; recipient: string; contact_id: string }> = [];
  beforeAll(async () => {
    host = await startHttpHost(env());
    const ids = await emailContacts(B.id, ["clicks", "unsubscribes", "reader-c", "reader-d"]);
    const c = new Client({ name: "tracking-test", version: "0.0.0" });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${host.url}/mcp/external-services`), { requestInit: { headers: { authorization: `Bearer ${demoApiKey(B, "ADMIN")}` } } }));
    try {
      const r = await c.callTool({
        name: "send_bulk",
        arguments: { contact_ids: ids, campaign: { name: "Host sale", channel: "EMAIL", subject: "Sale", html: HTML, text: TEXT }, idempotency_key: `trk-${randomUUID()}`, wait_seconds: 20 },
      });
      expect(r.isError).toBeFalsy();
      campaignId = (r.structuredContent as { campaign_id: string }).campaign_id;
    } finally {
      await c.close();
    }
    msgs = await q(`select id::text, recipient, contact_id::text from messages where campaign_id = $1 order by recipient`, [campaignId]);
    expect(msgs).toHaveLength(4);
  });
  afterAll(async () => {
    await host?.close();
  });

  const msgOf = (local: string) => msgs.find((m) => m.recipient === `${local}@${D}`)!;
  const count = async (messageId: string, type: string) =>
    (await q<{ n: number }>(`select count(*)::int as n from message_events where message_id = $1 and type = $2::"MessageEventType"`, [messageId, type]))[0]!.n;

  it("the sandbox readers reached the host over HTTP: the click and the one-click unsubscribe are recorded", async () => {
    await waitUntil("the readers' events", async () => (await count(msgOf("clicks").id, "CLICKED")) === 1 && (await count(msgOf("unsubscribes").id, "UNSUBSCRIBED")) === 1, 40_000);
    expect(await count(msgOf("clicks").id, "OPENED")).toBe(1);
    expect(await count(msgOf("reader-c").id, "OPENED")).toBe(0);
  });

  it("a click redirects only to the campaign's own URL for that index; forged, tampered or unknown links answer 404 and write nothing", async () => {
    const m = msgOf("reader-c");
    const url = (t: string) => `${host.url}/c/${t}`;
    const res = await fetch(`${url(signToken(KEY, { kind: "click", messageId: m.id, link: 1 }))}?url=https://evil.example.net/`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://shop.example.com/new");
    expect(await count(m.id, "CLICKED")).toBe(1);
    const good = signToken(KEY, { kind: "click", messageId: m.id, link: 0 });
    const bad = [
      signToken(KEY, { kind: "click", messageId: m.id, link: 9 }), // no such link
      signToken(Buffer.from("someone else's key, thirty-two chars+"), { kind: "click", messageId: m.id, link: 0 }),
      good.slice(0, -2) + (good.endsWith("AA") ? "BB" : "AA"),
      signToken(KEY, { kind: "open", messageId: m.id }), // an open token on the click path
      signToken(KEY, { kind: "click", messageId: randomUUID(), link: 0 }), // no such message
    ];
    for (const t of bad) {
      const r = await fetch(url(t), { redirect: "manual" });
      expect(r.status, t).toBe(404);
      expect(r.headers.get("location")).toBeNull();
    }
    expect(await count(m.id, "CLICKED")).toBe(1);
    // The pixel: a GIF; a reload within the minute is not a second open.
    for (let i = 0; i < 2; i++) {
      const p = await fetch(`${host.url}/o/${signToken(KEY, { kind: "open", messageId: m.id })}`);
      expect(p.status).toBe(200);
      expect(p.headers.get("content-type")).toBe("image/gif");
      expect(Buffer.from(await p.arrayBuffer()).subarray(0, 6).toString()).toBe("GIF89a");
    }
    expect(await count(m.id, "OPENED")).toBe(1);
  });

  it("unsubscribe: the page (a GET) changes nothing; the one-click POST unsubscribes that contact from email only, once", async () => {
    const m = msgOf("reader-d");
    const u = `${host.url}/u/${signToken(KEY, { kind: "unsubscribe", messageId: m.id })}`;
    const pageRes = await fetch(u);
    expect(pageRes.status).toBe(200);
    const html = await pageRes.text();
    expect(html).toContain('<form method="post">');
    expect(html).not.toContain("reader-d@"); // masked
    const state = async () => (await q<{ consent_email: string; consent_sms: string | null }>(`select consent_email::text, consent_sms::text from contacts where id = $1`, [m.contact_id]))[0]!;
    expect((await state()).consent_email).toBe("SUBSCRIBED");
    for (let i = 0; i < 2; i++) {
      const r = await fetch(u, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "List-Unsubscribe=One-Click" });
      expect(r.status).toBe(200);
      expect(await r.text()).toContain("You are unsubscribed");
    }
    expect(await state()).toEqual({ consent_email: "UNSUBSCRIBED", consent_sms: null });
    const events = await q<{ n: number }>(`select count(*)::int as n from consent_events where contact_id = $1 and action = 'UNSUBSCRIBED' and source = 'unsubscribe_link'`, [m.contact_id]);
    expect(events[0]!.n).toBe(1);
    expect(await count(m.id, "UNSUBSCRIBED")).toBe(1);
    // A tampered unsubscribe token unsubscribes nobody.
    const t = signToken(KEY, { kind: "unsubscribe", messageId: msgOf("clicks").id });
    const r = await fetch(`${host.url}/u/${t.slice(0, -1)}${t.endsWith("A") ? "B" : "A"}`, { method: "POST", body: "List-Unsubscribe=One-Click" });
    expect(r.status).toBe(404);
    expect((await q<{ c: string }>(`select consent_email::text as c from contacts where id = $1`, [msgOf("clicks").contact_id]))[0]!.c).toBe("SUBSCRIBED");
  });

  it("campaign-analytics reads the same rows: opened, clicked and unsubscribed in get_campaign_metrics", async () => {
    const c = new Client({ name: "tracking-test", version: "0.0.0" });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${host.url}/mcp/campaign-analytics`), { requestInit: { headers: { authorization: `Bearer ${demoApiKey(B, "ADMIN")}` } } }));
    try {
      const r = await c.callTool({ name: "get_campaign_metrics", arguments: { id: campaignId } });
      expect(r.isError).toBeFalsy();
      const counts = (r.structuredContent as { figures: { counts: Record<string, number | null> } }).figures.counts;
      const [sqlCounts] = await q<{ opened: number; clicked: number; unsubscribed: number }>(
        `select count(distinct message_id) filter (where type in ('OPENED', 'CLICKED'))::int as opened, count(distinct message_id) filter (where type = 'CLICKED')::int as clicked,
                count(distinct message_id) filter (where type = 'UNSUBSCRIBED')::int as unsubscribed from message_events where campaign_id = $1`, [campaignId]);
      expect({ opened: counts.opened, clicked: counts.clicked, unsubscribed: counts.unsubscribed }).toEqual(sqlCounts);
      expect(sqlCounts).toEqual({ opened: 2, clicked: 2, unsubscribed: 2 });
    } finally {
      await c.close();
    }
  });
});
