// Intent: the SQL features equal a plain TypeScript computation over each visitor's rows (edge-case
// fixtures included); identify_high_intent_visitors equals a brute-force ranking of every active
// visitor scored from those TS features (so stopping early at the recency bound loses nobody);
// filters; bots and other organizations left out; the recommended channel is one the contact is
// reachable on (read from the consent columns here) and the best-engaging one by the definition,
// computed here with hand-written SQL; anonymous visitors get on-site actions; masking per role.
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { bandOf, MIN_DELIVERED, scoreIntent, type VisitorFeatures } from "../src/intent/model.ts";
import { AUDIENCE_SAMPLE } from "../src/queries/intent.ts";
import { getVisitor } from "../src/tools/get-visitor.ts";
import { identifyHighIntentVisitors } from "../src/tools/identify-high-intent-visitors.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { ORG_A, ORG_B, textOf, useLeadpulse } from "./setup.ts";

const lp = useLeadpulse([getVisitor, identifyHighIntentVisitors]);
const MIN = 60_000;
const DAY = 86_400_000;
const ON_SITE = ["show_pricing_chat", "show_lead_capture", "show_helpful_content", "onboard_customer"];

interface Tp { visitor_id: string; type: string; url: string; occurred_at: Date; duration_sec: number | null; scroll_depth: number | null; detail: Record<string, unknown> | null }

/** The documented features, in TypeScript over the rows. */
function featuresOf(tps: Tp[], sessions: number, identified: boolean, now: Date): VisitorFeatures | null {
  const rows = tps.filter((t) => t.occurred_at.getTime() <= now.getTime());
  if (rows.length === 0) return null;
  const raw = (u: string) => new URL(u, "https://x.test").pathname;
  const path = (u: string) => raw(u).replace(/(.)\/$/, "$1");
  const isPricing = (u: string) => raw(u).startsWith("/pricing");
  const isCheckout = (u: string) => raw(u).startsWith("/checkout");
  const isProduct = (u: string) => raw(u).startsWith("/products/");
  const pv = rows.filter((t) => t.type === "PAGEVIEW");
  const key = pv.filter((t) => isPricing(t.url) || isCheckout(t.url) || isProduct(t.url));
  const formOf = (t: Tp) => String(t.detail?.form_id ?? t.detail?.form ?? t.detail?.form_name ?? path(t.url));
  const forms = new Map<string, { start: number; submit: number }>();
  for (const t of rows.filter((x) => x.type === "FORM_START" || x.type === "FORM_SUBMIT")) {
    const f = forms.get(formOf(t)) ?? { start: -Infinity, submit: -Infinity };
    if (t.type === "FORM_START") f.start = Math.max(f.start, t.occurred_at.getTime());
    else f.submit = Math.max(f.submit, t.occurred_at.getTime());
    forms.set(formOf(t), f);
  }
  const times = rows.map((t) => t.occurred_at.getTime());
  return {
    pricing_views: pv.filter((t) => isPricing(t.url)).length,
    checkout_views: pv.filter((t) => isCheckout(t.url)).length,
    product_views: pv.filter((t) => isProduct(t.url)).length,
    forms_abandoned: [...forms.values()].filter((f) => f.start > -Infinity && f.submit < f.start).length,
    form_submits: rows.filter((t) => t.type === "FORM_SUBMIT").length,
    conversions: rows.filter((t) => t.type === "CONVERSION").length,
    sessions,
    return_visits: Math.max(0, sessions - 1),
    key_page_seconds: key.reduce((s, t) => s + (t.duration_sec ?? 0), 0),
    key_page_max_scroll: key.reduce((m, t) => Math.max(m, t.scroll_depth ?? 0), 0),
    page_views: pv.length,
    distinct_pages: new Set(pv.map((t) => path(t.url))).size,
    total_seconds: pv.reduce((s, t) => s + (t.duration_sec ?? 0), 0),
    days_since_last_visit: (now.getTime() - Math.max(...times)) / DAY,
    days_since_first_visit: (now.getTime() - Math.min(...times)) / DAY,
    identified,
  };
}

