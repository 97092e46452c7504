// SMS auto routing's failover, through sendMessage with a service whose Africa's Talking sandbox
// account is empty: a provider-side definite refusal (insufficient balance) moves the same message
// row on to Twilio; a recipient's refusal, a transient failure and a timeout do not.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, openDb, type Db } from "@marketsage/db";
import { scopesFor, type Principal } from "@marketsage/core";
import { useTestDatabase } from "@marketsage/core/testing";
import { createMessagingService, type MessagingService } from "../src/service.ts";
import { sendMessage } from "../src/send/send.ts";

const tdb = useTestDatabase();
const ORG = DEMO_ORGS[0]!;
let db: Db;
let svc: MessagingService;
let principal: Principal;
const now = () => new Date("2026-12-01T10:00:00Z"); // daytime in Nairobi

beforeAll(async () => {
  db = openDb(tdb.url);
  svc = createMessagingService(db, { env: { MESSAGING_SEND_TIMEOUT_MS: "500", MESSAGING_SMS_ORDER: "africastalking,twilio" }, reportDelayMs: 5, sandboxBalances: { africastalking: { amount: "0.0000", currency: "KES" } } });
  const [u] = await db.$queryRawUnsafe<Array<{ id: string }>>(`select id::text from users where organization_id = $1::uuid limit 1`, ORG.id);
  const [o] = await db.$queryRawUnsafe<Array<{ name: string; reporting_currency: string; default_country: string; time_zone: string }>>(
    `select name, trim(reporting_currency) reporting_currency, trim(default_country) default_country, time_zone from organizations where id = $1::uuid`, ORG.id,
  );
  principal = { userId: u!.id, apiKeyId: randomUUID(), role: "AI_AGENT", scopes: scopesFor("AI_AGENT"), org: { id: ORG.id, name: o!.name, reportingCurrency: o!.reporting_currency, defaultCountry: o!.default_country, timeZone: o!.time_zone } } as Principal;
});
afterAll(async () => {
  await svc?.close();
  await db?.$disconnect();
});

const send = (to: string) => sendMessage(db, svc, principal, { channel: "SMS", to, text: "Your order is ready", idempotencyKey: `fo-${randomUUID()}`, dryRun: false }, { now, canOverrideQuietHours: false });
const row = async (id: string) => (await db.$queryRawUnsafe<Array<{ provider: string; status: string }>>(`select provider, status::text from messages where id = $1::uuid`, id))[0]!;

describe("failover for provider auto", () => {
  it("insufficient balance at Africa's Talking (ranked first for Kenya): the same message goes out through Twilio", async () => {
    const r = await send("+254711990001");
    expect(r.attempts.map((a) => [a.provider, a.outcome, a.code])).toEqual([["africastalking", "definite", "insufficient_balance"], ["twilio", "accepted", null]]);
    expect(r.provider).toBe("twilio");
    expect(await row(r.message!.id)).toMatchObject({ provider: "twilio" });
  });

  it("not on a recipient's refusal, a transient failure or a timeout", async () => {
    // No rate for +1 numbers: the order decides, Twilio first (its account has money).
    const svc2 = createMessagingService(db, { env: { MESSAGING_SEND_TIMEOUT_MS: "500", MESSAGING_SMS_ORDER: "twilio,africastalking" }, reportDelayMs: 5 });
    try {
      for (const [suffix, outcome] of [["0003", "definite"], ["0005", "transient"], ["0006", "unknown"]] as const) {
        const r = await sendMessage(db, svc2, principal, { channel: "SMS", to: `+1415555${suffix}`, text: "Hello", idempotencyKey: `fo-${randomUUID()}`, dryRun: false }, { now, canOverrideQuietHours: false });
        expect(r.route).not.toBeNull();
        expect(r.attempts.map((a) => [a.provider, a.outcome])).toEqual([["twilio", outcome]]);
      }
    } finally {
      await svc2.close();
    }
  });
});
