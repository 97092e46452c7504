// The seed's story across servers, as far as they exist: an AI agent finds a customer, looks at
// their segment and their predictions, and every one of those calls is in the audit log.
import type pg from "pg";
import type { MarketSageClient } from "../client.ts";
import { check, expectThat, type Check } from "./checks.ts";
import type { BuilderContext } from "./demo-data.ts";

export async function runScenario(client: MarketSageClient, ctx: BuilderContext, sql: pg.Client, agentUserId: string, say: (line: string) => void): Promise<Check[]> {
  const checks: Check[] = [];
  const before = Number((await sql.query(`select coalesce(max(id), 0)::text as id from audit_events`)).rows[0].id);
  const calls: string[] = [];
  const cd = client.customerData;
  let customerId = "";
  let segmentId = "";

  checks.push(
    await check("scenario", "find a customer, then their segment", async () => {
      // Candidates straight from the demo data (static lists: a rule segment's stored members may
      // lag its rules by max_age_seconds); the first whose profile shows a segment carries the story.
      const candidates = await ctx.q<{ id: string; name: string; email: string }>(
        `select c.id::text as id, concat_ws(' ', c.first_name, c.last_name) as name, c.email from contacts c join segment_members m on m.contact_id = c.id and m.removed_at is null
          join segments s on s.id = m.segment_id and s.rules is null
          where c.organization_id = $1::uuid and c.status = 'ACTIVE' and c.first_name is not null and c.last_name is not null and c.email is not null
          order by c.created_at, c.id limit 5`,
        [ctx.orgId],
      );
      expectThat(candidates.length > 0, "no customer in a segment in the demo data");
      const pick = candidates[0]!;
      calls.push("search_customers"); // counted when asked: a failed call leaves an audit row too
      // A person asks by full name; namesakes are common, so the customer must be among the matches.
      let found = await cd.searchCustomers({ query: pick.name, limit: 50 });
      if (!found.data.customers.some((c) => c.id === pick.id) && found.data.customers.length === 50) {
        // A page full of namesakes (a million contacts): narrow by email, as a person would.
        calls.push("search_customers");
        found = await cd.searchCustomers({ query: pick.email, limit: 5 });
      }
      expectThat(found.data.customers.some((c) => c.id === pick.id), `searching "${pick.name}" did not return customer ${pick.id}`);
      customerId = pick.id;
      calls.push("get_customer_profile");
      const profile = await cd.getCustomerProfile({ id: customerId, timeline_limit: 3 });
      const seg = profile.data.segments[0];
      expectThat(seg !== undefined, `the profile of ${customerId} lists no segment although segment_members has one`);
      segmentId = seg!.id;
      const c = profile.data.customer;
      say(`  The agent searched "${pick.name}" and found ${c.first_name} ${c.last_name ?? ""} (${c.city ?? ""} ${c.country}), in segment "${seg!.name}".`);
      return `${found.data.customers.length} match(es); customer ${customerId}; segment ${seg!.name}`;
    }),
  );

  checks.push(
    await check("scenario", "the segment: size and reachability", async () => {
      expectThat(segmentId !== "", "no segment from the previous step");
      calls.push("get_segment");
      const s = await cd.getSegment({ id: segmentId });
      expectThat(s.data.member_count > 0, `segment ${segmentId} has no members`);
      say(`  "${s.data.name}" has ${s.data.member_count} members; reachable now: email ${s.data.reachability.email}, SMS ${s.data.reachability.sms}, WhatsApp ${s.data.reachability.whatsapp}.`);
      return `${s.data.member_count} members`;
    }),
  );

  checks.push(
    await check("scenario", "the customer's predictions", async () => {
      expectThat(customerId !== "", "no customer from the first step");
      calls.push("get_customer_predictions");
      const p = await cd.getCustomerPredictions({ id: customerId });
      const pr = p.data.prediction;
      expectThat(pr !== null, "no prediction");
      say(`  Churn risk ${pr!.churn_risk.toFixed(2)} (${pr!.risk_bucket}), 12-month value ${pr!.lifetime_value} ${pr!.currency}, next best action: ${pr!.next_best_action_text}.`);
      return `churn ${pr!.churn_risk.toFixed(2)}, ${pr!.model_version}`;
    }),
  );

  checks.push(
    await check("scenario", "every call of the story is in the audit log", async () => {
      const rows = (
        await sql.query<{ tool: string; path: string; outcome: string }>(
          `select tool, path, outcome::text as outcome from audit_events where id > $1 and actor_user_id = $2::uuid order by id`,
          [before, agentUserId],
        )
      ).rows;
      const tools = rows.map((r) => r.tool);
      expectThat(calls.length > 0, "the story made no call");
      expectThat(JSON.stringify(tools) === JSON.stringify(calls), `audit shows [${tools.join(", ")}], calls were [${calls.join(", ")}]`);
      expectThat(rows.every((r) => r.path === "mcp" && r.outcome === "ALLOWED"), "an audit row is not path=mcp, outcome=ALLOWED");
      say(`  The audit log has ${rows.length} new rows for the agent, in order: ${tools.join(" → ")} (path mcp, allowed).`);
      return `${rows.length} rows`;
    }),
  );
  return checks;
}
