// A customer reference names one contact of the caller's organization: exactly one of id, email
// or phone, unknown keys refused; the lookup never crosses organizations.
import { beforeAll, describe, expect, it } from "vitest";
import { NotFoundError, UserError } from "@marketsage/core";
import { CustomerRef, customerRefOf, findContact, hasCustomerRef } from "../src/index.ts";
import { ORG_A, ORG_B, useDomainDb } from "./db.ts";

const t = useDomainDb();
let a: { id: string; email: string; phone: string };
let b: { id: string; email: string; phone: string };

beforeAll(async () => {
  const pick = async (org: string) =>
    (await t.q(`select id::text, email, phone from contacts where organization_id = $1 and email is not null and phone like '+234%' order by id limit 1`, [org]))[0];
  a = await pick(ORG_A.id);
  b = await pick(ORG_B.id);
});

describe("CustomerRef", () => {
  it("takes exactly one of id, email or phone and refuses unknown keys", () => {
    expect(CustomerRef.safeParse({ email: "a@example.com" }).success).toBe(true);
    expect(CustomerRef.safeParse({}).success).toBe(false);
    expect(CustomerRef.safeParse({ email: "a@example.com", phone: "+2348031234567" }).success).toBe(false);
    const unknown = CustomerRef.safeParse({ email: "a@example.com", name: "Ada" });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]?.code).toBe("unrecognized_keys");
    expect(CustomerRef.safeParse({ id: "not-a-uuid" }).success).toBe(false);
  });

  it("customerRefOf says which fields were given when more than one is", () => {
    expect(customerRefOf({ phone: "0803", segment_id: "x" } as { phone: string })).toEqual({ phone: "0803" });
    expect(() => customerRefOf({})).toThrow(new UserError("Give exactly one of id, email or phone."));
    expect(() => customerRefOf({ id: "6d1f0c1e-1b1b-4c0e-9a51-6b1d3c2e0001", email: "a@example.com" })).toThrow(/exactly one of id, email or phone\. Got id and email\./);
    expect(() => customerRefOf({}, "scope 'customer' needs exactly one of id, email or phone.")).toThrow(/^scope 'customer'/);
    expect(() => customerRefOf({ id: "nope" })).toThrow(/^id: /);
    expect(hasCustomerRef({})).toBe(false);
    expect(hasCustomerRef({ email: "" })).toBe(true);
  });
});

describe("findContact", () => {
  it("finds the same contact by id, email in any case and phone in local format", async () => {
    expect((await findContact(t.db, ORG_A, { id: a.id })).id).toBe(a.id);
    expect((await findContact(t.db, ORG_A, { email: ` ${a.email.toUpperCase()} ` })).id).toBe(a.id);
    const local = "0" + a.phone.slice(4); // +234 803… → 0803… in the organization's country (NG)
    expect((await findContact(t.db, ORG_A, { phone: local })).id).toBe(a.id);
    expect((await findContact(t.db, ORG_A, { phone: a.phone })).email).toBe(a.email);
  });

  it("never finds another organization's contact, and says NOT_FOUND", async () => {
    await expect(findContact(t.db, ORG_A, { id: b.id })).rejects.toThrow(NotFoundError);
    await expect(findContact(t.db, ORG_A, { email: b.email })).rejects.toThrow(/A customer with that email was not found in this organization/);
    await expect(findContact(t.db, ORG_A, { phone: b.phone })).rejects.toThrow(/A customer with that phone/);
    expect((await findContact(t.db, ORG_B, { id: b.id })).id).toBe(b.id);
  });

  it("refuses an ambiguous reference and an unreadable phone as the caller's to fix", async () => {
    await expect(findContact(t.db, ORG_A, { id: a.id, email: a.email })).rejects.toThrow(new UserError("Give exactly one of id, email or phone."));
    await expect(findContact(t.db, ORG_A, {})).rejects.toThrow(UserError);
    await expect(findContact(t.db, ORG_A, { phone: "12" })).rejects.toThrow(/"12" is not a phone number we can read/);
  });
});
