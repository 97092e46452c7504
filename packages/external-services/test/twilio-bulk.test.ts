// What a bulk-send engine needs from the Twilio side, through the official SDK (no mocks) against
// the local emulator: answers delayed by latencyMs (concurrent requests are not serialized), the
// sliding-second rate limit answered with Twilio's 429 / 20429 (transient rate_limited), List
// Messages with Twilio's filters and paging, the provider's lookup for crash reconciliation, a big
// balance, and TWILIO_API_BASE: a live-mode provider (built by the messaging service) that talks to
// an emulator instead of api.twilio.com.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import twilio from "twilio";
import type { Db } from "@marketsage/db";
import { describeConfig, messagingConfig, MessagingConfigError } from "../src/config.ts";
import { OriginRewritingRequestClient, twilioProvider } from "../src/providers/twilio.ts";
import type { OutgoingMessage, Provider } from "../src/providers/types.ts";
import { createMessagingService } from "../src/service.ts";
import { startTwilioEmulator, type TwilioEmulator, type TwilioEmulatorOptions } from "../src/sandbox/twilio-emulator.ts";

const ACCOUNT_SID = "AC" + "abcdef0123456789".repeat(2);
const AUTH_TOKEN = "tok_" + "b".repeat(28);
const FROM = "+15005550006";
const MESSAGES = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;

const started: TwilioEmulator[] = [];
async function emulator(extra: Partial<TwilioEmulatorOptions> = {}): Promise<TwilioEmulator> {
  const emu = await startTwilioEmulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, deliver: async () => {}, reportDelayMs: 5, ...extra });
  started.push(emu);
  return emu;
}
const providerFor = (emu: TwilioEmulator, sandbox = true): Provider => twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: emu.url, sandbox });
const sdkFor = (emu: TwilioEmulator) => twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: new OriginRewritingRequestClient(emu.url, { timeout: 5000 }), autoRetry: false });
const msg = (to: string, text = "Hi from MarketSage"): OutgoingMessage => ({ to, text, idempotencyKey: `k-${to}-${Math.random()}` });
const auth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

