// Alert rules (admin: set, list, delete) and the alerts they fired (get_alerts, which evaluates the
// caller's rules first unless told not to; the worker and the HTTP host evaluate every minute).
import { randomUUID } from "node:crypto";
import { defineTool, lines, UserError } from "@marketsage/core";
import { z } from "zod";
import { describeRule, evaluateAlerts, isRelative, OPERATORS, type Operator, type ThresholdRow } from "../alerts/evaluate.ts";
import { KPI_DEFS, type KpiName } from "../kpi/index.ts";
import { KpiEnum } from "../kpi/range.ts";

const SEVERITIES = ["INFO", "WARNING", "CRITICAL"] as const;
const MAX_RULES = 100;

const RuleOut = z.object({
  id: z.string(),
  name: z.string(),
  metric: z.string(),
  operator: z.string().describe("above | below | rises_by | falls_by"),
  value: z.number(),
  window_minutes: z.number().int(),
  severity: z.enum(SEVERITIES),
  enabled: z.boolean(),
  rule: z.string().describe("The rule in words (or why it is not evaluated)"),
  created_at: z.string(),
});
type RuleOut = z.infer<typeof RuleOut>;

const ruleOut = (t: ThresholdRow): RuleOut => ({
  id: t.id, name: t.name, metric: t.metric, operator: t.operator, value: t.value, window_minutes: t.window_minutes, severity: t.severity, enabled: t.enabled,
  rule: describeRule(t), created_at: t.created_at.toISOString(),
});
const ruleLine = (r: RuleOut) =>
  `- ${r.name} (${r.id}, ${r.severity}${r.enabled ? "" : ", disabled"}): ${r.rule} [${r.metric} ${r.operator} ${r.value}, window ${r.window_minutes} minutes]; set ${r.created_at}`;

export const setAlertThreshold = defineTool({
  name: "set_alert_threshold",
  title: "Set an alert rule",
  description:
    "Create or replace (same name) an alert rule on a KPI: above/below a value over a window, or rises_by/falls_by a fraction (0.2 = 20%) vs the " +
    "previous equal window. Ratios are 0–1, money in the reporting currency. Evaluated every minute and on get_alerts.",
  scopes: ["monitoring:admin"],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    name: z.string().trim().min(1).max(80),
    metric: KpiEnum,
    operator: z.enum(OPERATORS),
    value: z.number().finite(),
    window_minutes: z.number().int().min(5).max(43_200).default(60),
    severity: z.enum(SEVERITIES).default("WARNING"),
    enabled: z.boolean().default(true),
  }),
  output: z.object({ replaced: z.boolean(), threshold: RuleOut }),
  handler: async (i, ctx) => {
    const op = i.operator as Operator;
    const unit = KPI_DEFS[i.metric as KpiName].unit;
    if (isRelative(op) && !(i.value > 0 && i.value <= 10)) throw new UserError(`${op} takes a fraction of change between 0 and 10 (0.2 = 20%), got ${i.value}.`);
    if (!isRelative(op) && unit === "ratio" && i.metric !== "roi" && !(i.value >= 0 && i.value <= 1)) throw new UserError(`${i.metric} is a ratio from 0 to 1 (0.95 = 95%), got ${i.value}.`);
    if (!isRelative(op) && unit !== "ratio" && i.value < 0 && i.metric !== "roi") throw new UserError(`${i.metric} is never negative: a value of ${i.value} is always breached or never.`);
    const tx = ctx.db;
    // The call's transaction (a write tool). One writer per organization at a time: the name check and the count hold.
    await tx.$executeRaw`select pg_advisory_xact_lock(hashtext('alert_thresholds:' || ${ctx.org.id}))`;
    const [old] = await tx.$queryRaw<Array<{ id: string }>>`select id::text from alert_thresholds where organization_id = ${ctx.org.id}::uuid and name = ${i.name}`;
    if (!old) {
      const [c] = await tx.$queryRaw<Array<{ n: number }>>`select count(*)::int as n from alert_thresholds where organization_id = ${ctx.org.id}::uuid`;
      if (c!.n >= MAX_RULES) throw new UserError(`Your organization has ${c!.n} alert rules (at most ${MAX_RULES}): delete_alert_threshold one first.`);
    }
    const id = old?.id ?? randomUUID();
    if (old) {
      await tx.$executeRaw`update alert_thresholds set metric = ${i.metric}, operator = ${op}, value = ${i.value}, window_minutes = ${i.window_minutes},
                             severity = ${i.severity}::"AlertSeverity", enabled = ${i.enabled} where id = ${id}::uuid`;
      // The old rule's open alert no longer describes this rule.
      await tx.$executeRaw`update alerts set resolved_at = ${ctx.now()} where threshold_id = ${id}::uuid and resolved_at is null`;
    } else {
      await tx.$executeRaw`insert into alert_thresholds (id, organization_id, name, metric, operator, value, window_minutes, severity, enabled, created_by_id, created_at)
                             values (${id}::uuid, ${ctx.org.id}::uuid, ${i.name}, ${i.metric}, ${op}, ${i.value}, ${i.window_minutes}, ${i.severity}::"AlertSeverity", ${i.enabled},
                                     ${ctx.principal.userId}::uuid, ${ctx.now()})`;
    }
    const [t] = await tx.$queryRaw<ThresholdRow[]>`select id::text, organization_id::text, name, metric, operator, value, window_minutes, severity::text as severity, enabled, created_at
                                                     from alert_thresholds where id = ${id}::uuid`;
    return { replaced: Boolean(old), threshold: ruleOut(t!) };
  },
  render: (o) => lines(`${o.replaced ? "Replaced" : "Created"} alert rule:`, ruleLine(o.threshold)),
});

