// Collector event validation (parseBatch), per-event problems, and the touchpoint mapping.
// Every expectation is written from the brief's rules, not read back from the code.
import { describe, expect, it } from "vitest";
import { checkTimestamp, parseBatch } from "../src/collector/batch.ts";
import type { ValidEvent } from "../src/collector/events.ts";
import { pageMetricsOf, touchpointOf } from "../src/collector/touchpoint.ts";

const NOW = new Date("2025-03-01T12:00:00.000Z");
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

let seq = 0;
const nextId = () => `evt_${String(++seq).padStart(8, "0")}`;
const pv = (over: Record<string, unknown> = {}) => ({
  id: nextId(),
  type: "pageview",
  ts: iso(NOW.getTime() - 60_000),
  visitor_id: "visitor_0001",
  url: "https://shop.example.ng/pricing",
  ...over,
});
const batch = (events: unknown[], opts: Partial<Parameters<typeof parseBatch>[1]> = {}) =>
  parseBatch(JSON.stringify({ events }), { now: NOW, ...opts });

function ok(result: ReturnType<typeof parseBatch>) {
  if (!result.ok) throw new Error(`expected ok, got ${result.status} ${result.error}`);
  return result;
}

describe("parseBatch: whole-request problems", () => {
  it("refuses a body that is not JSON with 400", () => {
    const r = parseBatch('{"events": [', { now: NOW });
    expect(r).toMatchObject({ ok: false, status: 400 });
    expect(!r.ok && r.error).toMatch(/not JSON/);
  });

  it("refuses JSON that is not { events: [...] } with 400", () => {
    for (const body of ["[]", "null", '"x"', "{}", '{"events": {}}', '{"events": "a"}']) {
      const r = parseBatch(body, { now: NOW });
      expect(r, body).toMatchObject({ ok: false, status: 400 });
    }
    const extra = parseBatch('{"events": [], "site_key": "k"}', { now: NOW });
    expect(extra).toMatchObject({ ok: false, status: 400 });
    expect(!extra.ok && extra.error).toMatch(/"site_key"/);
  });

  it("refuses bytes that are not UTF-8 with 400", () => {
    const r = parseBatch(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { now: NOW });
    expect(r).toMatchObject({ ok: false, status: 400 });
  });

  it("accepts exactly 100 events and refuses 101 with 413", () => {
    const hundred = Array.from({ length: 100 }, () => pv());
    const r = ok(batch(hundred));
    expect(r.events).toHaveLength(100);
    expect(r.rejected).toEqual([]);
    const r101 = batch([...hundred, pv()]);
    expect(r101).toMatchObject({ ok: false, status: 413 });
    expect(!r101.ok && r101.error).toMatch(/101 events; the limit is 100/);
  });

  it("honours a smaller maxEvents", () => {
    expect(batch([pv(), pv(), pv()], { maxEvents: 2 })).toMatchObject({ ok: false, status: 413 });
    expect(ok(batch([pv(), pv()], { maxEvents: 2 })).events).toHaveLength(2);
  });

  it("accepts exactly 65,536 bytes and refuses 65,537 with 413 (bytes, not characters)", () => {
    const base = JSON.stringify({ events: [pv({ title: "" })] });
    // Pad with spaces (valid JSON whitespace) to an exact size.
    const exact = base + " ".repeat(65_536 - Buffer.byteLength(base));
    expect(Buffer.byteLength(exact)).toBe(65_536);
    expect(ok(parseBatch(exact, { now: NOW })).events).toHaveLength(1);
    expect(ok(parseBatch(Buffer.from(exact), { now: NOW })).events).toHaveLength(1);
    const over = exact + " ";
    expect(parseBatch(over, { now: NOW })).toMatchObject({ ok: false, status: 413 });
    expect(parseBatch(Buffer.from(over), { now: NOW })).toMatchObject({ ok: false, status: 413 });
    // "é" is 2 bytes: 32,768 of them are 65,536 bytes of title but only 32,768 characters.
    const wide = JSON.stringify({ events: [pv({ title: "é".repeat(40_000) })] });
    expect(wide.length).toBeLessThan(65_536);
    expect(parseBatch(wide, { now: NOW })).toMatchObject({ ok: false, status: 413 });
  });

  it("reads a sendBeacon text/plain body: a Buffer of JSON text, with or without a BOM", () => {
    const json = JSON.stringify({ events: [pv(), pv()] });
    expect(ok(parseBatch(Buffer.from(json, "utf8"), { now: NOW })).events).toHaveLength(2);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json, "utf8")]);
    expect(ok(parseBatch(bom, { now: NOW })).events).toHaveLength(2);
  });

  it("an empty batch is fine", () => {
    expect(ok(batch([]))).toEqual({ ok: true, events: [], rejected: [], context: {} });
  });

  it("a context with the browser's time zone is kept; anything else in it is refused", () => {
    const parse = (context: unknown) => parseBatch(JSON.stringify({ events: [], context }), { now: NOW });
    expect(parse({ tz: "Africa/Lagos" })).toMatchObject({ ok: true, context: { tz: "Africa/Lagos" } });
    expect(parse({ tz: "America/Argentina/Buenos_Aires" })).toMatchObject({ ok: true });
    expect(parse({ tz: "Lagos; drop table" })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining("context.tz: not an IANA time zone") });
    expect(parse({ tz: "Africa/Lagos", ip: "1.2.3.4" })).toMatchObject({ ok: false, status: 400, error: expect.stringContaining("context.ip: unknown field") });
  });
});

