// Live counts: the last N minutes against the N minutes before, in one statement over the
// trigger-free base tables (short windows read few rows through the (organization, time) indexes).
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";

export const REALTIME_METRICS = ["tool_calls", "sends", "deliveries", "failures", "visitors", "conversions"] as const;
export type RealTimeMetric = (typeof REALTIME_METRICS)[number];

export const REALTIME_DEFS: Record<RealTimeMetric, string> = {
  tool_calls: "MCP tool calls of the organization (audit log, any outcome)",
  sends: "outbound messages created",
  deliveries: "messages with a DELIVERED event",
  failures: "messages with a FAILED or BOUNCED event",
  visitors: "distinct website visitors (bots left out) with a touchpoint",
  conversions: "conversions",
};

export interface RealTimeMetrics {
  from: Date;
  to: Date;
  previousFrom: Date;
  metrics: Array<{ metric: RealTimeMetric; value: number; previous: number; change: number }>;
}

export async function realTimeMetrics(db: DbHandle, org: Pick<OrgInfo, "id">, o: { minutes: number; now: Date }): Promise<RealTimeMetrics> {
  const to = o.now;
  const from = new Date(to.getTime() - o.minutes * 60_000);
  const previousFrom = new Date(from.getTime() - o.minutes * 60_000);
  const id = Prisma.sql`${org.id}::uuid`;
  const win = (col: Prisma.Sql) => Prisma.sql`${col} >= ${previousFrom} and ${col} < ${to}`;
  const split = (col: Prisma.Sql, what: Prisma.Sql) => Prisma.sql`${what} filter (where ${col} >= ${from})::int as cur, ${what} filter (where ${col} < ${from})::int as prev`;
  const [r] = await db.$queryRaw<Array<Record<string, { cur: number; prev: number }>>>`
    select
      (select row_to_json(a) from (select ${split(Prisma.sql`occurred_at`, Prisma.sql`count(*)`)} from audit_events where organization_id = ${id} and ${win(Prisma.sql`occurred_at`)}) a) as tool_calls,
      (select row_to_json(a) from (select ${split(Prisma.sql`created_at`, Prisma.sql`count(*)`)} from messages where organization_id = ${id} and direction = 'OUTBOUND' and ${win(Prisma.sql`created_at`)}) a) as sends,
      (select row_to_json(a) from (select ${split(Prisma.sql`occurred_at`, Prisma.sql`count(distinct message_id)`)} from message_events where organization_id = ${id} and type = 'DELIVERED' and ${win(Prisma.sql`occurred_at`)}) a) as deliveries,
      (select row_to_json(a) from (select ${split(Prisma.sql`occurred_at`, Prisma.sql`count(distinct message_id)`)} from message_events where organization_id = ${id} and type in ('FAILED', 'BOUNCED') and ${win(Prisma.sql`occurred_at`)}) a) as failures,
      (select row_to_json(a) from (select ${split(Prisma.sql`occurred_at`, Prisma.sql`count(distinct visitor_id)`)} from touchpoints t where organization_id = ${id} and ${win(Prisma.sql`occurred_at`)}
          and not exists (select 1 from visitors v where v.id = t.visitor_id and v.is_bot)) a) as visitors,
      (select row_to_json(a) from (select ${split(Prisma.sql`occurred_at`, Prisma.sql`count(*)`)} from conversions where organization_id = ${id} and ${win(Prisma.sql`occurred_at`)}) a) as conversions`;
  return {
    from,
    to,
    previousFrom,
    metrics: REALTIME_METRICS.map((metric) => {
      const v = r![metric]!;
      return { metric, value: v.cur, previous: v.prev, change: v.cur - v.prev };
    }),
  };
}