describe("twilio emulator: latency", () => {
  it("every answer waits latencyMs; concurrent requests wait it side by side, not in turn", async () => {
    const emu = await emulator({ latencyMs: 150 });
    const p = providerFor(emu);
    let t0 = performance.now();
    expect(await p.send(msg("+15551230001"), { timeoutMs: 5000 })).toMatchObject({ kind: "accepted" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
    // Errors and reads are delayed too.
    t0 = performance.now();
    expect(await p.send(msg("+27820000004"), { timeoutMs: 5000 })).toMatchObject({ kind: "definite", code: "invalid_number" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
    t0 = performance.now();
    await p.balance({ timeoutMs: 5000 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
    // 40 at once: about one latency, not 40.
    t0 = performance.now();
    const outs = await Promise.all(Array.from({ length: 40 }, (_, i) => p.send(msg(`+1555200${String(i).padStart(4, "1")}`), { timeoutMs: 5000 })));
    const took = performance.now() - t0;
    expect(outs.every((o) => o.kind === "accepted")).toBe(true);
    expect(took).toBeGreaterThanOrEqual(149);
    expect(took).toBeLessThan(1500);
  });

  it("the default is no delay; a latency longer than the send timeout makes the outcome unknown", async () => {
    const fast = await emulator();
    const t0 = performance.now();
    expect(await providerFor(fast).send(msg("+15551230001"), { timeoutMs: 5000 })).toMatchObject({ kind: "accepted" });
    expect(performance.now() - t0).toBeLessThan(150);
    const slow = await emulator({ latencyMs: 600 });
    expect(await providerFor(slow).send(msg("+15551230001"), { timeoutMs: 200 })).toEqual({ kind: "unknown", reason: "no answer from Twilio in time (ECONNABORTED)" });
  });

  it("refuses a nonsensical option", async () => {
    await expect(emulator({ latencyMs: -1 })).rejects.toThrow("latencyMs");
    await expect(emulator({ ratePerSecond: 0 })).rejects.toThrow("ratePerSecond");
  });
});

describe("twilio emulator: rate limit (ratePerSecond)", () => {
  it("a burst above the rate: the extra creations answer 429 / 20429 and create nothing; the provider says transient rate_limited", async () => {
    const emu = await emulator({ ratePerSecond: 5 });
    const p = providerFor(emu);
    const outs = await Promise.all(Array.from({ length: 12 }, (_, i) => p.send(msg(`+1555300${String(i).padStart(4, "1")}`), { timeoutMs: 5000 })));
    const accepted = outs.filter((o) => o.kind === "accepted");
    const limited = outs.filter((o) => o.kind !== "accepted");
    expect(accepted).toHaveLength(5);
    expect(limited).toHaveLength(7);
    for (const o of limited) expect(o).toEqual({ kind: "transient", code: "rate_limited", reason: "Twilio failed on its side (Twilio 20429, HTTP 429): Too Many Requests" });
    expect(emu.messages()).toHaveLength(5);
    expect(emu.requests.filter((r) => r.method === "POST").map((r) => r.status).sort()).toEqual([...Array(5).fill(201), ...Array(7).fill(429)]);

    // Twilio's JSON error body on the wire.
    const res = await fetch(emu.url + MESSAGES, { method: "POST", headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ To: "+15551230001", From: FROM, Body: "x" }) });
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ code: 20429, message: "Too Many Requests", more_info: "https://www.twilio.com/docs/errors/20429", status: 429 });

    // Reads are not creations: the balance and lists still answer.
    await expect(p.balance({ timeoutMs: 5000 })).resolves.toMatchObject({ currency: "USD" });

    // The window slides: a second later there is room again.
    await sleep(1050);
    const again = await Promise.all(Array.from({ length: 5 }, (_, i) => p.send(msg(`+1555400${String(i).padStart(4, "1")}`), { timeoutMs: 5000 })));
    expect(again.map((o) => o.kind)).toEqual(Array(5).fill("accepted"));
  });

  it("at or under the rate nothing is refused (also spread over several seconds), and unauthenticated requests do not use up the rate", async () => {
    const emu = await emulator({ ratePerSecond: 20 });
    const p = providerFor(emu);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => p.send(msg(`+1555500${String(i).padStart(4, "1")}`), { timeoutMs: 5000 })));
    expect(burst.every((o) => o.kind === "accepted")).toBe(true);
    await sleep(1010);
    // A paced sender at about 10/s for 1.5 s: 15 sends, none refused.
    const paced = [];
    for (let i = 0; i < 15; i++) {
      paced.push(await p.send(msg(`+1555600${String(i).padStart(4, "1")}`), { timeoutMs: 5000 }));
      await sleep(100);
    }
    expect(paced.every((o) => o.kind === "accepted")).toBe(true);
    expect(emu.requests.filter((r) => r.status === 429)).toEqual([]);
    // Wrong credentials are not counted against the account's rate.
    const e2 = await emulator({ ratePerSecond: 1 });
    const badOut = await twilioProvider({ accountSid: ACCOUNT_SID, authToken: "nope", from: FROM, baseUrl: e2.url, sandbox: true }).send(msg("+15551230001"), { timeoutMs: 5000 });
    expect(badOut).toMatchObject({ kind: "definite", code: "auth_failed" });
    expect(await providerFor(e2).send(msg("+15551230001"), { timeoutMs: 5000 })).toMatchObject({ kind: "accepted" });
  });
});