describe("parseBatch: each event on its own", () => {
  it("keeps the valid events when others fail, and lists every problem of each failure", () => {
    const good1 = pv();
    const bad = { id: "x", type: "pageview", ts: iso(NOW.getTime() + 25 * H), visitor_id: "v", url: "ftp://a", extra: 1 };
    const good2 = pv({ type: "click", text: "Buy", href: "https://shop.example.ng/cart" });
    const r = ok(batch([good1, bad, good2]));
    expect(r.events.map((e) => e.id)).toEqual([good1.id, good2.id]);
    expect(r.rejected).toHaveLength(1);
    const rej = r.rejected[0]!;
    expect(rej.index).toBe(1);
    expect(rej.id).toBe("x");
    expect(rej.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^events\[1\]\.id: must be 8–64 characters/),
        expect.stringMatching(/^events\[1\]\.visitor_id: must be 8–64 characters/),
        "events[1].url: not an absolute http(s) URL",
        "events[1].extra: unknown field",
        "events[1].ts: more than 24 h in the future",
      ]),
    );
    expect(rej.errors).toHaveLength(5);
  });

  it("rejects non-objects and unknown types, still checking the common fields", () => {
    const r = ok(batch([42, null, ["a"], { id: "evt_abcdefgh", type: "hover", ts: "yesterday", visitor_id: "visitor_0001" }]));
    expect(r.events).toEqual([]);
    expect(r.rejected.slice(0, 3).map((x) => x.errors)).toEqual([
      ["events[0]: not an object"],
      ["events[1]: not an object"],
      ["events[2]: not an object"],
    ]);
    const last = r.rejected[3]!;
    expect(last.id).toBe("evt_abcdefgh");
    expect(last.errors[0]).toMatch(/^events\[3\]\.type: type must be one of pageview, click/);
    expect(last.errors.some((m) => m.startsWith("events[3].ts: must be an ISO 8601"))).toBe(true);
  });

  it("names missing required fields", () => {
    const r = ok(batch([{ type: "pageview" }]));
    expect(r.rejected[0]!.errors).toEqual(
      expect.arrayContaining(["events[0].id: required", "events[0].visitor_id: required", "events[0].url: required"]),
    );
    expect(r.rejected[0]!.errors.some((m) => m.includes(".ts"))).toBe(false);
  });

  it("an event without ts happened when the batch was received", () => {
    const { ts: _, ...noTs } = pv({});
    const r = ok(batch([noTs]));
    expect(r.rejected).toEqual([]);
    expect(r.events[0]!.ts).toEqual(NOW);
  });

  it("ids: 8 and 64 characters pass, 7 and 65 and other characters fail", () => {
    const r = ok(
      batch([
        pv({ id: "a".repeat(8) }),
        pv({ id: "A-_9".repeat(16) }),
        pv({ id: "a".repeat(7) }),
        pv({ id: "a".repeat(65) }),
        pv({ id: "abc.defgh" }),
        pv({ visitor_id: "v".repeat(65) }),
        pv({ session_hint: "s" }),
      ]),
    );
    expect(r.events).toHaveLength(2);
    expect(r.rejected.map((x) => x.index)).toEqual([2, 3, 4, 5, 6]);
    expect(r.rejected[4]!.errors[0]).toMatch(/^events\[6\]\.session_hint: /);
  });

  it("duplicate ids: the first valid event is kept, the rest rejected; an invalid event does not claim its id", () => {
    const a = pv({ id: "dup_00000001" });
    const r = ok(
      batch([
        pv({ id: "dup_00000002", url: "nope" }),
        a,
        pv({ id: "dup_00000001", url: "https://shop.example.ng/other" }),
        pv({ id: "dup_00000002" }),
        pv({ id: "dup_00000001" }),
      ]),
    );
    expect(r.events.map((e) => [e.id, e.url])).toEqual([
      ["dup_00000001", "https://shop.example.ng/pricing"],
      ["dup_00000002", "https://shop.example.ng/pricing"],
    ]);
    expect(r.rejected.map((x) => x.index)).toEqual([0, 2, 4]);
    expect(r.rejected[1]!.errors).toEqual(["events[2].id: duplicate id in this batch (kept events[1])"]);
    expect(r.rejected[2]!.errors).toEqual(["events[4].id: duplicate id in this batch (kept events[1])"]);
  });
});

