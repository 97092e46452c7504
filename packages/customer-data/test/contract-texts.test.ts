// customer-data's side of the contract beyond the harness calls (test/contract-calls.test.ts):
// unknown arguments refused by name at every depth (the search_customers {"city": …}), and
// the text carrying the structured content on every branch a render has (pages with cursors,
// masked personal data, members, distributions, writes that change or do not).
import { describe, expect, it } from "vitest";
import type { Role } from "@marketsage/db";
import { customerDataTools } from "../src/server.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { errorText, ORG_A, useCustomerData } from "./setup.ts";

const cd = useCustomerData();
const byName = new Map(Object.values(customerDataTools).map((t) => [t.name, t]));

async function textCarries(role: Role, name: string, args: Record<string, unknown>) {
  const r = await cd.callRaw(role, name, args);
  const text = errorText(r);
  expect(r.isError, text).toBeFalsy();
  expect(text).not.toContain("[truncated");
  expect(valuesMissingFromText(r.structuredContent, byName.get(name)!.output, text), `${name} ${JSON.stringify(args)}\n${text}`).toEqual([]);
  return { structured: r.structuredContent as Record<string, any>, text };
}

describe("strict input", () => {
  it("refuses an unknown argument, naming it and the accepted ones (nothing is searched)", async () => {
    const r = await cd.callRaw("ADMIN", "search_customers", { city: "Lagos" });
    expect(r.isError).toBe(true);
    expect(errorText(r)).toBe(
      'INVALID_INPUT: Invalid arguments for search_customers: Unknown argument "city"; accepted: query, status, country, segment_id, consent, limit, cursor',
    );
  });

  it("refuses unknown keys inside nested arguments and inside segment rules", async () => {
    const nested = await cd.callRaw("ADMIN", "search_customers", { consent: { channel: "SMS", state: "subscribed", since: "2026-01-01" } });
    expect(errorText(nested)).toContain('consent: unknown key "since"; accepted: channel, state');
    const range = await cd.callRaw("ADMIN", "list_segments", { range: { preset: "7d", until: "now" } });
    expect(errorText(range)).toContain('range: unknown key "until"; accepted: preset, from, to');
    const rule = await cd.callRaw("ADMIN", "preview_segment", { rules: { all: [{ field: "country", op: "eq", value: "NG", city: "Lagos" }] } });
    expect(errorText(rule)).toContain("INVALID_INPUT: Invalid rule at rules.all[0]: unexpected key(s) city; allowed here: field, op, value");
  });
});

describe("the text carries the structured content", () => {
  it("search: a page with its cursor, unmasked and masked", async () => {
    const page = await textCarries("ADMIN", "search_customers", { limit: 3 });
    expect(page.structured.next_cursor).toEqual(expect.any(String));
    const masked = await textCarries("USER", "search_customers", { limit: 3, cursor: page.structured.next_cursor });
    expect(masked.structured.pii_masked).toBe(true);
    expect(masked.text).toContain("masked");
  });

  it("profile: consent, segments, prediction inputs, a timeline page and its cursor", async () => {
    const [c] = await cd.q<{ id: string }>(
      `select c.id::text as id from contacts c where c.organization_id = $1::uuid
          and (select count(*) from message_events e where e.contact_id = c.id) > 3
          and exists (select 1 from segment_members m where m.contact_id = c.id and m.removed_at is null)
        order by c.created_at limit 1`,
      [ORG_A.id],
    );
    const r = await textCarries("ADMIN", "get_customer_profile", { id: c!.id, timeline_limit: 2 });
    expect(r.structured.timeline.next_cursor).toEqual(expect.any(String));
    expect(r.structured.segments.length).toBeGreaterThan(0);
    expect(r.structured.prediction).not.toBeNull();
    await textCarries("USER", "get_customer_profile", { id: c!.id, timeline_limit: 3, timeline_cursor: r.structured.timeline.next_cursor });
  });

  it("segments: the list with its cursor; one segment with and without its members (the texts differ)", async () => {
    const list = await textCarries("ADMIN", "list_segments", { limit: 1 });
    expect(list.structured.next_cursor).toEqual(expect.any(String));
    const id = list.structured.segments[0].id as string;
    const without = await textCarries("ADMIN", "get_segment", { id });
    const withMembers = await textCarries("ADMIN", "get_segment", { id, include_members: true, members_limit: 2 });
    expect(withMembers.structured.members.items.length).toBeGreaterThan(0);
    expect(withMembers.text).not.toBe(without.text);
    for (const m of withMembers.structured.members.items) expect(withMembers.text).toContain(m.id);
    const [rules] = await cd.q<{ id: string }>(`select id::text as id from segments where organization_id = $1::uuid and rules is not null order by name limit 1`, [
      ORG_A.id,
    ]);
    await textCarries("USER", "get_segment", { id: rules!.id, include_members: true, members_limit: 2 });
  });

  it("preview: figures, the rules in words and a sample", async () => {
    await textCarries("ADMIN", "preview_segment", { rules: { any: [{ field: "country", op: "in", value: ["NG", "KE"] }, { field: "tag", op: "has", value: "vip" }] }, sample_size: 3 });
    await textCarries("USER", "preview_segment", { rules: { behavior: "consent", channel: "SMS", state: "subscribed" }, sample_size: 0 });
  });

  it("predictions: one customer with its inputs; the distribution over the organization and over a segment", async () => {
    const org = await textCarries("ADMIN", "get_customer_predictions", {});
    expect(Object.keys(org.structured.distribution.next_best_action).length).toBeGreaterThan(0);
    const list = await cd.call("ADMIN", "list_segments", { limit: 1 });
    await textCarries("ADMIN", "get_customer_predictions", { segment_id: list.segments[0].id });
    const some = await cd.call("ADMIN", "search_customers", { limit: 1 });
    await textCarries("ADMIN", "get_customer_predictions", { id: some.customers[0].id });
  });

  it("writes: consent changed and unchanged; refresh for a segment", async () => {
    const some = await cd.call("ADMIN", "search_customers", { consent: { channel: "EMAIL", state: "subscribed" }, limit: 1 });
    const id = some.customers[0].id as string;
    const changed = await textCarries("AI_AGENT", "update_customer_consent", { id, channel: "EMAIL", action: "unsubscribe", source: "agent_chat", reason: "asked by phone" });
    expect(changed.structured.changed).toBe(true);
    const same = await textCarries("AI_AGENT", "update_customer_consent", { id, channel: "EMAIL", action: "unsubscribe", source: "agent_chat" });
    expect(same.structured.changed).toBe(false);
    const list = await cd.call("ADMIN", "list_segments", { limit: 1 });
    await textCarries("AI_AGENT", "refresh_predictions", { scope: "segment", segment_id: list.segments[0].id });
  });
});
