// get_conversion_funnel's read: per unit (visitor or session) the time it reached each step, then
// counts and step-to-step times per breakdown group and in total, in one statement.
//
// Semantics (FUNNEL_SYNTAX, test/reference-funnel.ts): step 1 is the unit's first matching
// touchpoint in [from, to) (ties by id); step k+1 is the earliest matching touchpoint strictly
// after step k and at most the window after step 1 (inclusive), so later steps may fall after
// `to`. Each step is one `min()` over the candidate touchpoints joined to the previous step:
// greedy earliest match, which never converts fewer steps than any other choice.
import { Prisma } from "@marketsage/db";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { urlPatternRegex } from "@marketsage/domain";
import type { FunnelStepInput } from "../funnel/steps.ts";

export type FunnelUnit = "visitor" | "session";
export type FunnelBreakdown = "device" | "country" | "source" | "new_vs_returning";

export interface FunnelQuery {
  from: Date;
  to: Date;
  windowMs: number;
  unit: FunnelUnit;
  steps: readonly FunnelStepInput[];
  breakdown?: FunnelBreakdown | undefined;
  /** Breakdown groups kept by units entered; the rest are merged into one "other" group. */
  maxGroups: number;
}

export interface StepTally {
  /** Units that reached the step, per step. */
  entered: number[];
  /** Seconds from step k to step k+1 (units that reached both), per step but the last. */
  median: Array<number | null>;
  p90: Array<number | null>;
}

export interface FunnelGroupTally extends StepTally {
  /** The breakdown value at the step-1 touchpoint; null when unknown (or for the merged group). */
  value: string | null;
  /** The merged group of the values beyond maxGroups. */
  other: boolean;
  /** How many breakdown values this group holds (1, or the merged count). */
  values: number;
}

export interface FunnelTally {
  total: StepTally;
  groups: FunnelGroupTally[];
  /** Distinct breakdown values among the units that entered. */
  groupsTotal: number;
}

/**
 * One step's match on the (type, route) pair `p`: a URL pattern is matched against the route
 * (`url ~ urlPatternRegex(x)` holds exactly when `marketsage_url_route(url)` matches it), so every
 * condition is evaluated once per distinct pair of the organization, not per touchpoint.
 */
function stepCondition(step: FunnelStepInput): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (step.type !== undefined) parts.push(Prisma.sql`p.type = ${step.type}::"TouchpointType"`);
  if (step.url !== undefined) parts.push(Prisma.sql`p.route ~ ${urlPatternRegex(step.url)}`);
  return Prisma.join(parts, " and ");
}

/** The breakdown value of the step-1 touchpoint's session `s` (NULL without a session). */
function groupExpr(org: Pick<OrgInfo, "id">, breakdown: FunnelBreakdown | undefined): Prisma.Sql {
  switch (breakdown) {
    case undefined:
      return Prisma.sql`null::text`;
    case "device":
      return Prisma.sql`s.device::text`;
    case "country":
      return Prisma.sql`trim(s.country)`;
    case "source":
      return Prisma.sql`s.source`;
    case "new_vs_returning":
      // New: the session is the visitor's first (no session of theirs started earlier; ties by id).
      return Prisma.sql`case when s.id is null then null
        when exists (select 1 from visitor_sessions p where p.organization_id = ${org.id}::uuid and p.visitor_id = s.visitor_id
                      and (p.started_at, p.id) < (s.started_at, s.id)) then 'returning' else 'new' end`;
  }
}

