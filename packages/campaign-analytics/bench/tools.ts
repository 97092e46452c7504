// campaign-analytics at the current scale: each tool beside hand-written SQL for the same answer.
import pg from "pg";
import { connectTestClient } from "@marketsage/core/testing";
import type { BenchContext, BenchSample as Sample } from "@marketsage/core";
import { campaignAnalyticsServer } from "../src/server.ts";

// One campaign's unique-message counts per variant, its attributed conversions and its cost: the
// three reads get_campaign_metrics needs, written as one would by hand.
const ONE_CAMPAIGN = `
  with e as (select variant_id, message_id, bool_or(type not in ('QUEUED','FAILED')) s, bool_or(type = 'DELIVERED') d, bool_or(type = 'OPENED') o,
                    bool_or(type = 'CLICKED') c, bool_or(type = 'FAILED') f, bool_or(type = 'BOUNCED') b, bool_or(type = 'REPLIED') r, bool_or(type = 'UNSUBSCRIBED') u
               from message_events where organization_id = $1 and campaign_id = $2 group by 1, 2)
  select variant_id, count(*), count(*) filter (where s), count(*) filter (where d), count(*) filter (where o), count(*) filter (where c),
         count(*) filter (where f), count(*) filter (where b), count(*) filter (where r), count(*) filter (where u)
    from e group by rollup (variant_id)`;
const PAGE_COUNTS = `
  with e as (select campaign_id, message_id, bool_or(type not in ('QUEUED','FAILED')) s, bool_or(type = 'DELIVERED') d, bool_or(type = 'OPENED') o, bool_or(type = 'CLICKED') c
               from message_events where organization_id = $1 and campaign_id = any($2::uuid[]) group by 1, 2)
  select campaign_id, count(*) filter (where s), count(*) filter (where d), count(*) filter (where o), count(*) filter (where c) from e group by 1`;
const CONVERSIONS = `
  select m.variant_id, count(distinct x.contact_id), sum(marketsage_fx(x.value, trim(x.currency), $3, x.occurred_at))
    from conversions x cross join lateral (select variant_id from messages m where m.organization_id = $1 and m.campaign_id = x.campaign_id and m.contact_id = x.contact_id
      and m.direction = 'OUTBOUND' and m.created_at <= x.occurred_at and x.occurred_at <= m.created_at + interval '7 days' order by m.created_at desc limit 1) m
   where x.organization_id = $1 and x.campaign_id = any($2::uuid[]) group by rollup (m.variant_id)`;
const COST = `
  select variant_id, sum(marketsage_fx(cost, trim(currency), $3, created_at)) from messages where organization_id = $1 and campaign_id = any($2::uuid[]) and cost is not null group by rollup (variant_id)`;

