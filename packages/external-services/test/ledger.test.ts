// The send ledger: one claim per idempotency key under concurrency, conflicts, transient retries,
// settled outcomes and their events (checked in SQL).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { claimSend, IdempotencyConflict, requestHash, settleSend, type Claim } from "../src/send/ledger.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!.id;
const B = DEMO_ORGS[1]!.id;
let db: Db;
let db2: Db;
beforeAll(() => {
  db = openDb(tdb.url);
  db2 = openDb(tdb.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await db2?.$disconnect();
});

const claim = (over: Partial<Claim> = {}): Claim => {
  const request = { channel: "SMS", to: "+2348030000001", text: "Hello" };
  return {
    orgId: A, key: randomUUID(), hash: requestHash(request), channel: "SMS", recipient: request.to, sender: "MarketSage", contactId: null, body: request.text,
    provider: "africastalking", segments: 1, sandbox: true, templateId: null, now: new Date("2026-12-01T10:00:00Z"), ...over,
  };
};
const events = (id: string) => db.$queryRawUnsafe<Array<{ type: string }>>(`select type::text from message_events where message_id = $1::uuid order by id`, id).then((r) => r.map((x) => x.type));

describe("the send ledger", () => {
  it("the request hash is the canonical form's: key order does not matter, content does", () => {
    expect(requestHash({ a: 1, b: "x" })).toBe(requestHash({ b: "x", a: 1 }));
    expect(requestHash({ a: 1, b: "x" })).not.toBe(requestHash({ a: 1, b: "y" }));
  });

  it("12 concurrent claims of one key from two processes: exactly one claims, the rest see the same message in flight", async () => {
    const c = claim();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => claimSend(i % 2 ? db : db2, c)));
    const won = results.filter((r) => r.claimed);
    expect(won.length).toBe(1);
    const id = (won[0] as { messageId: string }).messageId;
    for (const r of results.filter((x) => !x.claimed)) expect(r).toMatchObject({ claimed: false, inFlight: true, message: { id, status: "QUEUED" } });
    const [n] = await db.$queryRawUnsafe<Array<{ n: number }>>(`select count(*)::int as n from messages where organization_id = $1::uuid and idempotency_key = $2`, A, c.key);
    expect(n!.n).toBe(1);
    expect(await events(id)).toEqual(["QUEUED"]);
  });

  it("same key with other content is a conflict naming the first message; another organization may use the same key", async () => {
    const c = claim();
    const first = await claimSend(db, c);
    const other = { ...c, hash: requestHash({ channel: "SMS", to: c.recipient, text: "Different" }) };
    await expect(claimSend(db, other)).rejects.toThrow(IdempotencyConflict);
    await expect(claimSend(db, other)).rejects.toThrow((first as { messageId: string }).messageId);
    expect((await claimSend(db, { ...c, orgId: B })).claimed).toBe(true);
  });

  it("accepted: SENT with the provider id and cost; a retry returns that result and does not claim", async () => {
    const c = claim();
    const r = await claimSend(db, c);
    const id = (r as { messageId: string }).messageId;
    const m = await settleSend(db, A, id, { kind: "accepted", providerMessageId: "ATXid_1", status: "sent", cost: { amount: "0.8000", currency: "KES" } }, new Date("2026-12-01T10:00:01Z"));
    expect(m).toMatchObject({ status: "SENT", providerMessageId: "ATXid_1", cost: "0.8000", currency: "KES", errorCode: null });
    const again = await claimSend(db, c);
    expect(again).toMatchObject({ claimed: false, inFlight: false, message: { id, status: "SENT", providerMessageId: "ATXid_1" } });
    expect(await events(id)).toEqual(["QUEUED", "SENT"]);
  });

  it("transient: FAILED, and a retry with the same key claims the same row again (once, under concurrency)", async () => {
    const c = claim();
    const id = ((await claimSend(db, c)) as { messageId: string }).messageId;
    const failed = await settleSend(db, A, id, { kind: "transient", code: "http_500", reason: "the provider failed; nothing was sent" }, c.now);
    expect(failed).toMatchObject({ status: "FAILED", errorCode: "transient:http_500" });
    const retries = await Promise.all([claimSend(db, c), claimSend(db2, c), claimSend(db, c)]);
    expect(retries.filter((r) => r.claimed)).toEqual([{ claimed: true, messageId: id }]);
    expect(await events(id)).toEqual(["QUEUED", "FAILED", "QUEUED"]);
  });

  it("definite and unknown outcomes are final for the key", async () => {
    const d = claim();
    const did = ((await claimSend(db, d)) as { messageId: string }).messageId;
    await settleSend(db, A, did, { kind: "definite", code: "invalid_number", reason: "the provider says the number is invalid" }, d.now);
    expect(await claimSend(db, d)).toMatchObject({ claimed: false, message: { status: "FAILED", errorCode: "invalid_number" } });
    const u = claim();
    const uid = ((await claimSend(db, u)) as { messageId: string }).messageId;
    await settleSend(db, A, uid, { kind: "unknown", reason: "no answer within 10 s" }, u.now);
    expect(await claimSend(db, u)).toMatchObject({ claimed: false, inFlight: false, message: { status: "OUTCOME_UNKNOWN", errorCode: "outcome_unknown" } });
    expect(await events(uid)).toEqual(["QUEUED"]);
  });

  it("settling another organization's message is refused", async () => {
    const id = ((await claimSend(db, claim())) as { messageId: string }).messageId;
    await expect(settleSend(db, B, id, { kind: "unknown", reason: "x" }, new Date())).rejects.toThrow("not this organization's");
  });
});