export async function funnelTally(db: DbHandle, org: Pick<OrgInfo, "id">, q: FunnelQuery): Promise<FunnelTally> {
  const n = q.steps.length;
  const win = Prisma.sql`(${q.windowMs}::bigint * interval '1 millisecond')`;
  const flags = q.steps.map((s, k) => Prisma.sql`(${stepCondition(s)}) as ${Prisma.raw(`f${k + 1}`)}`);
  const fcols = Prisma.raw(q.steps.map((_, k) => `pr.f${k + 1}`).join(", "));
  const unitCol = q.unit === "visitor" ? Prisma.sql`t.visitor_id` : Prisma.sql`t.session_id`;
  const visitorCol = q.unit === "visitor" ? Prisma.sql`u` : Prisma.sql`visitor_id`;
  const grouped = q.breakdown !== undefined;
  const ctes: Prisma.Sql[] = [
    // The organization's (type, route) pairs that match a step, then each pair's touchpoints of
    // the range (and the window after it) as one range scan of touchpoints_org_type_route_idx.
    Prisma.sql`pr as materialized (
      select * from (select p.type, p.route, ${Prisma.join(flags, ", ")} from marketsage_touchpoint_routes(${org.id}::uuid) p) z
       where ${Prisma.join(q.steps.map((_, k) => Prisma.raw(`f${k + 1}`)), " or ")})`,
    // Only the columns the later steps read (a narrower materialized CTE: 12 % of the call at
    // bench scale): the touchpoint id and session for a breakdown's step-1 touchpoint, the
    // visitor for the bot check when the unit is the session.
    Prisma.sql`m as materialized (
      select ${unitCol} as u, t.occurred_at, ${fcols}${grouped ? Prisma.sql`, t.id, t.session_id` : Prisma.empty}${q.unit === "session" ? Prisma.sql`, t.visitor_id` : Prisma.empty}
        from pr join touchpoints t on t.organization_id = ${org.id}::uuid and t.type = pr.type and t.route = pr.route
                                 and t.occurred_at >= ${q.from} and t.occurred_at <= ${q.to}::timestamptz + ${win}
       ${q.unit === "session" ? Prisma.sql`where t.session_id is not null` : Prisma.empty})`,
    // Step 1: the earliest match in the range; its touchpoint (ties by id) only when a breakdown needs its
    // session. Bots are left out here, per unit (all of a unit's touchpoints are one visitor's).
    Prisma.sql`s1 as (select * from (${
      q.breakdown === undefined
        ? Prisma.sql`select u, ${visitorCol} as visitor_id, null::uuid as session_id, min(occurred_at) as t1 from m where f1 and occurred_at < ${q.to} group by u, 2`
        : Prisma.sql`select distinct on (u) u, ${visitorCol} as visitor_id, session_id, occurred_at as t1 from m where f1 and occurred_at < ${q.to} order by u, occurred_at, id`
    }) a where not exists (select 1 from visitors v where v.id = a.visitor_id and v.is_bot))`,
  ];
  for (let k = 2; k <= n; k++) {
    const prev = Prisma.raw(`s${k - 1}`);
    const tPrev = Prisma.raw(`t${k - 1}`);
    ctes.push(Prisma.sql`${Prisma.raw(`s${k}`)} as (
      select p.u, min(m.occurred_at) as ${Prisma.raw(`t${k}`)}
        from ${prev} p ${k > 2 ? Prisma.sql`join s1 on s1.u = p.u` : Prisma.empty}
        join m on m.u = p.u and m.${Prisma.raw(`f${k}`)} and m.occurred_at > p.${tPrev} and m.occurred_at <= ${k > 2 ? Prisma.sql`s1.t1` : Prisma.sql`p.t1`} + ${win}
       group by p.u)`);
  }
  const times = Array.from({ length: n }, (_, k) => Prisma.raw(`s${k + 1}.t${k + 1}`));
  const joins = Array.from({ length: n - 1 }, (_, k) => Prisma.raw(`left join s${k + 2} on s${k + 2}.u = s1.u`));
  ctes.push(Prisma.sql`units as (
    select ${Prisma.join(times.map((t, k) => Prisma.sql`${t} as ${Prisma.raw(`t${k + 1}`)}`), ", ")}, ${groupExpr(org, q.breakdown)} as g
      from s1 ${Prisma.join(joins, " ")} left join visitor_sessions s on s.id = s1.session_id)`);
  // Groups ranked by units entered (then value, unknown last); the first maxGroups keep their value.
  ctes.push(Prisma.sql`ranked as (select g is null as gn, coalesce(g, '') as gk, row_number() over (order by count(*) desc, g nulls last) as r from units group by g)`);
  const agg: Prisma.Sql[] = [];
  for (let k = 1; k <= n; k++) {
    agg.push(Prisma.sql`count(u.${Prisma.raw(`t${k}`)})::int as ${Prisma.raw(`e${k}`)}`);
    if (k < n) {
      const gap = Prisma.sql`extract(epoch from u.${Prisma.raw(`t${k + 1}`)} - u.${Prisma.raw(`t${k}`)})::float8`;
      agg.push(Prisma.sql`percentile_cont(0.5) within group (order by ${gap}) as ${Prisma.raw(`med${k}`)}`);
      agg.push(Prisma.sql`percentile_disc(0.9) within group (order by ${gap}) as ${Prisma.raw(`p90_${k}`)}`);
    }
  }
  const rows = await db.$queryRaw<Array<Record<string, unknown>>>`
    with ${Prisma.join(ctes, ",\n")}
    select ${grouped ? Prisma.sql`case when grouping(x.other) = 1 then 1 else 0 end as total, x.other, x.g, count(distinct r.r)::int as values,` : Prisma.sql`1 as total,`}
           ${Prisma.join(agg, ", ")}
      from units u
      ${grouped ? Prisma.sql`join ranked r on r.gn = (u.g is null) and r.gk = coalesce(u.g, '')
      cross join lateral (select r.r > ${q.maxGroups} as other, case when r.r > ${q.maxGroups} then null else u.g end as g) x` : Prisma.empty}
     ${grouped ? Prisma.sql`group by grouping sets ((), (x.other, x.g)) order by total desc, x.other, min(r.r)` : Prisma.empty}`;
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const tally = (r: Record<string, unknown>): StepTally => ({
    entered: Array.from({ length: n }, (_, k) => Number(r[`e${k + 1}`] ?? 0)),
    median: Array.from({ length: n - 1 }, (_, k) => num(r[`med${k + 1}`])),
    p90: Array.from({ length: n - 1 }, (_, k) => num(r[`p90_${k + 1}`])),
  });
  const totalRow = rows.find((r) => Number(r.total) === 1);
  const total = totalRow ? tally(totalRow) : { entered: Array(n).fill(0), median: Array(n - 1).fill(null), p90: Array(n - 1).fill(null) };
  const groups = rows
    .filter((r) => Number(r.total) === 0)
    .map((r) => ({ ...tally(r), value: (r.g as string | null) ?? null, other: Boolean(r.other), values: Number(r.values) }));
  return { total, groups, groupsTotal: groups.reduce((a, g) => a + g.values, 0) };
}
