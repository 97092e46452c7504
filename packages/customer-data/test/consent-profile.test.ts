import { describe, expect, it } from "vitest";
import { ORG_A, ORG_B, errorText, useCustomerData } from "./setup.ts";

const cd = useCustomerData();

describe("get_customer_profile", () => {
  it("finds the same customer by id, email and phone, with consent as in the history", async () => {
    const [c] = await cd.q(`select id::text, email, phone from contacts where organization_id = $1 and email is not null and phone is not null order by id limit 1`, [ORG_A.id]);
    const byId = await cd.call("ADMIN", "get_customer_profile", { id: c.id });
    const byEmail = await cd.call("ADMIN", "get_customer_profile", { email: c.email.toUpperCase() });
    const byPhone = await cd.call("ADMIN", "get_customer_profile", { phone: c.phone });
    expect(byEmail.customer.id).toBe(c.id);
    expect(byPhone.customer.id).toBe(c.id);
    const latest = await cd.q(
      `select distinct on (channel) channel::text, action::text from consent_events where contact_id = $1 order by channel, occurred_at desc, id desc`,
      [c.id],
    );
    for (const ch of byId.consent) {
      const l = latest.find((x) => x.channel === ch.channel);
      expect(ch.state).toBe(l ? (l.action === "SUBSCRIBED" ? "subscribed" : "unsubscribed") : "unknown");
    }
  });

  it("orders the timeline newest first and pages it without gaps", async () => {
    const [c] = await cd.q(
      `select contact_id::text id from message_events where organization_id = $1 and contact_id is not null group by contact_id order by count(*) desc limit 1`,
      [ORG_A.id],
    );
    const [{ n }] = await cd.q(
      `select ((select count(*) from message_events where contact_id = $1) + (select count(*) from conversions where contact_id = $1)
              + (select count(*) from visitor_sessions s join visitors v on v.id = s.visitor_id where v.contact_id = $1))::int n`,
      [c.id],
    );
    const items: Array<{ at: string }> = [];
    let cursor: string | undefined;
    do {
      const r = await cd.call("ADMIN", "get_customer_profile", { id: c.id, timeline_limit: 7, ...(cursor ? { timeline_cursor: cursor } : {}) });
      items.push(...r.timeline.items);
      cursor = r.timeline.next_cursor ?? undefined;
    } while (cursor);
    expect(items.length).toBe(n);
    const times = items.map((i) => Date.parse(i.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("says clearly when the customer is not in this organization", async () => {
    const [b] = await cd.q(`select id::text from contacts where organization_id = $1 limit 1`, [ORG_B.id]);
    const r = await cd.callRaw("SUPER_ADMIN", "get_customer_profile", { id: b.id });
    expect(r.isError).toBe(true);
    expect(errorText(r)).toMatch(/NOT_FOUND: Customer .* was not found in this organization/);
    const both = await cd.callRaw("ADMIN", "get_customer_profile", { id: b.id, email: "x@y.z" });
    expect(errorText(both)).toMatch(/exactly one of id, email or phone/);
  });

  it("serves the same JSON as the customer:// resource", async () => {
    const [c] = await cd.q(`select id::text from contacts where organization_id = $1 order by id limit 1`, [ORG_A.id]);
    const tool = await cd.call("ADMIN", "get_customer_profile", { id: c.id });
    const res = await (await cd.as("ADMIN")).client.readResource({ uri: `customer://${c.id}` });
    expect(JSON.parse((res.contents[0] as { text: string }).text)).toEqual(tool);
  });
});

describe("update_customer_consent", () => {
  it("appends to the history, changes reachability at once, and commits its audit row with it", async () => {
    const [c] = await cd.q(`select id::text from contacts where organization_id = $1 and status = 'ACTIVE' and phone is not null and consent_sms = 'SUBSCRIBED' order by id limit 1`, [ORG_A.id]);
    const [{ before }] = await cd.q(`select count(*)::int before from consent_events where contact_id = $1`, [c.id]);
    const r = await cd.call("AI_AGENT", "update_customer_consent", { id: c.id, channel: "SMS", action: "unsubscribe", source: "agent_chat", reason: "asked to stop texts" });
    expect(r.changed).toBe(true);
    expect(r.consent).toMatchObject({ channel: "SMS", state: "unsubscribed", reachable: false, source: "agent_chat", reason: "asked to stop texts" });
    const rows = await cd.q(`select action::text, source from consent_events where contact_id = $1 order by occurred_at, id`, [c.id]);
    expect(rows.length).toBe(before + 1);
    expect(rows.at(-1)).toEqual({ action: "UNSUBSCRIBED", source: "agent_chat" });
    const [cur] = await cd.q(`select consent_sms::text from contacts where id = $1`, [c.id]);
    expect(cur.consent_sms).toBe("UNSUBSCRIBED");
    const hit = await cd.call("ADMIN", "search_customers", { consent: { channel: "SMS", state: "unsubscribed" }, limit: 100 });
    expect(hit.customers.map((x: { id: string }) => x.id)).toContain(c.id);
    const [audit] = await cd.q(`select outcome::text, role::text from audit_events where tool = 'update_customer_consent' order by id desc limit 1`);
    expect(audit).toEqual({ outcome: "ALLOWED", role: "AI_AGENT" });

    const again = await cd.call("AI_AGENT", "update_customer_consent", { id: c.id, channel: "SMS", action: "unsubscribe", source: "agent_chat" });
    expect(again.changed).toBe(false);
    expect((await cd.q(`select count(*)::int n from consent_events where contact_id = $1`, [c.id]))[0].n).toBe(before + 1);
  });

  it("refuses a customer of another organization and writes nothing", async () => {
    const [b] = await cd.q(`select id::text from contacts where organization_id = $1 limit 1`, [ORG_B.id]);
    const [{ before }] = await cd.q(`select count(*)::int before from consent_events`);
    const r = await cd.callRaw("SUPER_ADMIN", "update_customer_consent", { id: b.id, channel: "EMAIL", action: "unsubscribe", source: "test" });
    expect(r.isError).toBe(true);
    expect((await cd.q(`select count(*)::int n from consent_events`))[0].n).toBe(before);
  });

  it("refuses subscribing a channel the customer has no address for", async () => {
    const [c] = await cd.q(`select id::text from contacts where organization_id = $1 and email is null limit 1`, [ORG_A.id]);
    const r = await cd.callRaw("ADMIN", "update_customer_consent", { id: c.id, channel: "EMAIL", action: "subscribe", source: "test" });
    expect(errorText(r)).toMatch(/has no email address/);
  });
});
