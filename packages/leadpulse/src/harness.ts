// leadpulse in the harness (pnpm harness, pnpm start): arguments for every tool drawn from the
// organization's demo data, the read tools whose answers do not depend on the clock, and this
// server's part of the story. The catalog entry points here; nothing else knows these tools.
import { randomUUID } from "node:crypto";
import { expectThat, firstRow as first, type ArgBuilder, type HarnessSpec, type StoryStep } from "@marketsage/core";

/** A stable, readable id for events the harness sends (8–64 of A–Za–z0–9_-). */
const harnessId = (what: string) => `harness_${what}_${randomUUID().replace(/-/g, "").slice(0, 20)}`;

/** The 30 whole UTC days before the day of the demo data's latest touchpoint: a fixed range, so
 *  the same call gives the same answer however the clock moves (the stable probes). */
async function pastMonth(ctx: Parameters<ArgBuilder>[0]): Promise<{ from: string; to: string }> {
  const r = first(
    await ctx.q<{ from: Date; to: Date }>(
      // The demo data's own touchpoints (not what the harness or a website sent since), else any.
      `select date_trunc('day', m) - interval '30 days' as from, date_trunc('day', m) as to
         from (select coalesce(max(occurred_at) filter (where client_event_id is null), max(occurred_at)) m from touchpoints where organization_id = $1::uuid) x`,
      [ctx.orgId],
    ),
    "touchpoint",
  );
  expectThat(r.to !== null, "the demo data has no touchpoints (is the database seeded? run `pnpm db:setup`)");
  return { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() };
}

const builders: Record<string, ArgBuilder> = {
  get_visitor: async (ctx) => ({
    id: first(
      await ctx.q<{ id: string }>(
        `select id::text from visitors where organization_id = $1::uuid and contact_id is not null and not is_bot order by last_seen_at desc, id limit 1`,
        [ctx.orgId],
      ),
      "identified visitor",
    ).id,
    journey_limit: 10,
  }),
  analyze_visitor_behavior: async () => ({ range: { preset: "30d" }, device: "MOBILE" }),
  get_conversion_funnel: async (ctx) => ({
    steps: [
      { name: "Pricing", type: "PAGEVIEW", url: "/pricing" },
      { name: "Signed up", type: "FORM_SUBMIT", url: "/signup" },
      { name: "Converted", type: "CONVERSION" },
    ],
    range: await pastMonth(ctx),
    breakdown: "device",
  }),
  get_page_analytics: async (ctx) => ({ url: "/pricing", range: await pastMonth(ctx) }),
  get_real_time_visitors: async () => ({ minutes: 30 }),
  get_traffic_sources: async (ctx) => ({ range: await pastMonth(ctx), group_by: "source_medium", limit: 5 }),
  identify_high_intent_visitors: async () => ({ active_days: 30, identified_only: true, limit: 5 }),
  // No ts: the events happened when the server received them (whatever its clock says).
  track_events: async () => {
    const visitor = harnessId("visitor");
    return {
      events: [
        { type: "pageview", id: harnessId("pv"), visitor_id: visitor, url: "https://harness.marketsage.test/pricing", title: "Pricing" },
        { type: "click", id: harnessId("click"), visitor_id: visitor, url: "https://harness.marketsage.test/pricing", text: "Start free trial" },
      ],
      context: { user_agent: "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", country: "NG" },
    };
  },
};

interface HighIntent {
  visitors: Array<{
    id: string;
    score: number;
    band: string;
    device: string;
    country: string | null;
    contact: { id: string } | null;
    next_action: { action: string; channel: string | null; why: string };
  }>;
}

const steps: StoryStep[] = [
  {
    name: "the visitors most ready to buy",
    async run(s) {
      const r = await s.call<HighIntent>("identify_high_intent_visitors", { active_days: 30, identified_only: true, limit: 10 });
      expectThat(r.visitors.length > 0, "no identified visitor was active on the website in the last 30 days");
      // The story follows the best-scored visitor the agent can act on (a recommended channel).
      const v = r.visitors.find((x) => x.next_action.channel !== null) ?? r.visitors[0]!;
      s.state.visitor = v;
      s.say(`  The agent asked who on the website is most ready to buy: visitor ${v.id} (${v.device}, ${v.country ?? "country unknown"}) scores ${v.score} (${v.band}).`);
      return `${r.visitors.length} scored; best ${v.score}`;
    },
  },
  {
    name: "their journey",
    async run(s) {
      const v = s.state.visitor as HighIntent["visitors"][number];
      const g = await s.call<{ sessions: { count: number }; journey: { items: Array<{ type: string; url: string }> }; intent: { signals: Array<{ signal: string; points: number }> } | null }>(
        "get_visitor",
        { id: v.id, journey_limit: 20 },
      );
      const top = (g.intent?.signals ?? []).slice(0, 3).map((x) => `${x.signal} ${x.points} pts`).join(", ");
      s.say(`  Their ${g.sessions.count} session(s): ${g.journey.items.length} touchpoints shown; what drove the score: ${top || "nothing"}.`);
      return `${g.sessions.count} sessions`;
    },
  },
  {
    name: "the customer behind them (customer-data), reachable on the recommended channel",
    async run(s) {
      const v = s.state.visitor as HighIntent["visitors"][number];
      expectThat(v.contact !== null, "an identified visitor came back without its contact");
      const p = await s.callOn<{ customer: { first_name: string | null; last_name: string | null }; consent: Array<{ channel: string; reachable: boolean }> }>(
        "customer-data",
        "get_customer_profile",
        { id: v.contact!.id },
      );
      const reachable = p.consent.filter((c) => c.reachable).map((c) => c.channel);
      const channel = v.next_action.channel;
      if (channel === null) {
        expectThat(reachable.length === 0, `no channel was recommended, yet customer-data says the customer is reachable on ${reachable.join(", ")}`);
        s.say(`  They are not reachable on any channel: "${v.next_action.action}" (${v.next_action.why}).`);
        return "not reachable";
      }
      expectThat(reachable.includes(channel), `the recommended channel ${channel} is not one customer-data says the customer is reachable on (${reachable.join(", ") || "none"})`);
      const name = [p.customer.first_name, p.customer.last_name].filter(Boolean).join(" ") || "the customer";
      s.say(`  ${name} is reachable on ${reachable.join(", ")}; the recommended next step is "${v.next_action.action}" on ${channel}: ${v.next_action.why}.`);
      return `${v.next_action.action} on ${channel}`;
    },
  },
];

export const harness: HarnessSpec = {
  builders,
  // Fixed past ranges: the answers do not move with the clock (scores and "last N minutes" do).
  stableProbes: ["get_conversion_funnel", "get_page_analytics", "get_traffic_sources"],
  story: { title: "An AI agent finds the website visitors most ready to buy, then reaches one on a channel they can be reached on", steps },
  cheapRead: { tool: "get_page_analytics", args: (tag) => ({ url: `/zzq-${tag}`, range: { preset: "24h" } }) },
};
