// customer-data: a real customer (with an email and email consent), a
// real saved segment and a real rule set, all read from the organization's demo data.
import { first, type ArgBuilder, type BuilderContext } from "./demo-data.ts";

/** An active customer with an email, a first name and EMAIL consent given. */
export async function demoCustomer(ctx: BuilderContext): Promise<{ id: string; email: string; first_name: string }> {
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

export const customerDataBuilders: Record<string, ArgBuilder> = {
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
