// Small tables: conversions (collected from the message and web generators), fx_rates (daily USD
// rates with a gentle drift), alert_thresholds and the alerts they fired in the past.
import { anomalyDay } from "./campaigns.ts";
import type { SeedContext } from "./context.ts";
import { CopyWriter, NULL, esc, flushFull } from "./copy.ts";
import { demoUserId } from "./demo-accounts.ts";
import { USD_RATES } from "./geo.ts";
import { Rng } from "./prng.ts";
import { DAY, HOUR, MINUTE, isoDate, ts } from "./time.ts";

export async function loadConversions(ctx: SeedContext, lines: readonly string[]): Promise<void> {
  const w = await CopyWriter.open(ctx.loader.client(0), "conversions", ["id", "organization_id", "contact_id", "visitor_id", "campaign_id", "message_id", "type", "value", "currency", "occurred_at"]);
  for (const l of lines) {
    w.row(l);
    if (w.full) await flushFull([w]);
  }
  ctx.loader.record(await w.end());
}

/** Daily drift per currency (depreciation against USD is the norm in these markets), and noise. */
const DRIFT: Record<string, [number, number]> = {
  NGN: [0.0004, 0.006], KES: [0.00002, 0.0015], GHS: [0.0003, 0.004], ZAR: [0.00005, 0.007], EGP: [0.0002, 0.003],
  UGX: [0.00005, 0.002], TZS: [0.0001, 0.002], RWF: [0.0002, 0.001], XOF: [0.00002, 0.004],
};

export async function loadFxRates(ctx: SeedContext): Promise<void> {
  const { tl } = ctx;
  const rng = new Rng(ctx.seed, "fx");
  const w = await CopyWriter.open(ctx.loader.client(0), "fx_rates", ["id", "base", "quote", "rate", "as_of"]);
  const first = Math.floor(tl.start / DAY) * DAY - 7 * DAY;
  let id = 0;
  for (const [quote, start] of Object.entries(USD_RATES)) {
    const [drift, noise] = DRIFT[quote] ?? [0, 0.002];
    let rate = start;
    for (let d = first; d <= tl.now; d += DAY) {
      w.row(`${++id}\tUSD\t${quote}\t${rate.toFixed(6)}\t${isoDate(d)}`);
      rate *= 1 + drift + noise * 0.4 * rng.normal();
    }
  }
  ctx.loader.record(await w.end());
}

interface Threshold { name: string; metric: string; operator: string; value: number; window: number; severity: "INFO" | "WARNING" | "CRITICAL" }
const THRESHOLDS: Threshold[] = [
  { name: "SMS delivery rate below 90%", metric: "delivery_rate", operator: "<", value: 0.9, window: 60, severity: "CRITICAL" },
  { name: "Unsubscribe rate above 2%", metric: "unsubscribe_rate", operator: ">", value: 0.02, window: 1440, severity: "WARNING" },
  { name: "Email bounce rate above 5%", metric: "bounce_rate", operator: ">", value: 0.05, window: 1440, severity: "WARNING" },
  { name: "Open rate below 15%", metric: "open_rate", operator: "<", value: 0.15, window: 10080, severity: "INFO" },
];

export async function loadAlerts(ctx: SeedContext): Promise<void> {
  const { tl } = ctx;
  const th = await CopyWriter.open(ctx.loader.client(0), "alert_thresholds", ["id", "organization_id", "name", "metric", "operator", "value", "window_minutes", "severity", "enabled", "created_by_id", "created_at"]);
  const al = await CopyWriter.open(ctx.loader.client(1), "alerts", ["id", "organization_id", "threshold_id", "metric", "observed_value", "threshold_value", "severity", "message", "fired_at", "resolved_at"]);
  for (const [oi, org] of ctx.orgs.entries()) {
    const rng = new Rng(ctx.seed, `alerts:${org.slug}`);
    const ids = THRESHOLDS.map(() => rng.uuid());
    THRESHOLDS.forEach((t, k) => {
      const created = tl.start + (20 + 30 * k) * DAY;
      th.row([ids[k], org.id, esc(t.name), t.metric, t.operator, String(t.value), String(t.window), t.severity, k === 3 && oi === 1 ? "f" : "t", demoUserId(oi, 1), ts(created)].join("\t"));
    });
    const fire = (k: number, at: number, observed: number, context: string, resolvedAfter: number | null) => {
      const t = THRESHOLDS[k]!;
      const message = `${t.metric} ${observed.toFixed(3)} ${t.operator} ${t.value} over the last ${t.window} minutes (${context})`;
      const resolved = resolvedAfter === null || at + resolvedAfter > tl.now ? NULL : ts(at + resolvedAfter);
      al.row([rng.uuid(), org.id, ids[k], t.metric, observed.toFixed(4), String(t.value), t.severity, esc(message), ts(at), resolved].join("\t"));
    };
    // The delivery-failure anomaly day fired the CRITICAL alert (and it resolved hours later).
    const bad = anomalyDay(tl.now, oi) + 9 * HOUR + 40 * MINUTE;
    fire(0, bad, 0.55 + rng.uniform(0, 0.05), "SMS provider outage", 5 * HOUR);
    fire(1, tl.now - rng.uniform(40, 80) * DAY, 0.026 + rng.uniform(0, 0.01), "after a campaign send", DAY);
    fire(2, tl.now - rng.uniform(100, 200) * DAY, 0.061 + rng.uniform(0, 0.02), "imported list", 2 * DAY);
    fire(0, tl.now - rng.uniform(150, 300) * DAY, 0.84 + rng.uniform(0, 0.04), "carrier congestion", 2 * HOUR);
  }
  const [a, b] = await Promise.all([th.end(), al.end()]);
  ctx.loader.record(a);
  ctx.loader.record(b);
}
