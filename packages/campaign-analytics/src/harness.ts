// campaign-analytics in the harness (pnpm harness, pnpm start): arguments for every tool drawn from
// the organization's demo data, the read tools whose answers do not depend on the clock, and this
// server's part of the story. The catalog entry points here; nothing else knows these tools.
import { expectThat, firstRow as first, type ArgBuilder, type BuilderContext, type HarnessSpec, type StoryStep } from "@marketsage/core";

/** Sent campaigns, largest first (optionally only A/B-tested ones or one channel). */
async function sentCampaigns(ctx: BuilderContext, opts: { ab?: boolean; channel?: string; n?: number } = {}): Promise<Array<{ id: string; channel: string }>> {
  return ctx.q<{ id: string; channel: string }>(
    `select c.id::text as id, c.channel::text as channel from campaigns c
      where c.organization_id = $1::uuid and c.status = 'SENT'
        ${opts.ab ? "and exists (select 1 from campaign_variants v where v.campaign_id = c.id)" : ""}
        ${opts.channel ? "and c.channel = $3::\"Channel\"" : ""}
      order by (select count(*) from messages m where m.campaign_id = c.id) desc, c.id limit $2`,
    opts.channel ? [ctx.orgId, opts.n ?? 1, opts.channel] : [ctx.orgId, opts.n ?? 1],
  );
}

const builders: Record<string, ArgBuilder> = {
  list_campaigns: async () => ({ limit: 5 }),
  get_campaign_metrics: async (ctx) => ({ id: first(await sentCampaigns(ctx, { ab: true }), "A/B-tested campaign").id }),
  compare_campaigns: async (ctx) => ({ ids: (await sentCampaigns(ctx, { channel: "EMAIL", n: 3 })).map((c) => c.id), metric: "open_rate", min_volume: 20 }),
  get_top_performing_campaigns: async () => ({ metric: "click_rate", range: { preset: "1y" }, min_volume: 20, limit: 5 }),
  get_ab_test_results: async (ctx) => ({ id: first(await sentCampaigns(ctx, { ab: true }), "A/B-tested campaign").id }),
  analyze_campaign_trends: async () => ({ metric: "delivery_rate", range: { preset: "90d" }, granularity: "week" }),
  get_channel_overview: async () => ({ range: { preset: "90d" } }),
};

interface Ranked {
  range: { from: string; to: string };
  campaigns: Array<{ id: string; name: string; channel: string; value: number; successes: number | null; trials: number }>;
}

const steps: StoryStep[] = [
  {
    name: "last month's best campaign",
    async run(s) {
      // Last calendar month in the organization's time zone.
      const [m] = await s.ctx.q<{ from: string; to: string }>(
        `select (date_trunc('month', now() at time zone o.time_zone) - interval '1 month') at time zone o.time_zone as from,
                date_trunc('month', now() at time zone o.time_zone) at time zone o.time_zone as to
           from organizations o where o.id = $1::uuid`,
        [s.ctx.orgId],
      );
      const range = { from: new Date(m!.from).toISOString(), to: new Date(m!.to).toISOString() };
      let top = await s.call<Ranked>("get_top_performing_campaigns", { metric: "click_rate", range, min_volume: 20, limit: 10 });
      if (!top.campaigns.length) top = await s.call<Ranked>("get_top_performing_campaigns", { metric: "click_rate", range: { preset: "90d" }, min_volume: 20, limit: 10 });
      expectThat(top.campaigns.length > 0, "no campaign reached 20 delivered messages in the last month or the last 90 days");
      // The story goes on with the best campaign that ran an A/B test and targeted a segment, if one did.
      const ids = top.campaigns.map((c) => c.id);
      const facts = await s.ctx.q<{ id: string; ab: boolean; seg: boolean }>(
        `select c.id::text as id, exists (select 1 from campaign_variants v where v.campaign_id = c.id) as ab, c.segment_id is not null as seg
           from campaigns c where c.id = any($1::uuid[])`,
        [ids],
      );
      const f = new Map(facts.map((r) => [r.id, r]));
      const best = top.campaigns.find((c) => f.get(c.id)?.ab && f.get(c.id)?.seg) ?? top.campaigns.find((c) => f.get(c.id)?.ab) ?? top.campaigns[0]!;
      const rank = top.campaigns.indexOf(best) + 1;
      s.state.campaignId = best.id;
      s.say(`  The agent asked for last month's best campaigns by click rate: #${rank} "${best.name}" (${best.channel}) at ${(best.value * 100).toFixed(1)}% of ${best.trials} delivered.`);
      return `${top.campaigns.length} ranked; ${best.name}`;
    },
  },
  {
    name: "its A/B test",
    async run(s) {
      expectThat(typeof s.state.campaignId === "string", "no campaign from the previous step");
      const ab = await s.call<{ variants: Array<{ name: string; rate: number | null; probability_to_be_best: number }>; verdict: string }>("get_ab_test_results", {
        id: s.state.campaignId,
        metric: "click_rate",
      });
      const v = ab.variants.map((x) => `${x.name} ${x.rate === null ? "n/a" : `${(x.rate * 100).toFixed(1)}%`} (P(best) ${(x.probability_to_be_best * 100).toFixed(0)}%)`).join(", ");
      s.say(`  Its A/B test: ${v}. ${ab.verdict}`);
      return ab.verdict;
    },
  },
  {
    name: "the reach of its segment (customer-data)",
    async run(s) {
      const m = await s.call<{ campaign: { segment_id: string | null; name: string } }>("get_campaign_metrics", { id: s.state.campaignId, include_variants: false });
      const segmentId = m.campaign.segment_id;
      if (!segmentId) {
        s.say(`  "${m.campaign.name}" was sent to no saved segment; nothing to re-target.`);
        return "no segment";
      }
      const seg = await s.callOn<{ name: string; member_count: number; reachability: { email: number; sms: number; whatsapp: number } }>("customer-data", "get_segment", { id: segmentId });
      s.say(`  It went to segment "${seg.name}": ${seg.member_count} members, reachable now by email ${seg.reachability.email}, SMS ${seg.reachability.sms}, WhatsApp ${seg.reachability.whatsapp}.`);
      return `${seg.member_count} members`;
    },
  },
];

export const harness: HarnessSpec = {
  builders,
  stableProbes: ["get_campaign_metrics", "compare_campaigns", "get_ab_test_results"],
  story: { title: "An AI agent reviews last month's best campaign — its A/B test, then who its segment can still reach", steps },
  cheapRead: { tool: "list_campaigns", args: (tag) => ({ name: `zzq${tag}`, limit: 1 }) },
};
