import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import type { Circuit } from "../src/providers/circuit.ts";
import { observedDelivery, rankSmsProviders, type RouteInput } from "../src/send/route.ts";

const closed = (provider: "africastalking" | "twilio"): Circuit => ({ provider, state: "closed", consecutiveFailures: 0, openedAt: null, retryAt: null });
const cost = (provider: "africastalking" | "twilio", amount: string, currency: string) => ({
  provider, country: "NG", units: 1, unitCost: { amount, currency }, total: { amount, currency }, source: "test",
});
const input = (provider: "africastalking" | "twilio", costReporting: number | null, delivered: number, failed: number, over: Partial<RouteInput> = {}): RouteInput => ({
  provider, cost: costReporting === null ? null : cost(provider, String(costReporting), "NGN"), costReporting,
  observed: { delivered, failed, rate: delivered + failed ? delivered / (delivered + failed) : null }, circuit: closed(provider), ...over,
});

describe("ranking SMS providers for auto", () => {
  it("the cheaper per delivered message wins, even at a higher price per message", () => {
    // 4.00 / 0.50 = 8.00 per delivered vs 5.00 / 0.99 = 5.05
    const d = rankSmsProviders([input("africastalking", 4, 50, 50), input("twilio", 5, 99, 1)], ["africastalking", "twilio"], "NGN");
    expect(d.order).toEqual(["twilio", "africastalking"]);
    expect(d.ranked.find((r) => r.provider === "twilio")!.reason).toBe("twilio: 5 NGN, 99.0% delivered of 100 in 7 days → 5.0505 NGN per delivered message");
  });
  it("too few outcomes: the price alone; a tie keeps the configured order", () => {
    const d = rankSmsProviders([input("africastalking", 4, 1, 9), input("twilio", 4, 0, 0)], ["twilio", "africastalking"], "NGN");
    expect(d.order).toEqual(["twilio", "africastalking"]);
    expect(d.ranked[0]!.reason).toContain("(under 20: not used)");
  });
  it("an open circuit is skipped, saying when it retries; no rate ranks last", () => {
    const open: Circuit = { provider: "twilio", state: "open", consecutiveFailures: 5, openedAt: new Date("2026-12-01T10:00:00Z"), retryAt: new Date("2026-12-01T10:00:30Z") };
    const d = rankSmsProviders([input("africastalking", null, 0, 0), input("twilio", 1, 100, 0, { circuit: open })], ["africastalking", "twilio"], "NGN");
    expect(d.order).toEqual(["africastalking"]);
    expect(d.ranked[1]).toMatchObject({ eligible: false, reason: "twilio: circuit open after 5 failures (retry at 2026-12-01T10:00:30.000Z)" });
    expect(d.ranked[0]!.reason).toContain("no rate for this country");
  });
});

describe("observed delivery on the seeded data", () => {
  const tdb = useTestDatabase();
  let db: Db;
  beforeAll(() => {
    db = openDb(tdb.url);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });
  it("equals a hand-written count over the last 7 days of the seed's clock", async () => {
    const org = DEMO_ORGS[0]!.id;
    const [{ now }] = (await db.$queryRawUnsafe<Array<{ now: Date }>>(`select max(occurred_at) + interval '1 second' as now from message_events where organization_id = $1`, org)) as [{ now: Date }];
    const got = await observedDelivery(db, org, now);
    const want = await db.$queryRawUnsafe<Array<{ provider: string; d: number; f: number }>>(
      `select m.provider, sum((e.type = 'DELIVERED')::int)::int as d, sum((e.type = 'FAILED')::int)::int as f
         from messages m join message_events e on e.message_id = m.id
        where m.organization_id = $1 and m.channel = 'SMS' and e.type in ('DELIVERED', 'FAILED') and e.occurred_at >= $2::timestamptz - interval '7 days' and e.occurred_at < $2
        group by 1 order by 1`, org, now,
    );
    expect(want.length).toBeGreaterThan(0);
    expect([...got.entries()].map(([p, o]) => ({ provider: p, d: o.delivered, f: o.failed })).sort((a, b) => a.provider.localeCompare(b.provider))).toEqual(want);
    for (const o of got.values()) expect(o.rate).toBeCloseTo(o.delivered / (o.delivered + o.failed), 12);
  });
});