describe("twilio emulator: a big run's balance", () => {
  it("a balance large enough for 100,000 messages is taken as given and decremented per delivery; the emulator never refuses for balance", async () => {
    const emu = await emulator({ balance: { amount: "1000000.0000", currency: "USD" } });
    const p = providerFor(emu);
    await Promise.all(Array.from({ length: 10 }, (_, i) => p.send(msg(`+1555700${String(i).padStart(4, "1")}`), { timeoutMs: 5000 })));
    await emu.idle();
    expect(emu.balance()).toEqual({ amount: "999999.9250", currency: "USD" });
    // An empty account keeps sending (its balance goes below zero), as the emulator always did.
    const poor = await emulator({ balance: { amount: "0.0000", currency: "USD" } });
    expect(await providerFor(poor).send(msg("+15551230001"), { timeoutMs: 5000 })).toMatchObject({ kind: "accepted" });
    await poor.idle();
    expect(poor.balance().amount).toBe("-0.0075");
  });
});

describe("twilio emulator: List Messages", () => {
  it("the SDK's list: filtered by To (and From), newest first, paged by PageSize through next_page_uri", async () => {
    const emu = await emulator({ reportDelayMs: 60_000 });
    const p = providerFor(emu);
    const sids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const o = await p.send(msg("+15558880001", `hello ${i}`), { timeoutMs: 5000 });
      if (o.kind === "accepted") sids.push(o.providerMessageId);
    }
    await p.send(msg("+15558880002", "someone else"), { timeoutMs: 5000 });
    expect(sids).toHaveLength(7);
    const before = emu.requests.length;
    const list = await sdkFor(emu).messages.list({ to: "+15558880001", pageSize: 3 });
    expect(list.map((m) => m.sid)).toEqual([...sids].reverse());
    expect(list.map((m) => m.body)).toEqual(["hello 6", "hello 5", "hello 4", "hello 3", "hello 2", "hello 1", "hello 0"]);
    expect(list[0]).toMatchObject({ to: "+15558880001", from: FROM, status: "queued", dateSent: null, direction: "outbound-api" });
    expect(list[0]!.dateCreated).toBeInstanceOf(Date);
    // Three pages: 3 + 3 + 1, the SDK following next_page_uri.
    const gets = emu.requests.slice(before);
    expect(gets.map((r) => [r.method, r.path, r.params.PageSize, r.params.Page, r.status])).toEqual([
      ["GET", MESSAGES, "3", undefined, 200],
      ["GET", MESSAGES, "3", "1", 200],
      ["GET", MESSAGES, "3", "2", 200],
    ]);
    expect(gets[1]!.params.PageToken).toBe(`PA${sids[4]}`);
    expect(gets.every((r) => r.params.To === "+15558880001")).toBe(true);
    // limit stops early.
    expect((await sdkFor(emu).messages.list({ to: "+15558880001", limit: 2 })).map((m) => m.sid)).toEqual([sids[6], sids[5]]);
    // From, and no filter at all.
    expect(await sdkFor(emu).messages.list({ from: "+15550000000" })).toEqual([]);
    expect((await sdkFor(emu).messages.list({ from: FROM })).length).toBe(8);
    expect((await sdkFor(emu).messages.list({})).length).toBe(8);
  });

  it("Twilio's page JSON on the wire", async () => {
    const emu = await emulator({ reportDelayMs: 60_000 });
    const p = providerFor(emu);
    for (let i = 0; i < 3; i++) await p.send(msg("+15558880013"), { timeoutMs: 5000 });
    const res = await fetch(`${emu.url}${MESSAGES}?To=%2B15558880013&PageSize=2`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(page).sort()).toEqual(["end", "first_page_uri", "messages", "next_page_uri", "page", "page_size", "previous_page_uri", "start", "uri"]);
    expect(page).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null, uri: `${MESSAGES}?To=%2B15558880013&PageSize=2&Page=0`, first_page_uri: `${MESSAGES}?To=%2B15558880013&PageSize=2&Page=0` });
    expect(page.next_page_uri).toMatch(new RegExp(`^${MESSAGES.replace(/\./g, "\\.")}\\?To=%2B15558880013&PageSize=2&Page=1&PageToken=PASM[0-9a-f]{32}$`));
    expect((page.messages as unknown[]).length).toBe(2);
    const next = await fetch(emu.url + (page.next_page_uri as string), { headers: { authorization: auth } });
    const page2 = (await next.json()) as Record<string, unknown>;
    expect(page2).toMatchObject({ page: 1, page_size: 2, start: 2, end: 2, next_page_uri: null });
    expect((page2.messages as unknown[]).length).toBe(1);
    // A bad filter value is Twilio's 400, not an empty list.
    const bad = await fetch(`${emu.url}${MESSAGES}?DateSent%3E=yesterday`, { headers: { authorization: auth } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 20001, status: 400 });
    // Unauthenticated: 401.
    expect((await fetch(emu.url + MESSAGES)).status).toBe(401);
  });

  it("DateSent filters as Twilio reads them: by date_sent (a day, or a date-time to the second); a message not sent yet has none and is left out", async () => {
    const emu = await emulator({ reportDelayMs: 5 });
    const held = await emulator({ reportDelayMs: 60_000 });
    const p = providerFor(emu);
    const out = await p.send(msg("+15558880014"), { timeoutMs: 5000 });
    expect(out.kind).toBe("accepted");
    await providerFor(held).send(msg("+15558880014"), { timeoutMs: 5000 });
    await emu.idle();
    const sent = emu.messages()[0]!.dateSent!;
    expect(sent).toBeInstanceOf(Date);
    const sdk = sdkFor(emu);
    const today = new Date(Date.UTC(sent.getUTCFullYear(), sent.getUTCMonth(), sent.getUTCDate()));
    const tomorrow = new Date(today.getTime() + 86_400_000);
    const yesterday = new Date(today.getTime() - 86_400_000);
    const n = async (q: Parameters<typeof sdk.messages.list>[0]) => (await sdk.messages.list({ to: "+15558880014", ...q })).length;
    expect(await n({ dateSentAfter: today })).toBe(1);
    expect(await n({ dateSentAfter: tomorrow })).toBe(0);
    expect(await n({ dateSentBefore: yesterday })).toBe(0);
    expect(await n({ dateSentBefore: today })).toBe(0); // on or before 00:00:00 of today (a date-time)
    expect(await n({ dateSentAfter: new Date(sent.getTime() - 1000), dateSentBefore: new Date(sent.getTime() + 1000) })).toBe(1);
    expect(await n({ dateSent: new Date(Math.floor(sent.getTime() / 1000) * 1000) })).toBe(1);
    expect(await n({ dateSentAfter: new Date(sent.getTime() + 2000) })).toBe(0);
    // The documented day form (YYYY-MM-DD) on the wire: the whole UTC day.
    const day = today.toISOString().slice(0, 10);
    for (const [q, count] of [[`DateSent=${day}`, 1], [`DateSent%3C=${day}`, 1], [`DateSent%3E=${day}`, 1], [`DateSent%3C=${yesterday.toISOString().slice(0, 10)}`, 0]] as const) {
      const res = await fetch(`${emu.url}${MESSAGES}?To=%2B15558880014&${q}`, { headers: { authorization: auth } });
      expect([q, ((await res.json()) as { messages: unknown[] }).messages.length]).toEqual([q, count]);
    }
    // The held emulator's message is queued: no date_sent, so no DateSent filter finds it; To alone does.
    expect((await sdkFor(held).messages.list({ to: "+15558880014", dateSentAfter: yesterday })).length).toBe(0);
    expect((await sdkFor(held).messages.list({ to: "+15558880014" })).length).toBe(1);
  });
});