describe("timestamps", () => {
  it("accepts ISO 8601 with Z or an offset and epoch ms; refuses local times without a zone", () => {
    const r = ok(
      batch([
        pv({ ts: "2025-03-01T11:00:00Z" }),
        pv({ ts: "2025-03-01T12:30:00+01:00" }),
        pv({ ts: NOW.getTime() - 1000 }),
        pv({ ts: "2025-03-01T11:00:00" }),
        pv({ ts: "1 March 2025" }),
        pv({ ts: -5 }),
        pv({ ts: 1.5 }),
      ]),
    );
    expect(r.events.map((e) => e.ts.toISOString())).toEqual([
      "2025-03-01T11:00:00.000Z",
      "2025-03-01T11:30:00.000Z",
      "2025-03-01T11:59:59.000Z",
    ]);
    expect(r.rejected.map((x) => x.index)).toEqual([3, 4, 5, 6]);
    for (const x of r.rejected) expect(x.errors[0]).toMatch(/\.ts: must be an ISO 8601/);
  });

  it("24 h in the future and 7 days old are the inclusive limits", () => {
    const t = NOW.getTime();
    const D = 24 * H;
    expect(checkTimestamp(new Date(t + D), NOW)).toBeNull();
    expect(checkTimestamp(new Date(t + D + 1), NOW)).toBe("future");
    expect(checkTimestamp(new Date(t - 7 * D), NOW)).toBeNull();
    expect(checkTimestamp(new Date(t - 7 * D - 1), NOW)).toBe("old");
    const r = ok(batch([pv({ ts: t + D }), pv({ ts: iso(t + D + 1000) }), pv({ ts: t - 7 * D }), pv({ ts: iso(t - 7 * D - 1000) })]));
    expect(r.events).toHaveLength(2);
    expect(r.rejected.map((x) => x.errors)).toEqual([
      ["events[1].ts: more than 24 h in the future"],
      ["events[3].ts: more than 7 days old"],
    ]);
  });

  it("epoch seconds by mistake get a hint", () => {
    const r = ok(batch([pv({ ts: Math.floor(NOW.getTime() / 1000) })]));
    expect(r.rejected[0]!.errors).toEqual(["events[0].ts: more than 7 days old (it looks like seconds: send epoch milliseconds)"]);
  });
});

