import { describe, expect, it } from "vitest";
import { ORG_A, ORG_B, errorText, useCustomerData } from "./setup.ts";

const cd = useCustomerData();

describe("search_customers", () => {
  it("pages through every contact of the organization exactly once, newest first", async () => {
    const [{ n }] = await cd.q(`select count(*)::int n from contacts where organization_id = $1`, [ORG_A.id]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await cd.call("ADMIN", "search_customers", { limit: 100, ...(cursor ? { cursor } : {}) });
      seen.push(...page.customers.map((c: { id: string }) => c.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen.length).toBe(n);
    expect(new Set(seen).size).toBe(n);
    const expected = await cd.q(`select id::text from contacts where organization_id = $1 order by created_at desc, id desc`, [ORG_A.id]);
    expect(seen).toEqual(expected.map((r) => r.id));
  });

  it("finds a customer by a phone typed in local and international formats", async () => {
    const [c] = await cd.q(`select id::text, phone from contacts where organization_id = $1 and phone like '+234%' order by id limit 1`, [ORG_A.id]);
    const national = `0${c.phone.slice(4)}`; // +2348031234567 → 08031234567
    const spaced = `+234 ${c.phone.slice(4, 7)} ${c.phone.slice(7, 10)} ${c.phone.slice(10)}`;
    for (const query of [c.phone, national, spaced]) {
      const r = await cd.call("ADMIN", "search_customers", { query });
      expect(r.matched_as).toBe("phone");
      expect(r.customers.map((x: { id: string }) => x.id)).toEqual([c.id]);
    }
  });

  it("matches names case-insensitively, every word, like an independent ILIKE query", async () => {
    const [c] = await cd.q(`select first_name, last_name from contacts where organization_id = $1 and first_name is not null and last_name is not null order by id limit 1`, [ORG_A.id]);
    const query = `${c.first_name.toLowerCase()} ${c.last_name.toUpperCase()}`;
    const r = await cd.call("ADMIN", "search_customers", { query, limit: 100 });
    const expected = await cd.q(
      `select id::text from contacts where organization_id = $1
         and (first_name ilike $2 or last_name ilike $2 or email ilike $2 or company ilike $2)
         and (first_name ilike $3 or last_name ilike $3 or email ilike $3 or company ilike $3)
       order by created_at desc, id desc`,
      [ORG_A.id, `%${c.first_name}%`, `%${c.last_name}%`],
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(r.customers.map((x: { id: string }) => x.id)).toEqual(expected.map((x) => x.id).slice(0, 100));
  });

  it("filters by status, country and consent like hand-written SQL", async () => {
    const r = await cd.call("ADMIN", "search_customers", { country: ["ng"], status: ["ACTIVE"], consent: { channel: "WHATSAPP", state: "subscribed" }, limit: 100 });
    const expected = await cd.q(
      `select c.id::text from contacts c
        where c.organization_id = $1 and c.country = 'NG' and c.status = 'ACTIVE'
          and (select ce.action from consent_events ce where ce.contact_id = c.id and ce.channel = 'WHATSAPP' order by ce.occurred_at desc, ce.id desc limit 1) = 'SUBSCRIBED'
        order by c.created_at desc, c.id desc limit 100`,
      [ORG_A.id],
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(r.customers.map((x: { id: string }) => x.id)).toEqual(expected.map((x) => x.id));
  });

  it("masks emails and phones for roles without contacts:pii", async () => {
    const agent = await cd.call("AI_AGENT", "search_customers", { limit: 20 });
    const admin = await cd.call("ADMIN", "search_customers", { limit: 20 });
    expect(agent.pii_masked).toBe(true);
    expect(admin.pii_masked).toBe(false);
    const withEmail = admin.customers.findIndex((c: { email: string | null }) => c.email);
    const withPhone = admin.customers.findIndex((c: { phone: string | null }) => c.phone);
    const email: string = admin.customers[withEmail].email;
    expect(agent.customers[withEmail].email).toBe(`${email[0]}***${email.slice(email.indexOf("@"))}`);
    const phone: string = admin.customers[withPhone].phone;
    expect(agent.customers[withPhone].phone).toMatch(new RegExp(`^\\+\\d{1,3} \\*\\*\\* \\*\\*\\* ${phone.slice(-4)}$`));
    expect(JSON.stringify(agent)).not.toContain(phone);
  });

  it("never returns another organization's customers", async () => {
    const [b] = await cd.q(`select email, phone, id::text from contacts where organization_id = $1 and email is not null and phone is not null limit 1`, [ORG_B.id]);
    for (const query of [b.email, b.phone]) {
      const r = await cd.call("SUPER_ADMIN", "search_customers", { query }, ORG_A);
      expect(r.customers).toEqual([]);
    }
    const all = await cd.call("SUPER_ADMIN", "search_customers", { limit: 100 }, ORG_B);
    const ids = all.customers.map((c: { id: string }) => c.id);
    const foreign = await cd.q(`select count(*)::int n from contacts where id = any($1::uuid[]) and organization_id <> $2`, [ids, ORG_B.id]);
    expect(foreign[0].n).toBe(0);
  });

  it("treats injection attempts as plain text", async () => {
    // Single words: the tool requires every word to match, and so does this SQL.
    for (const query of ["'or'1'='1", "%", "_", "\\", "');drop/**/table/**/contacts;--"]) {
      const r = await cd.call("ADMIN", "search_customers", { query });
      const expected = await cd.q(
        `select count(*)::int n from contacts where organization_id = $1 and (first_name ilike $2 or last_name ilike $2 or email ilike $2 or company ilike $2)`,
        [ORG_A.id, `%${query.replace(/[\\%_]/g, (m) => `\\${m}`)}%`],
      );
      expect(r.customers.length).toBe(Math.min(expected[0].n, 20));
    }
    expect((await cd.q(`select count(*)::int n from contacts`))[0].n).toBeGreaterThan(0);
  });

  it("refuses a malformed cursor with a way forward", async () => {
    const r = await cd.callRaw("ADMIN", "search_customers", { cursor: "not-a-cursor" });
    expect(r.isError).toBe(true);
    expect(errorText(r)).toMatch(/cursor is not valid.*without a cursor/);
  });
});