/** Every non-bot visitor of the organization last seen since `since`, scored from featuresOf. */
async function bruteForce(org: string, activeDays: number) {
  const since = new Date(lp.now.getTime() - activeDays * DAY);
  const vs = await lp.q<{ id: string; contact_id: string | null }>(`select id::text, contact_id::text from visitors where organization_id = $1 and not is_bot and last_seen_at >= $2`, [org, since]);
  const ids = vs.map((v) => v.id);
  const tps = await lp.q<Tp>(`select visitor_id::text, type::text, url, occurred_at, duration_sec, scroll_depth, detail from touchpoints where visitor_id = any($1::uuid[])`, [ids]);
  const ss = await lp.q<{ visitor_id: string; n: number }>(`select visitor_id::text, count(*)::int n from visitor_sessions where visitor_id = any($1::uuid[]) and started_at <= $2 group by 1`, [ids, lp.now]);
  const out: Array<{ id: string; score: number; days: number; f: VisitorFeatures }> = [];
  for (const v of vs) {
    const f = featuresOf(tps.filter((t) => t.visitor_id === v.id), ss.find((s) => s.visitor_id === v.id)?.n ?? 0, v.contact_id !== null, lp.now);
    if (!f || f.days_since_last_visit > activeDays) continue;
    out.push({ id: v.id, score: scoreIntent(f).score, days: f.days_since_last_visit, f });
  }
  return out.sort((a, b) => b.score - a.score || a.days - b.days || (a.id < b.id ? -1 : 1));
}

/** The definition's engagement per channel for an audience, by hand: a different formulation (window rank, EXISTS join). */
async function engagementByHand(org: string, country: string, device: string) {
  return lp.q<{ channel: string; delivered: number; engaged: number }>(`
    with ranked as (
      select v.contact_id, row_number() over (order by v.last_seen_at desc) as rk
        from visitors v where v.organization_id = $1 and v.device::text = $3 and v.contact_id is not null and v.is_bot = false
         and (select c.country from contacts c where c.id = v.contact_id and c.organization_id = $1) = $2
    ), audience as (select distinct contact_id from ranked where rk <= ${AUDIENCE_SAMPLE}),
    msgs as (
      select e.channel::text channel, e.message_id, bool_or(x.message_id is not null) engaged
        from message_events e join audience a on a.contact_id = e.contact_id
        left join message_events x on x.message_id = e.message_id and x.type::text in ('OPENED','CLICKED','REPLIED') and x.occurred_at between $5 and $4
       where e.organization_id = $1 and e.type = 'DELIVERED' and e.occurred_at between $5 and $4
       group by 1, 2)
    select channel, count(*)::int delivered, count(*) filter (where engaged)::int engaged from msgs group by 1`,
    [org, country, device, lp.now, new Date(lp.now.getTime() - 90 * DAY)]);
}