export const listAlertThresholds = defineTool({
  name: "list_alert_thresholds",
  title: "List alert rules",
  description: "Your organization's alert rules (set_alert_threshold makes them), each with its rule in words and whether it is enabled.",
  scopes: ["monitoring:admin"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  output: z.object({ thresholds: z.array(RuleOut) }),
  handler: async (_i, ctx) => {
    const rows = await ctx.db.$queryRaw<ThresholdRow[]>`select id::text, organization_id::text, name, metric, operator, value, window_minutes, severity::text as severity, enabled, created_at
                                                         from alert_thresholds where organization_id = ${ctx.org.id}::uuid order by created_at, id`;
    return { thresholds: rows.map(ruleOut) };
  },
  render: (o) => lines(o.thresholds.length ? `${o.thresholds.length} alert rule(s):` : "No alert rules: set_alert_threshold creates one.", o.thresholds.map(ruleLine)),
});

export const deleteAlertThreshold = defineTool({
  name: "delete_alert_threshold",
  title: "Delete an alert rule",
  description: "Delete an alert rule by id or name; its open alert is resolved, past alerts are kept.",
  scopes: ["monitoring:admin"],
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  input: z.object({ id: z.uuid().optional(), name: z.string().trim().min(1).max(80).optional() }).refine((x) => (x.id ? 1 : 0) + (x.name ? 1 : 0) === 1, "Give either id or name."),
  output: z.object({ deleted: RuleOut }),
  handler: async (i, ctx) => {
    const tx = ctx.db;
    const [t] = await tx.$queryRaw<ThresholdRow[]>`
      delete from alert_thresholds where organization_id = ${ctx.org.id}::uuid and (id = ${i.id ?? null}::uuid or name = ${i.name ?? null})
      returning id::text, organization_id::text, name, metric, operator, value, window_minutes, severity::text as severity, enabled, created_at`;
    if (!t) throw new UserError(`No alert rule ${i.id ? `with id ${i.id}` : `named "${i.name}"`} in your organization: list_alert_thresholds shows them.`);
    await tx.$executeRaw`update alerts set resolved_at = ${ctx.now()} where threshold_id = ${t.id}::uuid and resolved_at is null`;
    return { deleted: ruleOut(t) };
  },
  render: (o) => lines("Deleted alert rule:", ruleLine(o.deleted)),
});

const AlertOut = z.object({
  id: z.string(),
  threshold_id: z.string().nullable(),
  metric: z.string(),
  severity: z.enum(SEVERITIES),
  observed_value: z.number(),
  threshold_value: z.number(),
  message: z.string(),
  fired_at: z.string(),
  resolved_at: z.string().nullable(),
});

export const getAlerts = defineTool({
  name: "get_alerts",
  title: "Alerts",
  description:
    "Alerts fired by your organization's rules, newest first: open ones by default. Evaluates the rules against live data first (evaluate: false reads only).",
  scopes: ["monitoring:read"],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    status: z.enum(["open", "resolved", "all"]).default("open"),
    severity: z.enum(SEVERITIES).optional(),
    since: z.iso.datetime({ offset: true }).optional().describe("Fired at or after."),
    limit: z.number().int().min(1).max(100).default(20),
    evaluate: z.boolean().default(true),
  }),
  output: z.object({
    evaluated: z.object({ rules: z.number().int(), fired: z.number().int(), resolved: z.number().int(), still_firing: z.number().int(), no_data: z.number().int() }).nullable(),
    open: z.number().int().describe("Open alerts in total"),
    alerts: z.array(AlertOut),
  }),
  handler: async (i, ctx) => {
    let evaluated = null;
    if (i.evaluate) {
      const ev = await evaluateAlerts(ctx.db, ctx.now(), ctx.org);
      const n = (a: string) => ev.filter((e) => e.action === a).length;
      evaluated = { rules: ev.length, fired: n("fired"), resolved: n("resolved"), still_firing: n("still_firing"), no_data: n("no_data") };
    }
    const rows = await ctx.db.$queryRaw<Array<{ id: string; threshold_id: string | null; metric: string; severity: (typeof SEVERITIES)[number]; observed_value: number; threshold_value: number; message: string; fired_at: Date; resolved_at: Date | null }>>`
      select id::text, threshold_id::text, metric, severity::text as severity, observed_value, threshold_value, message, fired_at, resolved_at
        from alerts
       where organization_id = ${ctx.org.id}::uuid
         and (${i.status} = 'all' or (${i.status} = 'open') = (resolved_at is null))
         and (${i.severity ?? null}::text is null or severity::text = ${i.severity ?? null})
         and (${i.since ? new Date(i.since) : null}::timestamptz is null or fired_at >= ${i.since ? new Date(i.since) : null}::timestamptz)
       order by fired_at desc, id limit ${i.limit}`;
    const [open] = await ctx.db.$queryRaw<Array<{ n: number }>>`select count(*)::int as n from alerts where organization_id = ${ctx.org.id}::uuid and resolved_at is null`;
    return {
      evaluated,
      open: open!.n,
      alerts: rows.map((r) => ({ ...r, observed_value: Math.round(r.observed_value * 1e4) / 1e4, fired_at: r.fired_at.toISOString(), resolved_at: r.resolved_at?.toISOString() ?? null })),
    };
  },
  render: (o) =>
    lines(
      o.evaluated
        ? `Evaluated ${o.evaluated.rules} rule(s) now: ${o.evaluated.fired} fired, ${o.evaluated.resolved} resolved, ${o.evaluated.still_firing} still firing, ${o.evaluated.no_data} without data.`
        : "",
      `${o.open} open alert(s). ${o.alerts.length ? "Alerts, newest first:" : "No alerts match."}`,
      o.alerts.map(
        (a) =>
          `- ${a.severity} ${a.metric}: ${a.message} (observed ${a.observed_value}, threshold ${a.threshold_value}); fired ${a.fired_at}, ` +
          `${a.resolved_at ? `resolved ${a.resolved_at}` : "open"}; alert ${a.id}, rule ${a.threshold_id ?? "deleted"}`,
      ),
    ),
});

export const alertTools = [setAlertThreshold, listAlertThresholds, deleteAlertThreshold, getAlerts] as const;
