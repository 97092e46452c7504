// Small tables: conversions (collected from the message and web generators), fx_rates (daily USD
// rates with a gentle drift) and alert_thresholds (the rules; alerts are fired by monitoring's evaluator).
import type { SeedContext } from "./context.ts";
import { CopyWriter, esc, flushFull } from "./copy.ts";
import { demoUserId } from "./demo-accounts.ts";
import { USD_RATES } from "./geo.ts";
import { Rng } from "./prng.ts";
import { DAY, isoDate, ts } from "./time.ts";

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
// In monitoring's rule language (set_alert_threshold): above | below a value over the window, or
// rises_by | falls_by a fraction vs the previous equal window; metrics are its KPIs.
const THRESHOLDS: Threshold[] = [
  { name: "Delivery rate below 90%", metric: "delivery_rate", operator: "below", value: 0.9, window: 60, severity: "CRITICAL" },
  { name: "Click rate below 1%", metric: "click_rate", operator: "below", value: 0.01, window: 1440, severity: "WARNING" },
  { name: "Visitors fall by half", metric: "visitors", operator: "falls_by", value: 0.5, window: 1440, severity: "WARNING" },
  { name: "Open rate below 15%", metric: "open_rate", operator: "below", value: 0.15, window: 10080, severity: "INFO" },
];

/** The demo's alert rules. No alert rows: alerts are what monitoring's evaluator fires from the data (a seeded one would be a made-up figure). */
export async function loadAlerts(ctx: SeedContext): Promise<void> {
  const { tl } = ctx;
  const th = await CopyWriter.open(ctx.loader.client(0), "alert_thresholds", ["id", "organization_id", "name", "metric", "operator", "value", "window_minutes", "severity", "enabled", "created_by_id", "created_at"]);
  for (const [oi, org] of ctx.orgs.entries()) {
    const rng = new Rng(ctx.seed, `alerts:${org.slug}`);
    THRESHOLDS.forEach((t, k) => {
      const created = tl.start + (20 + 30 * k) * DAY;
      th.row([rng.uuid(), org.id, esc(t.name), t.metric, t.operator, String(t.value), String(t.window), t.severity, k === 3 && oi === 1 ? "f" : "t", demoUserId(oi, 1), ts(created)].join("\t"));
    });
  }
  ctx.loader.record(await th.end());
}