describe("fields of each type", () => {
  it("pageview: trims strings, keeps unicode titles, limits URL to 2,048 and title to 300 characters, empty referrer is absent", () => {
    const title = "  Bei ya Bidhaa — Ṣọ́ọ̀bù 🇳🇬🛒 ";
    const long = "https://shop.example.ng/" + "a".repeat(2_048 - 24);
    expect(long).toHaveLength(2_048);
    const r = ok(
      batch([
        pv({ url: `  ${long}  `, title, referrer: "" }),
        pv({ url: long + "b" }),
        pv({ title: "🛒".repeat(150) }), // 300 UTF-16 code units
        pv({ title: "x".repeat(301) }),
        pv({ referrer: "android-app://com.google.android.gm/" }),
        pv({ referrer: "not a url" }),
      ]),
    );
    expect(r.events).toHaveLength(3);
    const first = r.events[0]! as Extract<ValidEvent, { type: "pageview" }>;
    expect(first.url).toBe(long);
    expect(first.title).toBe("Bei ya Bidhaa — Ṣọ́ọ̀bù 🇳🇬🛒");
    expect(first.referrer).toBeUndefined();
    expect(r.rejected.map((x) => x.errors)).toEqual([
      ["events[1].url: longer than 2048 characters"],
      ["events[3].title: longer than 300 characters"],
      ["events[5].referrer: not an absolute URL"],
    ]);
  });

  it("pageview utm: source, medium and campaign required; term/content optional; unknown keys refused", () => {
    const r = ok(
      batch([
        pv({ utm: { source: " facebook ", medium: "paid_social", campaign: "ramadan-2025", term: "shoes" } }),
        pv({ utm: { source: "google", medium: "cpc" } }),
        pv({ utm: { source: "google", medium: "cpc", campaign: "x", id: "123" } }),
        pv({ utm: "google" }),
      ]),
    );
    expect(r.events).toHaveLength(1);
    expect(r.rejected.map((x) => x.errors)).toEqual([
      ["events[1].utm.campaign: required"],
      ["events[2].utm.id: unknown field"],
      ["events[3].utm: must be an object { source, medium, campaign, term?, content? }"],
    ]);
  });

  it("forms need an id or a name; page_leave bounds scroll depth and duration", () => {
    const r = ok(
      batch([
        pv({ type: "form_view", form_id: "signup" }),
        pv({ type: "form_start", form_name: "newsletter" }),
        pv({ type: "form_submit" }),
        pv({ type: "page_leave", scroll_depth: 0, duration_sec: 0 }),
        pv({ type: "page_leave", scroll_depth: 100, duration_sec: 12.6 }),
        pv({ type: "page_leave", scroll_depth: 100.5, duration_sec: -0.1 }),
        pv({ type: "page_leave", scroll_depth: 50 }),
      ]),
    );
    expect(r.events.map((e) => e.type)).toEqual(["form_view", "form_start", "page_leave", "page_leave"]);
    expect(r.rejected.map((x) => x.errors)).toEqual([
      ["events[2].form_id: give form_id or form_name (the form's id or name attribute)"],
      ["events[5].scroll_depth: above 100 (a percentage from 0 to 100)", "events[5].duration_sec: negative (seconds on the page, ≥ 0)"],
      ["events[6].duration_sec: required"],
    ]);
  });

  it("conversion: goal required, currency must be ISO 4217 and accompany a value", () => {
    const r = ok(
      batch([
        pv({ type: "conversion", goal: "purchase", value: 15000, currency: "NGN" }),
        pv({ type: "conversion", goal: "signup" }),
        pv({ type: "conversion", goal: "purchase", value: 10, currency: "ngn" }),
        pv({ type: "conversion", goal: "purchase", value: 10, currency: "XYZ" }),
        pv({ type: "conversion", goal: "purchase", value: 10 }),
        pv({ type: "conversion", goal: "purchase", value: -1, currency: "KES" }),
        pv({ type: "conversion" }),
      ]),
    );
    expect(r.events).toHaveLength(2);
    expect(r.rejected.map((x) => x.errors)).toEqual([
      ["events[2].currency: not an ISO 4217 currency code (three capital letters, e.g. NGN, KES, USD)"],
      ["events[3].currency: not an ISO 4217 currency code (three capital letters, e.g. NGN, KES, USD)"],
      ["events[4].currency: a value needs its currency (ISO 4217, e.g. NGN)"],
      ["events[5].value: negative"],
      ["events[6].goal: required"],
    ]);
  });

  it("identify: email or phone, at least one; each validated", () => {
    const r = ok(
      batch([
        { id: nextId(), type: "identify", ts: NOW.getTime(), visitor_id: "visitor_0001", email: " ada@example.ng " },
        { id: nextId(), type: "identify", ts: NOW.getTime(), visitor_id: "visitor_0001", phone: "+234 803 123 4567" },
        { id: nextId(), type: "identify", ts: NOW.getTime(), visitor_id: "visitor_0001" },
        { id: nextId(), type: "identify", ts: NOW.getTime(), visitor_id: "visitor_0001", email: "ada@", phone: "call me" },
      ]),
    );
    expect(r.events).toHaveLength(2);
    expect((r.events[0] as Extract<ValidEvent, { type: "identify" }>).email).toBe("ada@example.ng");
    expect(r.rejected.map((x) => x.errors)).toEqual([
      ["events[2]: give email or phone (at least one)"],
      ["events[3].email: not an email address", "events[3].phone: not a phone number (digits, optionally +country code)"],
    ]);
  });
});

