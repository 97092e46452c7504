// customer-data in the harness (pnpm harness, pnpm start): arguments for every tool drawn from
// the organization's demo data, the read tools whose answers do not depend on the clock, and this
// server's part of the story. The catalog entry points here; nothing else knows these tools.
import { expectThat, firstRow as first, type ArgBuilder, type BuilderContext, type HarnessSpec, type StoryStep } from "@marketsage/core";

/** An active customer with an email, a first name and EMAIL consent given. */
async function demoCustomer(ctx: BuilderContext): Promise<{ id: string; email: string; first_name: string }> {
  const rows = await ctx.q<{ id: string; email: string; first_name: string }>(
    `select c.id::text as id, c.email, c.first_name from contacts c
      where c.organization_id = $1::uuid and c.status = 'ACTIVE' and c.email is not null and c.first_name is not null
        and c.consent_email = 'SUBSCRIBED'
      order by c.created_at, c.id limit 1`,
    [ctx.orgId],
  );
  return first(rows, "active customer with an email and email consent");
}

async function demoSegment(ctx: BuilderContext, withRules: boolean): Promise<{ id: string; rules: unknown }> {
  const rows = await ctx.q<{ id: string; rules: unknown }>(
    `select id::text as id, rules from segments where organization_id = $1::uuid ${withRules ? "and rules is not null" : ""} order by name, id limit 1`,
    [ctx.orgId],
  );
  return first(rows, withRules ? "rule segment" : "segment");
}

const builders: Record<string, ArgBuilder> = {
  search_customers: async (ctx) => ({ query: (await demoCustomer(ctx)).first_name, limit: 5 }),
  get_customer_profile: async (ctx) => ({ email: (await demoCustomer(ctx)).email, timeline_limit: 5 }),
  list_segments: async () => ({ limit: 10 }),
  get_segment: async (ctx) => ({ id: (await demoSegment(ctx, false)).id, include_members: true, members_limit: 3 }),
  preview_segment: async (ctx) => ({ rules: (await demoSegment(ctx, true)).rules, sample_size: 3 }),
  get_customer_predictions: async (ctx) => ({ id: (await demoCustomer(ctx)).id }),
  refresh_predictions: async (ctx) => ({ scope: "customer", id: (await demoCustomer(ctx)).id }),
  // Subscribing a customer who is already subscribed exercises the write path (transaction and
  // audit row) without changing the demo data: the tool answers changed=false.
  update_customer_consent: async (ctx) => ({ id: (await demoCustomer(ctx)).id, channel: "EMAIL", action: "subscribe", source: "harness_check" }),
};

interface Profile {
  customer: { first_name: string; last_name: string | null; city: string | null; country: string };
  segments: Array<{ id: string; name: string }>;
}

const steps: StoryStep[] = [
  {
    name: "find a customer, then their segment",
    async run(s) {
      // Candidates straight from the demo data (static lists: a rule segment's stored members may
      // lag its rules by max_age_seconds); the first carries the story.
      const candidates = await s.ctx.q<{ id: string; name: string; email: string }>(
        `select c.id::text as id, concat_ws(' ', c.first_name, c.last_name) as name, c.email from contacts c join segment_members m on m.contact_id = c.id and m.removed_at is null
          join segments s on s.id = m.segment_id and s.rules is null
          where c.organization_id = $1::uuid and c.status = 'ACTIVE' and c.first_name is not null and c.last_name is not null and c.email is not null
          order by c.created_at, c.id limit 5`,
        [s.ctx.orgId],
      );
      const pick = first(candidates, "customer in a segment");
      // A person asks by full name; namesakes are common, so the customer must be among the matches.
      let found = await s.call<{ customers: Array<{ id: string }> }>("search_customers", { query: pick.name, limit: 50 });
      if (!found.customers.some((c) => c.id === pick.id) && found.customers.length === 50) {
        // A page full of namesakes (a million contacts): narrow by email, as a person would.
        found = await s.call("search_customers", { query: pick.email, limit: 5 });
      }
      expectThat(found.customers.some((c) => c.id === pick.id), `searching "${pick.name}" did not return customer ${pick.id}`);
      const profile = await s.call<Profile>("get_customer_profile", { id: pick.id, timeline_limit: 3 });
      const seg = profile.segments[0];
      expectThat(seg !== undefined, `the profile of ${pick.id} lists no segment although segment_members has one`);
      s.state.customerId = pick.id;
      s.state.segmentId = seg!.id;
      const c = profile.customer;
      s.say(`  The agent searched "${pick.name}" and found ${c.first_name} ${c.last_name ?? ""} (${c.city ?? ""} ${c.country}), in segment "${seg!.name}".`);
      return `${found.customers.length} match(es); customer ${pick.id}; segment ${seg!.name}`;
    },
  },
  {
    name: "the segment: size and reachability",
    async run(s) {
      expectThat(typeof s.state.segmentId === "string", "no segment from the previous step");
      const seg = await s.call<{ name: string; member_count: number; reachability: { email: number; sms: number; whatsapp: number } }>("get_segment", { id: s.state.segmentId });
      expectThat(seg.member_count > 0, `segment ${String(s.state.segmentId)} has no members`);
      s.say(`  "${seg.name}" has ${seg.member_count} members; reachable now: email ${seg.reachability.email}, SMS ${seg.reachability.sms}, WhatsApp ${seg.reachability.whatsapp}.`);
      return `${seg.member_count} members`;
    },
  },
  {
    name: "the customer's predictions",
    async run(s) {
      expectThat(typeof s.state.customerId === "string", "no customer from the first step");
      const p = await s.call<{
        prediction: { churn_risk: number; risk_bucket: string; lifetime_value: number; currency: string; next_best_action_text: string; model_version: string } | null;
      }>("get_customer_predictions", { id: s.state.customerId });
      const pr = p.prediction;
      expectThat(pr !== null, "no prediction");
      s.say(`  Churn risk ${pr!.churn_risk.toFixed(2)} (${pr!.risk_bucket}), 12-month value ${pr!.lifetime_value} ${pr!.currency}, next best action: ${pr!.next_best_action_text}.`);
      return `churn ${pr!.churn_risk.toFixed(2)}, ${pr!.model_version}`;
    },
  },
];

export const harness: HarnessSpec = {
  builders,
  stableProbes: ["search_customers", "get_customer_profile", "get_customer_predictions"],
  story: { title: "An AI agent prepares a win-back — find a customer, their segment, their predictions", steps },
  // A one-token query that matches no one: the trigram index answers it without a scan.
  cheapRead: { tool: "search_customers", args: (tag) => ({ query: `zzq${tag}`, limit: 1 }) },
};