describe("intent features and identify_high_intent_visitors", () => {
  const fx: Record<string, string> = {};
  beforeAll(async () => {
    const now = lp.now.getTime();
    const visitor = async (org: string, country: string, device: string, opts: { contact?: string; bot?: boolean; lastMinutesAgo?: number } = {}) => {
      const id = randomUUID();
      const last = new Date(now - (opts.lastMinutesAgo ?? 30) * MIN);
      await lp.q(`insert into visitors (id, organization_id, fingerprint, contact_id, device, country, first_seen_at, last_seen_at, is_bot) values ($1, $2, $3, $4, $5, $6, $7, $7, $8)`,
        [id, org, `fx-${id}`, opts.contact ?? null, device, country, last, opts.bot ?? false]);
      return id;
    };
    const session = (org: string, v: string, minutesAgo: number) =>
      lp.q(`insert into visitor_sessions (id, organization_id, visitor_id, started_at, device) values ($1, $2, $3, $4, 'MOBILE')`, [randomUUID(), org, v, new Date(now - minutesAgo * MIN)]);
    const tp = (org: string, v: string, type: string, url: string, minutesAgo: number, extra: { dur?: number; scroll?: number; detail?: object } = {}) =>
      lp.q(`insert into touchpoints (organization_id, visitor_id, type, url, occurred_at, duration_sec, scroll_depth, detail) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [org, v, type, url, new Date(now - minutesAgo * MIN), extra.dur ?? null, extra.scroll ?? null, extra.detail ? JSON.stringify(extra.detail) : null]);
    const hot = async (org: string, v: string, last: number) => {
      await session(org, v, last + 200);
      await session(org, v, last + 100);
      await session(org, v, last + 10);
      await tp(org, v, "PAGEVIEW", "https://shop.test/pricing?plan=pro", last + 90, { dur: 120, scroll: 80 });
      await tp(org, v, "PAGEVIEW", "/pricing/", last + 50, { dur: 60, scroll: 95 });
      await tp(org, v, "PAGEVIEW", "/pricing", last + 5, { dur: 30 });
      await tp(org, v, "PAGEVIEW", "https://shop.test/checkout", last + 4, { dur: 45, scroll: 40 });
      await tp(org, v, "PAGEVIEW", "/checkout/", last + 3);
      await tp(org, v, "FORM_START", "/checkout", last + 2, { detail: { form_id: "pay" } });
      await tp(org, v, "PAGEVIEW", "/products/", last + 1, { dur: 10, scroll: 10 });
      await tp(org, v, "PAGEVIEW", "/products/radio", last, { dur: 10 });
    };

    // A high-intent identified visitor in GH on a tablet, reachable by SMS and email but not WhatsApp.
    const contact = randomUUID();
    await lp.q(`insert into contacts (id, organization_id, email, phone, first_name, last_name, country, time_zone, status) values ($1, $2, $3, '+233201234567', 'Ama', 'Mensah', 'GH', 'Africa/Accra', 'ACTIVE')`,
      [contact, ORG_A.id, `ama.${contact.slice(0, 8)}@example.com`]);
    for (const [ch, action] of [["SMS", "SUBSCRIBED"], ["EMAIL", "SUBSCRIBED"], ["WHATSAPP", "UNSUBSCRIBED"]] as const) {
      await lp.q(`insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at) values ($1, $2, $3, $4, 'test', $5)`, [ORG_A.id, contact, ch, action, new Date(now - 30 * DAY)]);
    }
    fx.hot = await visitor(ORG_A.id, "GH", "TABLET", { contact, lastMinutesAgo: 20 });
    await hot(ORG_A.id, fx.hot, 20);
    // Its audience's messages in the last 90 days: WhatsApp engages best (but is not reachable), then SMS (50 %), then email (20 %).
    const deliver = async (channel: string, n: number, engaged: number, type: string) => {
      for (let i = 0; i < n; i++) {
        const m = randomUUID();
        const t = new Date(now - (1 + (i % 80)) * DAY);
        await lp.q(`insert into messages (id, organization_id, contact_id, channel, recipient, status, created_at) values ($1, $2, $3, $4, 'x', 'DELIVERED', $5)`, [m, ORG_A.id, contact, channel, t]);
        await lp.q(`insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values ($1, $2, $3, $4, 'DELIVERED', $5)`, [ORG_A.id, m, contact, channel, t]);
        if (i < engaged) await lp.q(`insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values ($1, $2, $3, $4, $5, $6)`, [ORG_A.id, m, contact, channel, type, new Date(t.getTime() + MIN)]);
      }
    };
    await deliver("WHATSAPP", 110, 100, "OPENED");
    await deliver("SMS", 120, 60, "CLICKED");
    await deliver("EMAIL", 150, 30, "OPENED");
    // A message delivered 91 days ago is outside the window.
    await lp.q(`insert into message_events (organization_id, message_id, contact_id, channel, type, occurred_at) values ($1, $2, $3, 'EMAIL', 'DELIVERED', $4)`, [ORG_A.id, randomUUID(), contact, new Date(now - 91 * DAY)]);

    // Edge cases for the features: forms keyed by form_id / form / path, a start after a submit, a submit at the start's instant, a future touchpoint.
    fx.forms = await visitor(ORG_A.id, "NG", "MOBILE", { lastMinutesAgo: 60 });
    await session(ORG_A.id, fx.forms, 100);
    await tp(ORG_A.id, fx.forms, "FORM_START", "/signup", 100, { detail: { form: "signup" } });
    await tp(ORG_A.id, fx.forms, "FORM_SUBMIT", "https://shop.test/signup?ref=1", 90, { detail: { form: "signup" } });
    await tp(ORG_A.id, fx.forms, "FORM_START", "/signup", 80, { detail: { form: "signup" } }); // restarted after submitting: abandoned
    await tp(ORG_A.id, fx.forms, "FORM_START", "/contact", 70); // keyed by path
    await tp(ORG_A.id, fx.forms, "FORM_SUBMIT", "/contact/", 70); // same instant: submitted
    await tp(ORG_A.id, fx.forms, "FORM_START", "/x", 65, { detail: { form_id: "news", form_name: "Newsletter" } }); // never submitted
    await tp(ORG_A.id, fx.forms, "PAGEVIEW", "/about", 60, { dur: 15, scroll: 30 });
    await tp(ORG_A.id, fx.forms, "PAGEVIEW", "/pricing", -60, { dur: 500 }); // in the future: not counted

    // A hotter bot, and a hot visitor in organization B: neither may appear in A's list.
    fx.bot = await visitor(ORG_A.id, "NG", "DESKTOP", { bot: true, lastMinutesAgo: 1 });
    await hot(ORG_A.id, fx.bot, 1);
    fx.other = await visitor(ORG_B.id, "KE", "MOBILE", { lastMinutesAgo: 1 });
    await hot(ORG_B.id, fx.other, 1);
    // An anonymous hot visitor: on-site action only.
    fx.anon = await visitor(ORG_A.id, "NG", "MOBILE", { lastMinutesAgo: 40 });
    await hot(ORG_A.id, fx.anon, 40);
    // 1,200 cold visitors seen 15–29 days ago, so the search must page and may stop before them.
    await lp.q(`
      with v as (
        insert into visitors (id, organization_id, fingerprint, device, country, first_seen_at, last_seen_at)
        select gen_random_uuid(), $1, 'cold-' || g, 'MOBILE', 'NG', $2::timestamptz - (g || ' minutes')::interval, $2::timestamptz - (g || ' minutes')::interval
          from generate_series(1, 1200) g returning id, last_seen_at)
      insert into touchpoints (organization_id, visitor_id, type, url, occurred_at, duration_sec) select $1, id, 'PAGEVIEW', '/blog/x', last_seen_at, 20 from v`,
      [ORG_A.id, new Date(now - 15 * DAY)]);
  });

  it("get_visitor's features equal the TypeScript computation over the rows, fixtures and seeded visitors alike", async () => {
    const seeded = await lp.q<{ id: string }>(`
      select v.id::text from visitors v where v.organization_id = $1 and not v.is_bot and exists (select 1 from touchpoints t where t.visitor_id = v.id and t.type = 'FORM_START')
       order by v.id limit 6`, [ORG_A.id]);
    const ids = [fx.hot!, fx.forms!, fx.anon!, ...seeded.map((s) => s.id)];
    for (const id of ids) {
      const [v] = await lp.q<{ contact_id: string | null }>(`select contact_id::text from visitors where id = $1`, [id]);
      const tps = await lp.q<Tp>(`select visitor_id::text, type::text, url, occurred_at, duration_sec, scroll_depth, detail from touchpoints where visitor_id = $1`, [id]);
      const n = (await lp.q<{ n: number }>(`select count(*)::int n from visitor_sessions where visitor_id = $1 and started_at <= $2`, [id, lp.now]))[0]!.n;
      const want = featuresOf(tps, n, v!.contact_id !== null, lp.now)!;
      const r = await lp.call("USER", "get_visitor", { id, journey_limit: 1 });
      const { days_since_last_visit, days_since_first_visit, ...counts } = r.features;
      const { days_since_last_visit: dl, days_since_first_visit: df, ...wantCounts } = want;
      expect(counts, id).toEqual(wantCounts);
      expect(days_since_last_visit).toBeCloseTo(dl, 3);
      expect(days_since_first_visit).toBeCloseTo(df, 3);
      expect(r.intent.score).toBe(scoreIntent(want).score);
    }
    const forms = (await lp.call("USER", "get_visitor", { id: fx.forms })).features;
    expect(forms).toMatchObject({ forms_abandoned: 2, form_submits: 2, page_views: 1, pricing_views: 0, total_seconds: 15, sessions: 1 });
    const hot = (await lp.call("USER", "get_visitor", { id: fx.hot })).features;
    expect(hot).toMatchObject({ pricing_views: 3, checkout_views: 2, product_views: 2, forms_abandoned: 1, sessions: 3, return_visits: 2, key_page_seconds: 275, key_page_max_scroll: 95, distinct_pages: 4 });
  });

  it("equals a brute-force ranking of every active visitor (the early stop loses nobody)", async () => {
    const all = await bruteForce(ORG_A.id, 30);
    const r = await lp.call("USER", "identify_high_intent_visitors", {});
    expect(r.visitors.map((v: { id: string; score: number }) => [v.id, v.score])).toEqual(all.slice(0, 10).map((v) => [v.id, v.score]));
    expect(r.active_visitors).toBe(all.length);
    expect(r.complete).toBe(true);
    expect(r.scored).toBeLessThan(r.active_visitors); // the 1,200 cold visitors were never scored
    expect(r.visitors.map((v: { id: string }) => v.id)).not.toContain(fx.bot);
    expect(r.visitors.map((v: { id: string }) => v.id)).not.toContain(fx.other);
    expect(r.visitors.map((v: { id: string }) => v.id)).toContain(fx.hot);
    for (const v of r.visitors) expect(v.signals.reduce((s: number, g: { points: number }) => s + g.points, 0)).toBeCloseTo(v.score, 5);
  });

  it("band, min_score, identified_only, active_days and limit each equal the brute-force ranking filtered", async () => {
    const all = await bruteForce(ORG_A.id, 30);
    const cases: Array<[Record<string, unknown>, (x: (typeof all)[number]) => boolean, number]> = [
      [{ band: "high" }, (x) => bandOf(x.score) === "high", 10],
      [{ band: "medium", limit: 5 }, (x) => bandOf(x.score) === "medium", 5],
      [{ band: "low", limit: 3 }, (x) => bandOf(x.score) === "low", 3],
      [{ min_score: 5, limit: 50 }, (x) => x.score >= 5, 50],
      [{ identified_only: true }, (x) => x.f.identified, 10],
    ];
    for (const [args, keep, limit] of cases) {
      const r = await lp.call("USER", "identify_high_intent_visitors", args);
      expect(r.visitors.map((v: { id: string }) => v.id), JSON.stringify(args)).toEqual(all.filter(keep).slice(0, limit).map((v) => v.id));
    }
    const week = await bruteForce(ORG_A.id, 7);
    const r7 = await lp.call("USER", "identify_high_intent_visitors", { active_days: 7, limit: 50 });
    expect(r7.visitors.map((v: { id: string }) => v.id)).toEqual(week.slice(0, 50).map((v) => v.id));
    expect(r7.active_visitors).toBe(week.length);
    const b = await lp.call("USER", "identify_high_intent_visitors", { limit: 1 }, ORG_B);
    expect(b.visitors[0].id).toBe(fx.other);
  });

  it("the recommended channel is reachable and the best-engaging reachable channel by hand SQL; anonymous visitors get on-site actions", async () => {
    const r = await lp.call("ADMIN", "identify_high_intent_visitors", { limit: 50, min_score: 0.1 });
    expect(r.visitors.length).toBeGreaterThan(3);
    for (const v of r.visitors) {
      if (!v.contact) {
        expect(v.next_action.channel, v.id).toBeNull();
        expect(ON_SITE).toContain(v.next_action.action);
        continue;
      }
      const [c] = await lp.q(`select status::text, email, phone, consent_email::text e, consent_sms::text s, consent_whatsapp::text w, trim(country) country from contacts where id = $1`, [v.contact.id]);
      const reachable = [["EMAIL", c.email, c.e], ["SMS", c.phone, c.s], ["WHATSAPP", c.phone, c.w]].filter(([, addr, consent]) => c.status === "ACTIVE" && addr && consent === "SUBSCRIBED").map(([ch]) => ch as string);
      expect(v.contact.reachable.slice().sort()).toEqual(reachable.slice().sort());
      if (reachable.length === 0) {
        expect(v.next_action.channel).toBeNull();
        continue;
      }
      expect(reachable).toContain(v.next_action.channel);
      const eng = await engagementByHand(ORG_A.id, v.country ?? c.country, v.device);
      const proven = eng.filter((e) => reachable.includes(e.channel) && e.delivered >= MIN_DELIVERED);
      const order = ["WHATSAPP", "SMS", "EMAIL"];
      const best = proven.sort((a, b) => b.engaged / b.delivered - a.engaged / a.delivered || order.indexOf(a.channel) - order.indexOf(b.channel))[0];
      expect(v.next_action.channel, v.id).toBe(best ? best.channel : order.find((ch) => reachable.includes(ch)));
      const shown = r.channel_engagement.find((a: { country: string; device: string }) => a.country === (v.country ?? c.country) && a.device === v.device);
      for (const e of eng) expect(shown.channels.find((x: { channel: string }) => x.channel === e.channel)).toMatchObject({ delivered: e.delivered, engagement_rate: Math.round((e.engaged / e.delivered) * 10_000) / 10_000 });
    }
    const hot = r.visitors.find((v: { id: string }) => v.id === fx.hot);
    expect(hot.next_action).toMatchObject({ action: "checkout_reminder", channel: "SMS" });
    const gh = r.channel_engagement.find((a: { country: string; device: string }) => a.country === "GH" && a.device === "TABLET");
    expect(gh.channels).toEqual(expect.arrayContaining([
      { channel: "WHATSAPP", delivered: 110, engagement_rate: 0.9091 },
      { channel: "SMS", delivered: 120, engagement_rate: 0.5 },
      { channel: "EMAIL", delivered: 150, engagement_rate: 0.2 },
    ]));
    const anon = r.visitors.find((v: { id: string }) => v.id === fx.anon);
    expect(anon.contact).toBeNull();
    expect(anon.next_action.channel).toBeNull();
    expect(anon.next_action.action).toBe(bandOf(anon.score) === "high" ? "show_pricing_chat" : bandOf(anon.score) === "medium" ? "show_lead_capture" : "show_helpful_content");
  });

  it("masks contacts without contacts:pii, in structured and text content", async () => {
    const raw = await lp.callRaw("USER", "identify_high_intent_visitors", { identified_only: true, limit: 50 });
    const r = raw.structuredContent as { pii_masked: boolean; visitors: Array<{ id: string; contact: { email: string | null; phone: string | null } }> };
    expect(r.pii_masked).toBe(true);
    const hot = r.visitors.find((v) => v.id === fx.hot)!;
    expect(hot.contact.email).toMatch(/^a\*\*\*@example\.com$/);
    expect(hot.contact.phone).toBe("+233 *** *** 4567");
    expect(textOf(raw)).not.toContain("+233201234567");
    expect(textOf(raw)).toContain("+233 *** *** 4567");
    const admin = await lp.call("ADMIN", "identify_high_intent_visitors", { identified_only: true, limit: 50 });
    expect(admin.visitors.find((v: { id: string }) => v.id === fx.hot).contact.phone).toBe("+233201234567");
  });

  it("the text carries every value of the structured content", async () => {
    for (const role of ["USER", "ADMIN"] as const) {
      const raw = await lp.callRaw(role, "identify_high_intent_visitors", {});
      expect(textOf(raw)).not.toContain("[truncated");
      expect(valuesMissingFromText(raw.structuredContent, identifyHighIntentVisitors.output, textOf(raw))).toEqual([]);
    }
    const v = await lp.callRaw("ADMIN", "get_visitor", { id: fx.hot });
    expect(valuesMissingFromText(v.structuredContent, getVisitor.output, textOf(v))).toEqual([]);
  });

  it("refuses bad input by name", async () => {
    for (const args of [{ limit: 0 }, { limit: 51 }, { active_days: 91 }, { band: "hot" }, { min_score: 101 }, { org: ORG_B.id }]) {
      expect((await lp.callRaw("USER", "identify_high_intent_visitors", args)).isError, JSON.stringify(args)).toBe(true);
    }
  });
});
