// get_visitor: the journey equals the visitor's touchpoint rows in (time, id) order and pages
// without loss or repeats (ties at one instant included); the first visit's source follows the
// documented rule, computed here in TypeScript; contact masking per role; reachability from the
// contact's consent; bots flagged; other organizations' visitors are NOT_FOUND.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { getVisitor } from "../src/tools/get-visitor.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([getVisitor]);

interface Row { id: string; type: string; url: string; occurred_at: Date }

/** The documented source rule, in TS: UTM source lower-cased, else the referrer's host without www., else direct. */
function sourceOf(utm: string | null, referrer: string | null): string {
  const u = utm?.trim().toLowerCase();
  if (u) return u;
  const m = referrer ? /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#:]+)/.exec(referrer) : null;
  const host = m ? m[1]!.toLowerCase().replace(/^www\./, "") : "";
  return host || "direct";
}

describe("get_visitor", () => {
  let visitor: { id: string; contact_id: string };
  beforeAll(async () => {
    // The identified visitor of organization A with the most touchpoints.
    [visitor] = await lp.q<{ id: string; contact_id: string }>(`
      select v.id::text, v.contact_id::text from visitors v join touchpoints t on t.visitor_id = v.id
       where v.organization_id = $1 and v.contact_id is not null and not v.is_bot group by v.id order by count(*) desc, v.id limit 1`, [ORG_A.id]) as [{ id: string; contact_id: string }];
    // Three touchpoints at one instant (ties are ordered by id) in the middle of the history.
    const [{ mid }] = await lp.q(`select percentile_disc(0.5) within group (order by occurred_at) as mid from touchpoints where visitor_id = $1`, [visitor.id]);
    for (const path of ["/tie-a", "/tie-b", "/tie-c"]) {
      await lp.q(`insert into touchpoints (organization_id, visitor_id, contact_id, type, url, occurred_at) values ($1, $2, $3, 'CLICK', $4, $5)`, [ORG_A.id, visitor.id, visitor.contact_id, `https://shop.test${path}?x=1`, mid]);
    }
  });

  it("pages through the whole journey oldest first, equal to the rows in (occurred_at, id) order", async () => {
    const rows = await lp.q<Row>(`select id::text, type::text, url, occurred_at from touchpoints where organization_id = $1 and visitor_id = $2 order by occurred_at, id`, [ORG_A.id, visitor.id]);
    expect(rows.length).toBeGreaterThan(20);
    const got: Array<{ at: string; type: string; url: string }> = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await lp.call("USER", "get_visitor", { id: visitor.id, journey_limit: 4, ...(cursor ? { journey_cursor: cursor } : {}) });
      expect(r.journey.order).toBe("oldest_first");
      expect(r.journey.items.length).toBeLessThanOrEqual(4);
      got.push(...r.journey.items);
      cursor = r.journey.next_cursor ?? undefined;
      pages++;
    } while (cursor && pages < 100);
    expect(got.map((t) => [t.at, t.type, t.url])).toEqual(rows.map((t) => [t.occurred_at.toISOString(), t.type, t.url]));
    expect(pages).toBe(Math.ceil(rows.length / 4));
    // The default page is the first 20.
    const first = await lp.call("USER", "get_visitor", { id: visitor.id });
    expect(first.journey.items.map((t: Row & { at: string }) => t.url)).toEqual(rows.slice(0, 20).map((t) => t.url));
    expect(first.journey.next_cursor).not.toBeNull();
  });

  it("profile, sessions and the first visit's source equal the stored rows", async () => {
    const [v] = await lp.q(`select device::text, os, browser, trim(country) country, city, first_seen_at, last_seen_at from visitors where id = $1`, [visitor.id]);
    const sessions = await lp.q(`select id::text, started_at, ended_at, utm_source, utm_medium, utm_campaign, referrer, landing_url from visitor_sessions where visitor_id = $1 order by started_at, id`, [visitor.id]);
    const r = await lp.call("USER", "get_visitor", { id: visitor.id });
    expect(r.visitor).toMatchObject({ id: visitor.id, device: v.device, os: v.os, browser: v.browser, country: v.country, city: v.city, is_bot: false });
    expect(r.visitor.first_seen_at).toBe(v.first_seen_at.toISOString());
    expect(r.sessions.count).toBe(sessions.length);
    const s0 = sessions[0]!;
    expect(r.first_visit).toEqual({
      source: sourceOf(s0.utm_source, s0.referrer), utm_source: s0.utm_source, utm_medium: s0.utm_medium, utm_campaign: s0.utm_campaign,
      referrer: s0.referrer, landing_path: new URL(s0.landing_url, "https://x.test").pathname.replace(/(.)\/$/, "$1"), started_at: s0.started_at.toISOString(),
    });
    const newest = sessions.slice().reverse().slice(0, 5);
    expect(r.sessions.latest.map((s: { id: string }) => s.id)).toEqual(newest.map((s) => s.id));
    for (const s of r.sessions.latest) {
      const [{ n }] = await lp.q(`select count(*)::int n from touchpoints where session_id = $1 and type = 'PAGEVIEW'`, [s.id]);
      expect(s.page_views).toBe(n);
    }
  });

  it("masks the contact's email and phone without contacts:pii and shows them with it; reachability from consent", async () => {
    const [c] = await lp.q(`select email, phone, first_name, status::text, consent_email::text ce, consent_sms::text cs, consent_whatsapp::text cw from contacts where id = $1`, [visitor.contact_id]);
    const admin = await lp.call("ADMIN", "get_visitor", { id: visitor.id, journey_limit: 1 });
    expect(admin.pii_masked).toBe(false);
    expect(admin.contact).toMatchObject({ id: visitor.contact_id, email: c.email, phone: c.phone, first_name: c.first_name });
    const user = await lp.call("USER", "get_visitor", { id: visitor.id, journey_limit: 1 });
    expect(user.pii_masked).toBe(true);
    if (c.email) expect(user.contact.email).toBe(`${c.email[0]}***${c.email.slice(c.email.indexOf("@"))}`);
    if (c.phone) {
      expect(user.contact.phone).toMatch(new RegExp(`\\*\\*\\* \\*\\*\\* ${c.phone.slice(-4)}$`));
      expect(user.contact.phone).not.toContain(c.phone.slice(-8, -4));
    }
    const text = textOf(await lp.callRaw("USER", "get_visitor", { id: visitor.id, journey_limit: 1 }));
    if (c.email) expect(text).not.toContain(c.email);
    const expected = [
      c.status === "ACTIVE" && c.email && c.ce === "SUBSCRIBED" ? "EMAIL" : null,
      c.status === "ACTIVE" && c.phone && c.cs === "SUBSCRIBED" ? "SMS" : null,
      c.status === "ACTIVE" && c.phone && c.cw === "SUBSCRIBED" ? "WHATSAPP" : null,
    ].filter(Boolean);
    expect(user.contact.reachable).toEqual(expected);
    if (user.next_action.channel) expect(expected).toContain(user.next_action.channel);
  });

  it("an anonymous visitor has no contact and an on-site action", async () => {
    const [a] = await lp.q(`select v.id::text from visitors v where v.organization_id = $1 and v.contact_id is null and not v.is_bot
      and exists (select 1 from touchpoints t where t.visitor_id = v.id) order by v.id limit 1`, [ORG_A.id]);
    const r = await lp.call("USER", "get_visitor", { id: a.id });
    expect(r.contact).toBeNull();
    expect(r.next_action.channel).toBeNull();
    expect(r.channel_engagement).toEqual([]);
    expect(["show_pricing_chat", "show_lead_capture", "show_helpful_content", "onboard_customer"]).toContain(r.next_action.action);
  });

  it("a bot is flagged and not scored", async () => {
    const id = randomUUID();
    await lp.q(`insert into visitors (id, organization_id, fingerprint, device, first_seen_at, last_seen_at, is_bot, user_agent)
      values ($1, $2, $3, 'DESKTOP', $4, $4, true, 'Googlebot/2.1')`, [id, ORG_A.id, `bot-${id}`, new Date(lp.now.getTime() - 60_000)]);
    await lp.q(`insert into touchpoints (organization_id, visitor_id, type, url, occurred_at) values ($1, $2, 'PAGEVIEW', '/pricing', $3)`, [ORG_A.id, id, new Date(lp.now.getTime() - 60_000)]);
    const raw = await lp.callRaw("USER", "get_visitor", { id });
    expect(raw.isError).toBeFalsy();
    const r = raw.structuredContent as { visitor: { is_bot: boolean }; intent: unknown; next_action: unknown; journey: { items: unknown[] } };
    expect(r.visitor.is_bot).toBe(true);
    expect(r.intent).toBeNull();
    expect(r.next_action).toBeNull();
    expect(r.journey.items).toHaveLength(1);
    expect(textOf(raw)).toMatch(/is a bot/);
  });

  it("another organization's visitor and an unknown id are NOT_FOUND; the owner sees its visitor", async () => {
    const [b] = await lp.q(`select id::text from visitors where organization_id = $1 order by id limit 1`, [ORG_B.id]);
    const cross = await lp.callRaw("ADMIN", "get_visitor", { id: b.id });
    expect(cross.isError).toBe(true);
    expect(textOf(cross)).toMatch(/NOT_FOUND: Visitor .* was not found in this organization/);
    const unknown = await lp.callRaw("USER", "get_visitor", { id: randomUUID() });
    expect(textOf(unknown)).toMatch(/NOT_FOUND/);
    const own = await lp.call("USER", "get_visitor", { id: b.id }, ORG_B);
    expect(own.visitor.id).toBe(b.id);
    const bad = await lp.callRaw("USER", "get_visitor", { id: "not-a-uuid" });
    expect(bad.isError).toBe(true);
    const extra = await lp.callRaw("USER", "get_visitor", { id: b.id, org: ORG_A.id });
    expect(extra.isError).toBe(true);
  });

  it("the text carries every value of the structured content", async () => {
    for (const [role, id] of [["USER", visitor.id], ["ADMIN", visitor.id]] as const) {
      const raw = await lp.callRaw(role, "get_visitor", { id });
      expect(textOf(raw)).not.toContain("[truncated");
      expect(valuesMissingFromText(raw.structuredContent, getVisitor.output, textOf(raw))).toEqual([]);
    }
  });

  it("a bad journey cursor is refused with a way out", async () => {
    const r = await lp.callRaw("USER", "get_visitor", { id: visitor.id, journey_cursor: "bm90LWEtY3Vyc29y" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/cursor is not valid/);
  });
});
