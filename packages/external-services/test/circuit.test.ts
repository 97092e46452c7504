// The provider circuit breaker, in the database: thresholds, half open, definite refusals, and
// concurrent processes never losing a count.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type Db } from "@marketsage/db";
import { useTestDatabase } from "@marketsage/core/testing";
import { allows, CIRCUIT_POLICY, readCircuits, recordOutcome, resetCircuit } from "../src/providers/circuit.ts";

const tdb = useTestDatabase();
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

const t0 = new Date("2026-12-01T10:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);

describe("circuit breaker per provider", () => {
  it("opens after 5 consecutive provider-side failures, not before; a definite refusal resets the count", async () => {
    await resetCircuit(db, "twilio");
    for (let i = 0; i < 4; i++) expect((await recordOutcome(db, "twilio", i % 2 ? "unknown" : "transient", at(i))).state).toBe("closed");
    expect((await recordOutcome(db, "twilio", "definite", at(5))).consecutiveFailures).toBe(0);
    for (let i = 0; i < 4; i++) await recordOutcome(db, "twilio", "transient", at(10 + i));
    const open = await recordOutcome(db, "twilio", "transient", at(20));
    expect(open).toMatchObject({ state: "open", consecutiveFailures: 5 });
    expect(open.retryAt?.toISOString()).toBe(at(20 + CIRCUIT_POLICY.openMs).toISOString());
    const [seen] = await readCircuits(db2, ["twilio"], at(1_000));
    expect(allows(seen!)).toBe(false);
  });

  it("is half open after 30 s: a failed trial opens it again from then, an accepted one closes it", async () => {
    const later = at(20 + CIRCUIT_POLICY.openMs);
    expect((await readCircuits(db, ["twilio"], later))[0]!.state).toBe("half_open");
    // A late failure from a send started before it opened does not extend the open time.
    await recordOutcome(db, "twilio", "transient", at(500));
    expect((await readCircuits(db, ["twilio"], later))[0]!.state).toBe("half_open");
    const reopened = await recordOutcome(db, "twilio", "unknown", later);
    expect(reopened.state).toBe("open");
    expect(reopened.retryAt?.toISOString()).toBe(new Date(later.getTime() + CIRCUIT_POLICY.openMs).toISOString());
    const closed = await recordOutcome(db, "twilio", "accepted", new Date(later.getTime() + CIRCUIT_POLICY.openMs));
    expect(closed).toMatchObject({ state: "closed", consecutiveFailures: 0, openedAt: null });
  });

  it("a provider never seen is closed; circuits are per provider", async () => {
    const [a, b] = await readCircuits(db, ["africastalking", "whatsapp"], t0);
    expect([a!.state, b!.state]).toEqual(["closed", "closed"]);
  });

  it("concurrent failures from two processes are all counted", async () => {
    await resetCircuit(db, "africastalking");
    await Promise.all(Array.from({ length: 4 }, (_, i) => recordOutcome(i % 2 ? db : db2, "africastalking", "transient", at(i))));
    expect((await readCircuits(db, ["africastalking"], at(10)))[0]!.consecutiveFailures).toBe(4);
    expect((await recordOutcome(db2, "africastalking", "transient", at(11))).state).toBe("open");
  });
});
