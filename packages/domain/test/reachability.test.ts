// The reachability definition: the TS statement (isReachable / reachBitsOf) equals the SQL
// function marketsage_reach on every combination of its inputs and on every seeded contact, and
// the counting fragments count what a hand-written query counts.
import { describe, expect, it } from "vitest";
import { Prisma } from "@marketsage/db";
import { CHANNELS, channelsIn, CONTACT_STATUSES, isReachable, REACH_BIT, reachBitsOf, REACH_BITS, reachCounts, reachFlags, type ReachInputs } from "../src/index.ts";
import { ORG_A, useDomainDb } from "./db.ts";

const t = useDomainDb();

describe("reachability", () => {
  it("TS and marketsage_reach agree on every combination of status, addresses and consent", async () => {
    const consents = [null, "SUBSCRIBED", "UNSUBSCRIBED"] as const;
    const cases: ReachInputs[] = [];
    for (const status of CONTACT_STATUSES)
      for (const email of [null, "a@example.com"])
        for (const phone of [null, "+2348031234567"])
          for (const e of consents) for (const s of consents) for (const w of consents) cases.push({ status, email, phone, consent: { EMAIL: e, SMS: s, WHATSAPP: w } });
    expect(cases.length).toBe(4 * 2 * 2 * 27);
    const rows = await t.q<{ i: number; bits: number }>(
      `select i::int, marketsage_reach(x.status::"ContactStatus", x.email, x.phone, x.ce::"ConsentAction", x.cs::"ConsentAction", x.cw::"ConsentAction")::int as bits
         from jsonb_to_recordset($1::jsonb) as x(i int, status text, email text, phone text, ce text, cs text, cw text) order by i`,
      [JSON.stringify(cases.map((c, i) => ({ i, status: c.status, email: c.email, phone: c.phone, ce: c.consent.EMAIL, cs: c.consent.SMS, cw: c.consent.WHATSAPP })))],
    );
    expect(rows.map((r) => r.bits)).toEqual(cases.map(reachBitsOf));
    // and the rule reads as stated: only ACTIVE contacts with the address, subscribed on the channel
    const active = { status: "ACTIVE", email: "a@example.com", phone: null, consent: { EMAIL: "SUBSCRIBED", SMS: "SUBSCRIBED", WHATSAPP: null } } as const;
    expect(isReachable(active, "EMAIL")).toBe(true);
    expect(isReachable(active, "SMS")).toBe(false); // no phone
    expect(isReachable({ ...active, status: "BOUNCED" }, "EMAIL")).toBe(false);
    expect(channelsIn(REACH_BIT.EMAIL | REACH_BIT.WHATSAPP)).toEqual(["EMAIL", "WHATSAPP"]);
  });

  it("TS and SQL agree on every seeded contact, and the stored facts carry the same bits", async () => {
    const rows = await t.db.$queryRaw<Array<{ status: ReachInputs["status"]; email: string | null; phone: string | null; ce: string | null; cs: string | null; cw: string | null; bits: number; stored: number | null }>>`
      select c.status::text as status, c.email, c.phone, c.consent_email::text as ce, c.consent_sms::text as cs, c.consent_whatsapp::text as cw,
             ${REACH_BITS}::int as bits, f.reach::int as stored
        from contacts c left join contact_facts f on f.id = c.id`;
    expect(rows.length).toBeGreaterThan(100);
    const ts = rows.map((r) => reachBitsOf({ status: r.status, email: r.email, phone: r.phone, consent: { EMAIL: r.ce, SMS: r.cs, WHATSAPP: r.cw } as ReachInputs["consent"] }));
    expect(rows.map((r) => r.bits)).toEqual(ts);
    expect(rows.map((r) => r.stored)).toEqual(ts);
    expect(new Set(ts).size).toBeGreaterThan(3); // the seed covers several combinations, not one
  });

  it("reachCounts and reachFlags count like hand-written SQL", async () => {
    const [counts] = await t.db.$queryRaw<Array<{ email: number; sms: number; whatsapp: number }>>`
      select ${reachCounts(REACH_BITS)} from contacts c where c.organization_id = ${ORG_A.id}::uuid`;
    const [hand] = await t.q(
      `select count(*) filter (where status = 'ACTIVE' and email is not null and consent_email = 'SUBSCRIBED')::int as email,
              count(*) filter (where status = 'ACTIVE' and phone is not null and consent_sms = 'SUBSCRIBED')::int as sms,
              count(*) filter (where status = 'ACTIVE' and phone is not null and consent_whatsapp = 'SUBSCRIBED')::int as whatsapp
         from contacts where organization_id = $1`,
      [ORG_A.id],
    );
    expect(counts).toEqual(hand);
    expect(hand.email).toBeGreaterThan(0);
    const flags = await t.db.$queryRaw<Array<{ e_ok: boolean; s_ok: boolean; w_ok: boolean }>>`
      select ${reachFlags(Prisma.sql`b.bits`)} from (values (0), (1), (6), (7)) b(bits)`;
    expect(flags).toEqual([
      { e_ok: false, s_ok: false, w_ok: false },
      { e_ok: true, s_ok: false, w_ok: false },
      { e_ok: false, s_ok: true, w_ok: true },
      { e_ok: true, s_ok: true, w_ok: true },
    ]);
    expect(Object.keys(REACH_BIT)).toEqual(CHANNELS);
  });
});
