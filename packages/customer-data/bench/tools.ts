// customer-data at the current scale: each tool beside the best hand-written SQL for the same answer.
import pg from "pg";
import { connectTestClient } from "@marketsage/core/testing";
import type { BenchContext, BenchSample as Sample } from "@marketsage/core";
import { customerDataServer } from "../src/server.ts";

export async function benchCustomerData(b: BenchContext): Promise<Sample[]> {
  const { runtime, databaseUrl: url, apiKey, orgId, n, time } = b;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const t = await connectTestClient({ server: "customer-data", tools: customerDataServer.tools, runtime, apiKey });
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await t.client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return r;
  };
  const sql = (text: string, params: unknown[]) => pool.query(text, params);

  const picks = (
    await sql(
      `select id::text, phone, first_name, last_name from contacts where organization_id = $1 and phone is not null and first_name is not null
         order by hashtext(id::text) limit $2`,
      [orgId, n],
    )
  ).rows as Array<{ id: string; phone: string; first_name: string; last_name: string }>;
  const segs = (await sql(`select id::text, rules from segments where organization_id = $1 order by name`, [orgId])).rows as Array<{ id: string; rules: unknown }>;
  const ruleSeg = segs.find((s) => s.rules) ?? segs[0]!;
  const staticSeg = segs.find((s) => !s.rules) ?? segs[0]!;
  const pick = (i: number) => picks[i % picks.length]!;
  const out: Sample[] = [];

  out.push({
    name: "search_customers by name",
    ms: await time(n, (i) => call("search_customers", { query: pick(i).last_name, limit: 20 })),
    reference: {
      name: "SQL: ILIKE + keyset",
      ms: await time(n, (i) =>
        sql(
          `select id, first_name, last_name, email, phone from contacts where organization_id = $1
             and (first_name ilike $2 or last_name ilike $2 or email ilike $2 or company ilike $2) order by created_at desc, id desc limit 21`,
          [orgId, `%${pick(i).last_name}%`],
        ),
      ),
    },
  });
  out.push({
    name: "search_customers by phone",
    ms: await time(n, (i) => call("search_customers", { query: pick(i).phone })),
    reference: { name: "SQL: phone =", ms: await time(n, (i) => sql(`select * from contacts where organization_id = $1 and phone = $2`, [orgId, pick(i).phone])) },
  });
  out.push({
    name: "get_customer_profile",
    ms: await time(n, (i) => call("get_customer_profile", { id: pick(i).id })),
    reference: {
      name: "SQL: contact + consent + prediction + timeline",
      ms: await time(n, async (i) => {
        const id = pick(i).id;
        await Promise.all([
          sql(`select * from contacts where id = $1`, [id]),
          sql(`select distinct on (channel) * from consent_events where contact_id = $1 order by channel, occurred_at desc, id desc`, [id]),
          sql(`select * from predictions where contact_id = $1`, [id]),
          sql(`select occurred_at, type from message_events where contact_id = $1 order by occurred_at desc limit 16`, [id]),
        ]);
      }),
    },
  });
  out.push({
    name: "get_segment (static list)",
    ms: await time(Math.min(n, 30), () => call("get_segment", { id: staticSeg.id })),
    note: "size, reach, growth, engagement 30d",
    reference: {
      name: "SQL: members ⋈ contacts; events 30d grouped by contact",
      ms: await time(Math.min(n, 30), () =>
        sql(
          `with m as (select c.id, c.status, c.email, c.phone, c.consent_email, c.consent_sms, c.consent_whatsapp from segment_members sm
                        join contacts c on c.id = sm.contact_id where sm.segment_id = $2 and sm.removed_at is null and c.organization_id = $1),
                ev as (select e.contact_id, bool_or(e.type = 'DELIVERED') d, bool_or(e.type <> 'DELIVERED') g from message_events e
                        where e.organization_id = $1 and e.type in ('DELIVERED','OPENED','CLICKED','REPLIED') and e.occurred_at >= now() - interval '30 days'
                          and e.contact_id is not null group by e.contact_id)
           select (select count(*) from m), (select count(*) from m where status = 'ACTIVE' and email is not null and consent_email = 'SUBSCRIBED'),
                  (select count(*) from m where status = 'ACTIVE' and phone is not null and consent_sms = 'SUBSCRIBED'),
                  (select count(*) from m where status = 'ACTIVE' and phone is not null and consent_whatsapp = 'SUBSCRIBED'),
                  (select count(*) filter (where sm.added_at >= now() - interval '30 days') from segment_members sm where sm.segment_id = $2),
                  (select count(*) filter (where ev.d and ev.g) from ev join m on m.id = ev.contact_id)`,
          [orgId, staticSeg.id],
        ),
      ),
    },
  });
  // Rule segments read their stored member list (evaluated at most max_age_seconds ago; the first
  // call here evaluates it if the seed's evaluation is older than that), or evaluate the rules on
  // every call with max_age_seconds 0.
  await call("get_segment", { id: ruleSeg.id, max_age_seconds: 0 });
  const evaluated = async (name: string, id: string, runs: number): Promise<Sample> => ({
    name,
    ms: await time(Math.min(n, runs), () => call("get_segment", { id, max_age_seconds: 0 })),
    note: "rules evaluated into the list every call",
  });
  out.push({
    name: "get_segment (rules, stored list)",
    ms: await time(Math.min(n, 30), () => call("get_segment", { id: ruleSeg.id, max_age_seconds: 3600 })),
    note: "size, reach, growth, engagement",
  });
  out.push(await evaluated("get_segment (rules, max_age_seconds 0)", ruleSeg.id, 10));
  out.push({
    name: "list_segments (every rule segment evaluated)",
    ms: await time(Math.min(n, 3), () => call("list_segments", { limit: 50, max_age_seconds: 0 })),
    note: "max_age_seconds 0",
  });
  const largest = (
    await sql(
      `select s.id::text from segments s where s.organization_id = $1 and s.rules is not null
        order by (select count(*) from segment_members m where m.segment_id = s.id and m.removed_at is null) desc limit 1`,
      [orgId],
    )
  ).rows[0] as { id: string } | undefined;
  if (largest) out.push(await evaluated("get_segment (largest rule segment, max_age_seconds 0)", largest.id, 5));
  out.push({
    name: "list_segments (all, stored lists)",
    ms: await time(Math.min(n, 10), () => call("list_segments", { limit: 50, max_age_seconds: 3600 })),
    note: "size and growth of every segment",
  });
  const nigeriaOpened = { all: [{ field: "country", op: "in", value: ["NG"] }, { behavior: "message_event", event: "OPENED", channel: "EMAIL", within_days: 30 }] };
  out.push({
    name: "preview_segment (opened email 30d, country NG)",
    ms: await time(Math.min(n, 30), () => call("preview_segment", { rules: nigeriaOpened })),
    note: "count, reach, total, sample of 10",
    reference: {
      name: "SQL over contact_facts: count + reach",
      ms: await time(Math.min(n, 30), () =>
        sql(
          `select count(*), count(*) filter (where reach & 1 <> 0), count(*) filter (where reach & 2 <> 0), count(*) filter (where reach & 4 <> 0)
             from contact_facts where organization_id = $1 and country = 'NG' and email_opened_at >= now() - interval '30 days'`,
          [orgId],
        ),
      ),
    },
  });
  out.push({
    name: "SQL over contacts ⋈ message_events (no contact_facts)",
    ms: await time(Math.min(n, 10), () =>
      sql(
        `select count(*) from contacts c where c.organization_id = $1 and c.country = 'NG' and exists (select 1 from message_events e
           where e.contact_id = c.id and e.type = 'OPENED' and e.channel = 'EMAIL' and e.occurred_at >= now() - interval '30 days')`,
        [orgId],
      ),
    ),
    note: "the same count the way it was read before contact_facts",
  });
  out.push({
    name: "preview_segment (tag vip, clicked on any channel 90d)",
    ms: await time(Math.min(n, 30), () =>
      call("preview_segment", { rules: { all: [{ field: "tag", op: "has", value: "vip" }, { behavior: "message_event", event: "CLICKED", within_days: 90 }] } }),
    ),
    note: "tagged contacts from contact_tags",
  });
  out.push({
    name: "preview_segment (city Lagos, opened on any channel 30d)",
    ms: await time(Math.min(n, 30), () =>
      call("preview_segment", { rules: { all: [{ field: "city", op: "eq", value: "Lagos" }, { behavior: "message_event", event: "OPENED", within_days: 30 }] } }),
    ),
  });
  out.push({
    name: "preview_segment (visited /pricing twice in 90d)",
    ms: await time(Math.min(n, 10), () => call("preview_segment", { rules: { behavior: "visited", url_pattern: "/pricing", min_count: 2, within_days: 90 } })),
    reference: {
      name: "SQL: the plain scan (url ~ pattern over page views)",
      ms: await time(Math.min(n, 5), () =>
        sql(
          `select count(*) from (select t.contact_id from touchpoints t where t.organization_id = $1 and t.type = 'PAGEVIEW' and t.contact_id is not null
             and t.url ~ '^(https?://[^/]+)?/pricing/?([?#].*)?$' and t.occurred_at >= now() - interval '90 days' group by t.contact_id having count(*) >= 2) x`,
          [orgId],
        ),
      ),
    },
    note: "identified page views by URL route (index-only), the way it reads since issue 11",
  });
  await t.close();
  await pool.end();
  return out;
}

export async function benchRefresh({ runtime, apiKey }: BenchContext): Promise<{ written: number; seconds: number; perSecond: number }> {
  const t = await connectTestClient({ server: "customer-data", tools: customerDataServer.tools, runtime, apiKey });
  const r = await t.client.callTool({ name: "refresh_predictions", arguments: { scope: "organization" } }, undefined, { timeout: 30 * 60_000 });
  await t.close();
  if (r.isError) throw new Error(JSON.stringify(r.content));
  const s = r.structuredContent as { written: number; seconds: number; contacts_per_second: number };
  return { written: s.written, seconds: s.seconds, perSecond: s.contacts_per_second };
}
