// Alert rules and the evaluator through the production seam (the real SDK client): a breach fires
// one alert however often it is evaluated (and by evaluators racing at once), the alert resolves
// when the breach ends and fires again after recovery; relative rules against the previous window;
// the worker's loop writes the same rows; rules and alerts are the caller's organization's only;
// the admin tools need monitoring:admin. Checked by SQL over alerts and alert_thresholds.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import { createLogger, type Runtime } from "@marketsage/core";
import { alertTools } from "../src/tools/alerts.ts";
import { evaluateAlerts } from "../src/alerts/evaluate.ts";
import { alertsWorker } from "../src/alerts/worker.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const B = DEMO_ORGS[1]!;
const HOUR = 3_600_000;
/** Past the demo data: only the contacts this test inserts are new. */
let clock = new Date("2027-06-01T10:00:00Z");
let runtime: Runtime;
let sql: pg.Client;
const clients = new Map<string, TestClient>();
const q = async <T = Record<string, unknown>>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => clock });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await sql?.end();
  await runtime?.close();
});

async function as(role: Role, org = A): Promise<TestClient> {
  const k = `${org.slug}:${role}`;
  let c = clients.get(k);
  if (!c) {
    c = await connectTestClient({ server: "monitoring", tools: alertTools, runtime, apiKey: demoApiKey(org, role) });
    clients.set(k, c);
  }
  return c;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(name: string, args: Record<string, unknown>, role: Role = "ADMIN", org = A): Promise<any> {
  const r = await (await as(role, org)).client.callTool({ name, arguments: args });
  if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
  const text = (r.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("\n");
  expect(valuesMissingFromText(r.structuredContent, alertTools.find((t) => t.name === name)!.output, text), text).toEqual([]);
  return r.structuredContent;
}

/** n contacts of the organization created at `at`. */
async function newContacts(orgId: string, n: number, at: Date): Promise<void> {
  await q(
    `insert into contacts (id, organization_id, email, first_name, country, time_zone, created_at, updated_at)
     select gen_random_uuid(), $1, 'alert-' || gen_random_uuid() || '@example.com', 'Test', 'NG', 'Africa/Lagos', $3, $3 from generate_series(1, $2)`,
    [orgId, n, at],
  );
}
const alertsOf = (thresholdId: string) => q<{ fired_at: Date; resolved_at: Date | null; observed_value: number }>(`select fired_at, resolved_at, observed_value from alerts where threshold_id = $1 order by fired_at`, [thresholdId]);

describe("alert rules", () => {
  it("a breach fires once while it lasts, resolves when it ends, and fires again after recovery", async () => {
    const rule = await call("set_alert_threshold", { name: `signups-${randomUUID().slice(0, 6)}`, metric: "new_contacts", operator: "above", value: 4, window_minutes: 60, severity: "CRITICAL" });
    expect(rule.replaced).toBe(false);
    expect(rule.threshold.rule).toBe("new_contacts above 4 over the last 1 hour(s)");
    const id = rule.threshold.id as string;

    await newContacts(A.id, 3, new Date(clock.getTime() - 10 * 60_000));
    let r = await call("get_alerts", {});
    expect(r.evaluated).toMatchObject({ fired: 0 });
    expect(await alertsOf(id)).toHaveLength(0);

    await newContacts(A.id, 2, new Date(clock.getTime() - 5 * 60_000));
    r = await call("get_alerts", {});
    expect(r.evaluated).toMatchObject({ fired: 1 });
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({ threshold_id: id, metric: "new_contacts", severity: "CRITICAL", observed_value: 5, threshold_value: 4, resolved_at: null });

    // Still breached: evaluated again (and by several evaluators at once) — no second alert.
    clock = new Date(clock.getTime() + 60_000);
    await Promise.all([evaluateAlerts(runtime.db, clock), evaluateAlerts(runtime.db, clock), call("get_alerts", {})]);
    expect(await alertsOf(id)).toHaveLength(1);

    // An hour later the window holds none of them: resolved.
    clock = new Date(clock.getTime() + HOUR);
    r = await call("get_alerts", { status: "all" });
    expect(r.evaluated).toMatchObject({ resolved: 1 });
    let rows = await alertsOf(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.resolved_at!.getTime()).toBe(clock.getTime());

    // A new breach after recovery: a new alert.
    await newContacts(A.id, 6, new Date(clock.getTime() - 60_000));
    r = await call("get_alerts", {});
    expect(r.evaluated).toMatchObject({ fired: 1 });
    rows = await alertsOf(id);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ resolved_at: null, observed_value: 6 });
    expect(r.open).toBe(Number((await q<{ n: string }>(`select count(*) as n from alerts where organization_id = $1 and resolved_at is null`, [A.id]))[0]!.n));

    // Deleting the rule resolves its open alert and keeps the history.
    await call("delete_alert_threshold", { id });
    rows = await alertsOf(id);
    expect(rows).toHaveLength(2);
    expect(rows.every((x) => x.resolved_at !== null)).toBe(true);
    expect(await q(`select 1 from alert_thresholds where id = $1`, [id])).toHaveLength(0);
  });

  it("a relative rule compares with the previous equal window; unmeasurable changes nothing", async () => {
    clock = new Date(clock.getTime() + 10 * HOUR);
    const rule = await call("set_alert_threshold", { name: "signup surge", metric: "new_contacts", operator: "rises_by", value: 1, window_minutes: 120 });
    const id = rule.threshold.id as string;
    // Nothing in either window: the change is undefined (previous 0), no alert.
    let r = await call("get_alerts", {});
    expect(r.evaluated.no_data).toBeGreaterThanOrEqual(1);
    await newContacts(A.id, 2, new Date(clock.getTime() - 3 * HOUR)); // previous window
    await newContacts(A.id, 4, new Date(clock.getTime() - 1 * HOUR)); // this window: +100%
    r = await call("get_alerts", {});
    const [a] = await alertsOf(id);
    expect(a).toMatchObject({ observed_value: 1, resolved_at: null });
    expect(r.alerts.find((x: { threshold_id: string }) => x.threshold_id === id).message).toMatch(/changed by 100\.0%/);
    // Same name: replaced in place, its open alert resolved (it described the old rule).
    const again = await call("set_alert_threshold", { name: "signup surge", metric: "new_contacts", operator: "rises_by", value: 2, window_minutes: 120 });
    expect(again).toMatchObject({ replaced: true, threshold: { id, value: 2 } });
    expect((await alertsOf(id))[0]!.resolved_at).not.toBeNull();
    r = await call("get_alerts", {});
    expect(await alertsOf(id)).toHaveLength(1);
  });

  it("the worker's loop evaluates every organization's rules", async () => {
    clock = new Date(clock.getTime() + 10 * HOUR);
    const rule = await call("set_alert_threshold", { name: "B signups", metric: "new_contacts", operator: "above", value: 0, window_minutes: 30 }, "ADMIN", B);
    // The worker runs on the real clock: contacts created just now.
    await newContacts(B.id, 1, new Date(Date.now() - 60_000));
    const w = await alertsWorker({ db: runtime.db, databaseUrl: tdb.url, env: { ALERTS_EVALUATE_SECONDS: "1" }, log: createLogger({ level: "silent" }) });
    try {
      const deadline = Date.now() + 10_000;
      while ((await alertsOf(rule.threshold.id)).length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
    } finally {
      await w.stop();
    }
    expect(await alertsOf(rule.threshold.id)).toHaveLength(1);
  });

  it("isolation, roles and bad input", async () => {
    const mine = await call("list_alert_thresholds", {});
    const theirs = await call("list_alert_thresholds", {}, "ADMIN", B);
    const aIds = new Set(mine.thresholds.map((t: { id: string }) => t.id));
    expect(theirs.thresholds.some((t: { id: string }) => aIds.has(t.id))).toBe(false);
    expect(mine.thresholds.map((t: { id: string }) => t.id).sort()).toEqual((await q<{ id: string }>(`select id::text from alert_thresholds where organization_id = $1`, [A.id])).map((x) => x.id).sort());
    // B cannot delete A's rule, nor see A's alerts.
    const del = await (await as("ADMIN", B)).client.callTool({ name: "delete_alert_threshold", arguments: { id: mine.thresholds[0].id } });
    expect(del.isError).toBe(true);
    expect(JSON.stringify(del.content)).toMatch(/No alert rule/);
    const bAlerts = await call("get_alerts", { status: "all", evaluate: false }, "ADMIN", B);
    const aAlertIds = new Set((await q<{ id: string }>(`select id::text from alerts where organization_id = $1`, [A.id])).map((x) => x.id));
    expect(bAlerts.alerts.some((x: { id: string }) => aAlertIds.has(x.id))).toBe(false);
    // USER reads alerts but has no monitoring:admin: the rule tools are not listed or callable.
    const user = await as("USER");
    const names = (await user.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("get_alerts");
    expect(names).not.toContain("set_alert_threshold");
    const refused = await user.client.callTool({ name: "set_alert_threshold", arguments: { name: "x", metric: "revenue", operator: "above", value: 1 } });
    expect(refused.isError).toBe(true);
    // Strict input and checked values.
    for (const args of [
      { name: "x", metric: "revenue", operator: "above", value: 1, extra: true },
      { name: "x", metric: "delivery_rate", operator: "below", value: 95 },
      { name: "x", metric: "nope", operator: "above", value: 1 },
      { name: "x", metric: "revenue", operator: "falls_by", value: -0.2 },
    ]) {
      const bad = await (await as("ADMIN")).client.callTool({ name: "set_alert_threshold", arguments: args });
      expect(bad.isError, JSON.stringify(args)).toBe(true);
    }
  });
});