export async function benchCampaignAnalytics(b: BenchContext): Promise<Sample[]> {
  const { runtime, databaseUrl: url, apiKey, orgId, n, time } = b;
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const t = await connectTestClient({ server: "campaign-analytics", tools: campaignAnalyticsServer.tools, runtime, apiKey });
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await t.client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return r;
  };
  const sql = (text: string, params: unknown[]) => pool.query(text, params);
  const [{ rc }] = (await sql(`select trim(reporting_currency) rc from organizations where id = $1`, [orgId])).rows;
  const ab = (
    await sql(
      `select c.id::text from campaigns c where c.organization_id = $1 and c.status = 'SENT' and exists (select 1 from campaign_variants v where v.campaign_id = c.id)
        order by hashtext(c.id::text) limit $2`,
      [orgId, n],
    )
  ).rows.map((r) => r.id as string);
  const email = (await sql(`select id::text from campaigns where organization_id = $1 and status = 'SENT' and channel = 'EMAIL' order by hashtext(id::text) limit 50`, [orgId])).rows.map((r) => r.id as string);
  const pick = <T>(xs: T[], i: number) => xs[i % xs.length]!;
  const out: Sample[] = [];

  const oneCampaign = (id: string) => Promise.all([sql(ONE_CAMPAIGN, [orgId, id]), sql(CONVERSIONS, [orgId, [id], rc]), sql(COST, [orgId, [id], rc])]);
  out.push({
    name: "get_campaign_metrics (with variants)",
    ms: await time(n, (i) => call("get_campaign_metrics", { id: pick(ab, i) })),
    reference: { name: "SQL: per-message flags by variant + conversions + cost", ms: await time(n, (i) => oneCampaign(pick(ab, i))) },
  });
  const page = async (offset: number) => {
    const ids = (await sql(`select id::text from campaigns where organization_id = $1 order by coalesce(sent_at, scheduled_at, created_at) desc, id desc offset $2 limit 20`, [orgId, offset])).rows.map((r) => r.id);
    await Promise.all([
      sql(PAGE_COUNTS, [orgId, ids]),
      sql(CONVERSIONS, [orgId, ids, rc]),
    ]);
  };
  out.push({
    name: "list_campaigns (page of 20)",
    ms: await time(n, (i) => call("list_campaigns", { limit: 20, ...(i % 2 ? { channel: "EMAIL" } : {}) })),
    reference: { name: "SQL: page + counts + conversions", ms: await time(n, (i) => page((i % 5) * 20)) },
  });
  out.push({
    name: "compare_campaigns (5)",
    ms: await time(n, (i) => call("compare_campaigns", { ids: [0, 1, 2, 3, 4].map((k) => pick(email, i * 5 + k)), metric: "open_rate" })),
    reference: { name: "SQL: 5 campaigns' counts + conversions", ms: await time(n, (i) => Promise.all([0, 1, 2, 3, 4].map((k) => oneCampaign(pick(email, i * 5 + k))))) },
  });
  out.push({
    name: "get_ab_test_results",
    ms: await time(n, (i) => call("get_ab_test_results", { id: pick(ab, i) })),
    reference: { name: "SQL: per-variant counts + conversions", ms: await time(n, (i) => oneCampaign(pick(ab, i))) },
  });
  out.push({
    name: "get_top_performing_campaigns (90d)",
    ms: await time(Math.min(n, 10), () => call("get_top_performing_campaigns", { metric: "click_rate", range: { preset: "90d" } })),
    reference: {
      name: "SQL: clicked/delivered per campaign, 90d",
      ms: await time(Math.min(n, 10), () =>
        sql(
          `select campaign_id, count(distinct message_id) filter (where type = 'CLICKED') c, count(distinct message_id) filter (where type = 'DELIVERED') d
             from message_events where organization_id = $1 and campaign_id in (select id from campaigns where organization_id = $1 and coalesce(sent_at, scheduled_at, created_at) >= now() - interval '90 days')
            group by 1`,
          [orgId],
        ),
      ),
    },
  });
  // The same answers by hand: every campaign dated in the 90 days, its unique messages per kind
  // straight from message_events, summed per local day of the campaign's date (trends) or per
  // channel with the distinct contacts delivered (overview).
  const PER_CAMPAIGN = `
    with c as (select id, channel, coalesce(sent_at, scheduled_at, created_at) d from campaigns
                where organization_id = $1 and coalesce(sent_at, scheduled_at, created_at) >= now() - interval '90 days'),
         m as (select e.campaign_id, e.message_id, bool_or(e.type in ('DELIVERED','OPENED','CLICKED','REPLIED','UNSUBSCRIBED')) dl, bool_or(e.type = 'CLICKED') cl,
                      bool_or(e.type in ('OPENED','CLICKED','REPLIED')) en
                 from message_events e where e.organization_id = $1 and e.campaign_id in (select id from c) group by 1, 2)`;
  out.push({
    name: "analyze_campaign_trends (90d, day, whole org)",
    ms: await time(Math.min(n, 10), () => call("analyze_campaign_trends", { metric: "click_rate", range: { preset: "90d" }, granularity: "day" })),
    reference: {
      name: "SQL: click rate per local day of campaign date, from events",
      ms: await time(Math.min(n, 3), () =>
        sql(`${PER_CAMPAIGN} select date_trunc('day', c.d at time zone 'Africa/Lagos'), count(*) filter (where cl), count(*) filter (where dl) from m join c on c.id = m.campaign_id group by 1`, [orgId]),
      ),
    },
  });
  out.push({
    name: "analyze_campaign_trends (90d, week, conversion_rate)",
    ms: await time(Math.min(n, 10), () => call("analyze_campaign_trends", { metric: "conversion_rate", range: { preset: "90d" }, granularity: "week" })),
    note: "reads the attributed conversions of 180 days of campaigns (with the previous period)",
  });
  out.push({
    name: "get_channel_overview (90d)",
    ms: await time(Math.min(n, 10), () => call("get_channel_overview", { range: { preset: "90d" } })),
    reference: {
      name: "SQL: per channel from events + distinct contacts delivered",
      ms: await time(Math.min(n, 3), () =>
        Promise.all([
          sql(`${PER_CAMPAIGN} select c.channel, count(*) filter (where dl), count(*) filter (where en) from m join c on c.id = m.campaign_id group by 1`, [orgId]),
          sql(`select channel, count(distinct contact_id) from message_events where organization_id = $1 and type = 'DELIVERED' and occurred_at >= now() - interval '90 days' group by 1`, [orgId]),
        ]),
      ),
    },
  });
  await t.close();
  await pool.end();
  return out;
}
