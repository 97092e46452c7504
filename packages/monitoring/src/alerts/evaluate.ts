// The alert evaluator: every enabled threshold of an organization (or of all) measured now over its
// window — the KPI's value over [now − window, now), or its relative change against the previous
// equal window — and compared. A breach with no open alert fires one (the partial unique index
// alerts_open_threshold_key makes evaluators racing in several processes fire it once); an open
// alert whose breach ended is resolved; a breach that lasts fires nothing more. A value that
// cannot be measured (no data in the window, a previous value of 0 for a relative rule) changes
// nothing and is reported as such.
import { randomUUID } from "node:crypto";
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { KPI_DEFS, KPI_NAMES, kpiValues, type KpiName } from "../kpi/index.ts";

export const OPERATORS = ["above", "below", "rises_by", "falls_by"] as const;
export type Operator = (typeof OPERATORS)[number];
export const isRelative = (op: Operator): boolean => op === "rises_by" || op === "falls_by";

export interface ThresholdRow {
  id: string;
  organization_id: string;
  name: string;
  metric: string;
  operator: Operator;
  value: number;
  window_minutes: number;
  severity: "INFO" | "WARNING" | "CRITICAL";
  enabled: boolean;
  created_at: Date;
}

export interface Evaluation {
  thresholdId: string;
  observed: number | null;
  breached: boolean | null;
  action: "fired" | "resolved" | "still_firing" | "ok" | "no_data";
}

/** The value a rule compares: the KPI over the window, or its relative change (null when unmeasurable). */
export function breachOf(op: Operator, limit: number, current: number | null, previous: number | null): { observed: number | null; breached: boolean | null } {
  if (!isRelative(op)) {
    if (current === null) return { observed: null, breached: null };
    return { observed: current, breached: op === "above" ? current > limit : current < limit };
  }
  if (current === null || previous === null || previous === 0) return { observed: null, breached: null };
  const change = (current - previous) / Math.abs(previous);
  return { observed: change, breached: op === "rises_by" ? change >= limit : change <= -limit };
}

export function describeRule(t: Pick<ThresholdRow, "metric" | "operator" | "value" | "window_minutes">): string {
  if (!(KPI_NAMES as readonly string[]).includes(t.metric) || !(OPERATORS as readonly string[]).includes(t.operator)) {
    return `not evaluated: ${t.metric} ${t.operator} ${t.value} is not a rule set_alert_threshold can express (replace it with one)`;
  }
  const w = t.window_minutes % 1440 === 0 ? `${t.window_minutes / 1440} day(s)` : t.window_minutes % 60 === 0 ? `${t.window_minutes / 60} hour(s)` : `${t.window_minutes} minutes`;
  if (isRelative(t.operator)) return `${t.metric} ${t.operator === "rises_by" ? "rises" : "falls"} by ${Math.round(t.value * 1e6) / 1e4}% or more over the last ${w} vs the ${w} before`;
  return `${t.metric} ${t.operator} ${t.value} over the last ${w}`;
}

const MINUTE = 60_000;

/** Evaluates the enabled thresholds of `org` (every organization's when null) at `now`. */
export async function evaluateAlerts(db: DbHandle, now: Date, org: OrgInfo | null = null): Promise<Evaluation[]> {
  const thresholds = await db.$queryRaw<ThresholdRow[]>`
    select id::text, organization_id::text, name, metric, operator, value, window_minutes, severity::text as severity, enabled, created_at
      from alert_thresholds where enabled and (${org?.id ?? null}::uuid is null or organization_id = ${org?.id ?? null}::uuid)
     order by organization_id, created_at`;
  const out: Evaluation[] = [];
  const orgs = new Map<string, OrgInfo>();
  if (org) orgs.set(org.id, org);
  for (const t of thresholds) {
    if (!(KPI_NAMES as readonly string[]).includes(t.metric) || !(OPERATORS as readonly string[]).includes(t.operator)) continue;
    let o = orgs.get(t.organization_id);
    if (!o) {
      const [r] = await db.$queryRaw<OrgInfo[]>`
        select id::text, name, trim(reporting_currency) as "reportingCurrency", trim(default_country) as "defaultCountry", time_zone as "timeZone"
          from organizations where id = ${t.organization_id}::uuid`;
      if (!r) continue;
      o = r;
      orgs.set(t.organization_id, o);
    }
    out.push(await evaluateOne(db, o, t, now));
  }
  return out;
}

async function evaluateOne(db: DbHandle, org: OrgInfo, t: ThresholdRow, now: Date): Promise<Evaluation> {
  const kpi = t.metric as KpiName;
  const from = new Date(now.getTime() - t.window_minutes * MINUTE);
  const current = (await kpiValues(db, org, { kpis: [kpi], from, to: now })).get(kpi) ?? null;
  const previous = isRelative(t.operator) ? ((await kpiValues(db, org, { kpis: [kpi], from: new Date(from.getTime() - t.window_minutes * MINUTE), to: from })).get(kpi) ?? null) : null;
  const { observed, breached } = breachOf(t.operator, t.value, current, previous);
  if (breached === null) return { thresholdId: t.id, observed, breached, action: "no_data" };
  if (breached) {
    const label = KPI_DEFS[kpi].label;
    const message = `${t.name}: ${label} ${isRelative(t.operator) ? `changed by ${(observed! * 100).toFixed(1)}%` : `is ${observed}`} — rule: ${describeRule(t)}`;
    const n = await db.$executeRaw`
      insert into alerts (id, organization_id, threshold_id, metric, observed_value, threshold_value, severity, message, fired_at)
      values (${randomUUID()}::uuid, ${t.organization_id}::uuid, ${t.id}::uuid, ${t.metric}, ${observed}, ${t.value}, ${t.severity}::"AlertSeverity", ${message}, ${now})
      on conflict (threshold_id) where resolved_at is null do nothing`;
    return { thresholdId: t.id, observed, breached, action: n > 0 ? "fired" : "still_firing" };
  }
  const n = await db.$executeRaw`update alerts set resolved_at = ${now} where threshold_id = ${t.id}::uuid and resolved_at is null`;
  return { thresholdId: t.id, observed, breached, action: n > 0 ? "resolved" : "ok" };
}