describe("touchpointOf and pageMetricsOf", () => {
  const parse = (e: Record<string, unknown>) => ok(batch([e])).events[0]!;
  const ts = "2025-03-01T11:00:00.000Z";

  it("pageview → PAGEVIEW with title, UTM columns and the rest in detail", () => {
    const e = parse(
      pv({ id: "pv_00000001", ts, title: "Pricing", referrer: "https://www.google.com/", session_hint: "sess_0001",
        utm: { source: "google", medium: "cpc", campaign: "launch", content: "ad-1" } }),
    );
    expect(touchpointOf(e)).toEqual({
      eventId: "pv_00000001",
      clientVisitorId: "visitor_0001",
      type: "PAGEVIEW",
      url: "https://shop.example.ng/pricing",
      title: "Pricing",
      occurredAt: new Date(ts),
      durationSec: null,
      scrollDepth: null,
      utmSource: "google",
      utmMedium: "cpc",
      utmCampaign: "launch",
      detail: { referrer: "https://www.google.com/", utm_content: "ad-1", session_hint: "sess_0001" },
    });
    expect(touchpointOf(parse(pv({ ts })))?.detail).toBeNull();
  });

  it("click, forms and conversion map to their types", () => {
    expect(touchpointOf(parse(pv({ type: "click", text: "Buy now" })))).toMatchObject({ type: "CLICK", detail: { text: "Buy now" } });
    expect(touchpointOf(parse(pv({ type: "form_view", form_id: "f" })))).toMatchObject({ type: "FORM_VIEW", detail: { form_id: "f" } });
    expect(touchpointOf(parse(pv({ type: "form_start", form_name: "n" })))).toMatchObject({ type: "FORM_START", detail: { form_name: "n" } });
    expect(touchpointOf(parse(pv({ type: "form_submit", form_id: "f" })))).toMatchObject({ type: "FORM_SUBMIT" });
    expect(touchpointOf(parse(pv({ type: "conversion", goal: "purchase", value: 2500.5, currency: "KES" })))).toMatchObject({
      type: "CONVERSION",
      title: null,
      detail: { goal: "purchase", value: 2500.5, currency: "KES" },
    });
  });

  it("identify and page_leave are not touchpoints; page_leave gives rounded page metrics", () => {
    const id = parse({ id: nextId(), type: "identify", ts, visitor_id: "visitor_0001", phone: "+254712345678" });
    expect(touchpointOf(id)).toBeNull();
    expect(pageMetricsOf(id)).toBeNull();
    const leave = parse(pv({ id: "leave_0001", ts, type: "page_leave", pageview_id: "pv_00000001", scroll_depth: 74.6, duration_sec: 31.4 }));
    expect(touchpointOf(leave)).toBeNull();
    expect(pageMetricsOf(leave)).toEqual({
      eventId: "leave_0001",
      clientVisitorId: "visitor_0001",
      url: "https://shop.example.ng/pricing",
      pageviewId: "pv_00000001",
      occurredAt: new Date(ts),
      durationSec: 31,
      scrollDepth: 75,
    });
    expect(pageMetricsOf(parse(pv()))).toBeNull();
  });
});