describe("twilio provider: lookup (reconciliation)", () => {
  it("finds the message to `to` created at or after `since`, not one created before, nor another recipient's — even while Twilio still holds it (queued, no date_sent)", async () => {
    const emu = await emulator({ reportDelayMs: 60_000, latencyMs: 20 });
    const p = providerFor(emu);
    const old = await p.send(msg("+15559990001", "old"), { timeoutMs: 5000 });
    await sleep(1100);
    const since = new Date();
    const fresh = await p.send(msg("+15559990001", "fresh"), { timeoutMs: 5000 });
    await p.send(msg("+15559990002", "fresh"), { timeoutMs: 5000 });
    expect(old.kind).toBe("accepted");
    expect(fresh.kind).toBe("accepted");
    if (fresh.kind !== "accepted" || old.kind !== "accepted") return;
    const found = await p.lookup!({ to: "+15559990001", since }, { timeoutMs: 5000 });
    expect(found).toEqual([{ providerMessageId: fresh.providerMessageId, createdAt: expect.any(Date), status: "queued", body: "fresh" }]);
    expect(found[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(Math.floor(since.getTime() / 1000) * 1000);
    // The body narrows it further.
    expect(await p.lookup!({ to: "+15559990001", since, body: "other text" }, { timeoutMs: 5000 })).toEqual([]);
    expect((await p.lookup!({ to: "+15559990001", since, body: "fresh" }, { timeoutMs: 5000 })).map((m) => m.providerMessageId)).toEqual([fresh.providerMessageId]);
    // Nothing to a number with no message, and an earlier `since` finds both, newest first.
    expect(await p.lookup!({ to: "+15559990003", since }, { timeoutMs: 5000 })).toEqual([]);
    expect((await p.lookup!({ to: "+15559990001", since: new Date(since.getTime() - 60_000) }, { timeoutMs: 5000 })).map((m) => m.body)).toEqual(["fresh", "old"]);
    // How it asked: To + DateSent>= the UTC day of since, and To alone (newest 50).
    const lists = emu.requests.filter((r) => r.method === "GET" && r.params.To === "+15559990001");
    expect(lists.some((r) => r.params["DateSent>"] === `${since.toISOString().slice(0, 10)}T00:00:00Z` && r.params.PageSize === "50")).toBe(true);
    expect(lists.some((r) => r.params["DateSent>"] === undefined && r.params.PageSize === "50")).toBe(true);
  });

  it("finds a sent and delivered message too; an error rejects with the mapped reason and no secret", async () => {
    const emu = await emulator({ reportDelayMs: 5 });
    const p = providerFor(emu);
    const since = new Date();
    const out = await p.send(msg("+15559990014", "delivered one"), { timeoutMs: 5000 });
    await emu.idle();
    if (out.kind !== "accepted") throw new Error("not accepted");
    expect(await p.lookup!({ to: "+15559990014", since }, { timeoutMs: 5000 })).toEqual([{ providerMessageId: out.providerMessageId, createdAt: expect.any(Date), status: "delivered", body: "delivered one" }]);
    const bad = twilioProvider({ accountSid: ACCOUNT_SID, authToken: "secret-wrong-token", from: FROM, baseUrl: emu.url, sandbox: true });
    const err = await bad.lookup!({ to: "+15559990014", since }, { timeoutMs: 5000 }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("twilio lookup: definite: Twilio refused the account credentials (Twilio 20003)");
    const gone = await emulator();
    const url = gone.url;
    await gone.close();
    const down = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: url, sandbox: true });
    await expect(down.lookup!({ to: "+15559990014", since }, { timeoutMs: 1000 })).rejects.toThrow("twilio lookup: transient: could not connect to Twilio (ECONNREFUSED)");
  });
});

describe("TWILIO_API_BASE", () => {
  const live = { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_FROM: FROM };

  it("optional: none means api.twilio.com; an http(s) origin (a path prefix kept, trailing slashes dropped) is taken", () => {
    expect(messagingConfig(live).twilio).toMatchObject({ mode: "live", live: { baseUrl: undefined } });
    expect(messagingConfig({ ...live, TWILIO_API_BASE: "http://127.0.0.1:41234/" }).twilio).toMatchObject({ mode: "live", live: { baseUrl: "http://127.0.0.1:41234" } });
    expect(messagingConfig({ ...live, TWILIO_API_BASE: " https://twilio-gw.example.com/proxy/ " }).twilio).toMatchObject({ live: { baseUrl: "https://twilio-gw.example.com/proxy" } });
    const text = describeConfig(messagingConfig({ ...live, TWILIO_API_BASE: "http://127.0.0.1:41234" })).join("\n");
    expect(text).toContain("twilio (SMS): live (through TWILIO_API_BASE http://127.0.0.1:41234)");
    expect(text).not.toContain(AUTH_TOKEN);
    // Sandbox mode starts its own emulator: the setting is not used.
    expect(messagingConfig({ TWILIO_API_BASE: "http://127.0.0.1:41234" }).twilio.mode).toBe("sandbox");
  });

  it.each([
    ["127.0.0.1:41234", "TWILIO_API_BASE must be an http(s) URL"],
    ["api.twilio.com", "TWILIO_API_BASE must be an http(s) URL"],
    ["ftp://twilio-gw.example.com", "TWILIO_API_BASE must be an http(s) URL"],
    ["https://twilio-gw.example.com/?x=1", "TWILIO_API_BASE must be an http(s) URL"],
    ["not a url", "TWILIO_API_BASE must be an http(s) URL"],
    ["https://user:hunter2@twilio-gw.example.com", "TWILIO_API_BASE must not carry credentials"],
  ])("refuses %j with a clear config error", (value, message) => {
    const f = () => messagingConfig({ ...live, TWILIO_API_BASE: value });
    expect(f).toThrow(MessagingConfigError);
    expect(f).toThrow(message);
    try {
      f();
    } catch (e) {
      expect(String(e)).not.toContain("hunter2");
      expect(String(e)).not.toContain(AUTH_TOKEN);
    }
  });

  it("a live-mode provider built by the messaging service with TWILIO_API_BASE sends to (and looks up at) that emulator", async () => {
    const emu = await emulator({ reportDelayMs: 60_000, latencyMs: 10 });
    // The twilio branch of build() never touches the database.
    const svc = createMessagingService({} as unknown as Db, { env: { ...live, TWILIO_API_BASE: emu.url + "/" } });
    try {
      const p = await svc.provider("twilio");
      expect(p.sandbox).toBe(false);
      expect(svc.emulators.twilio).toBeUndefined();
      const since = new Date();
      const out = await p.send(msg("+15551110001", "through the base"), { timeoutMs: 5000 });
      expect(out).toMatchObject({ kind: "accepted", status: "queued" });
      if (out.kind !== "accepted") return;
      expect(emu.message(out.providerMessageId)).toMatchObject({ to: "+15551110001", from: FROM, body: "through the base" });
      expect(emu.requests.at(-1)).toMatchObject({ method: "POST", path: MESSAGES, authorized: true, status: 201 });
      expect((await p.lookup!({ to: "+15551110001", since }, { timeoutMs: 5000 })).map((m) => m.providerMessageId)).toEqual([out.providerMessageId]);
      expect(await p.balance({ timeoutMs: 5000 })).toEqual({ amount: "20.0000", currency: "USD" });
    } finally {
      await svc.close();
    }
  });

  it("several clients (as several worker processes would) share one emulator: it counts every request it received", async () => {
    const emu = await emulator();
    const a = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: emu.url, sandbox: false });
    const b = twilioProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM, baseUrl: emu.url, sandbox: false });
    await Promise.all([...Array.from({ length: 6 }, (_, i) => a.send(msg(`+155512000${i + 10}`), { timeoutMs: 5000 })), ...Array.from({ length: 4 }, (_, i) => b.send(msg(`+155513000${i + 10}`), { timeoutMs: 5000 }))]);
    expect(emu.requests.filter((r) => r.method === "POST" && r.path === MESSAGES && r.status === 201)).toHaveLength(10);
    expect(emu.messages()).toHaveLength(10);
  });
});

afterAll(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});
