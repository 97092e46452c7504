import { describe, expect, it } from "vitest";
import { openDb, Prisma } from "@marketsage/db";
import type { Features, PredictionResult } from "../src/predictions/model.ts";
import { featuresOf, INPUT_COLUMNS, modelQuery, type InputRow } from "../src/predictions/model.ts";
import { refreshPredictions } from "../src/predictions/refresh.ts";
import { churnRisk, predict } from "./reference-model.ts";
import { ORG_A, useCustomerData } from "./setup.ts";

const cd = useCustomerData();

const base: Features = {
  recency_days: 10,
  decayed_frequency: 2,
  conversions_365d: 1,
  value_365d: 50_000,
  tenure_days: 400,
  channels: {
    EMAIL: { delivered: 10, engaged: 2, reachable: true },
    SMS: { delivered: 10, engaged: 0, reachable: true },
    WHATSAPP: { delivered: 10, engaged: 6, reachable: true },
  },
};

type SqlPrediction = PredictionResult & { inputs: Features };

/** The production model (SQL) over these feature vectors, in order. */
async function sqlModel(features: Features[]): Promise<SqlPrediction[]> {
  const rows = features.map((f, i) => ({
    id: i, recency_days: f.recency_days, decayed_frequency: f.decayed_frequency, conversions_365d: f.conversions_365d,
    value_365d: f.value_365d, tenure_days: f.tenure_days,
    ...Object.fromEntries((["EMAIL", "SMS", "WHATSAPP"] as const).flatMap((ch) => {
      const p = ch.toLowerCase();
      return [[`${p}_delivered`, f.channels[ch].delivered], [`${p}_engaged`, f.channels[ch].engaged], [`${p}_reachable`, f.channels[ch].reachable]];
    })),
  }));
  const db = openDb(cd.url, { max: 1 });
  try {
    const out = await db.$queryRaw<Array<PredictionResult & InputRow & { contact_id: number; lifetime_value: string }>>`
      select * from (${modelQuery(Prisma.sql`select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id int,
        recency_days float8, decayed_frequency float8, conversions_365d int, value_365d float8, tenure_days int,
        email_delivered int, email_engaged int, email_reachable bool, sms_delivered int, sms_engaged int, sms_reachable bool,
        whatsapp_delivered int, whatsapp_engaged int, whatsapp_reachable bool)`)}) p order by contact_id`;
    return out.map((r) => ({ ...r, lifetime_value: Number(r.lifetime_value), inputs: featuresOf(r) }));
  } finally {
    await db.$disconnect();
  }
}

/** The SQL model and the reference agree: same categories, figures equal up to the last rounded digit. */
function expectSame(sql: PredictionResult, ref: PredictionResult, what: string): void {
  expect(sql.preferred_channel, what).toBe(ref.preferred_channel);
  expect(sql.next_best_action, what).toBe(ref.next_best_action);
  expect(Math.abs(sql.churn_risk - ref.churn_risk), what).toBeLessThanOrEqual(1.0001e-4);
  expect(Math.abs(sql.engagement_score - ref.engagement_score), what).toBeLessThanOrEqual(0.10001);
  expect(Math.abs(sql.lifetime_value - ref.lifetime_value), what).toBeLessThanOrEqual(Math.max(0.01, Math.abs(ref.lifetime_value) * 1e-9) + 1e-9);
}

/** A small deterministic PRNG so the property test explores the same cases on every run. */
function prng(seed: number) {
  return () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function randomFeatures(n: number, seed: number): Features[] {
  const rnd = prng(seed);
  const int = (max: number) => Math.floor(rnd() * (max + 1));
  const channel = () => {
    const delivered = int(4) === 0 ? 0 : int(40);
    // Ties between channels are common in real data (no history at all): make them common here.
    return { delivered, engaged: rnd() < 0.3 ? 0 : int(delivered), reachable: rnd() < 0.7 };
  };
  return Array.from({ length: n }, () => ({
    recency_days: int(3) === 0 ? 0 : Math.round(rnd() * 4000) / 10,
    decayed_frequency: int(3) === 0 ? 0 : Math.round(rnd() ** 3 * 60_000) / 1000,
    conversions_365d: int(2) === 0 ? 0 : int(12),
    value_365d: int(2) === 0 ? 0 : Math.round(rnd() * 50_000_000) / 100,
    tenure_days: int(800),
    channels: { EMAIL: channel(), SMS: channel(), WHATSAPP: channel() },
  }));
}

describe("model rfm-decay-v1 (SQL) against the TypeScript reference", () => {
  it("risk rises with recency and falls with frequency and purchases", async () => {
    const [b, late, frequent, buyer] = await sqlModel([base, { ...base, recency_days: 120 }, { ...base, decayed_frequency: 10 }, { ...base, conversions_365d: 5 }]);
    expect(late!.churn_risk).toBeGreaterThan(b!.churn_risk);
    expect(frequent!.churn_risk).toBeLessThan(b!.churn_risk);
    expect(buyer!.churn_risk).toBeLessThan(b!.churn_risk);
    expect(b!.churn_risk).toBeCloseTo(churnRisk(base), 4);
  });

  it("prefers the reachable channel with the best smoothed engagement, and asks for consent when none is reachable", async () => {
    const off = (c: Features["channels"]["EMAIL"]) => ({ ...c, reachable: false });
    const [all, noWhatsapp, none] = await sqlModel([
      base,
      { ...base, channels: { ...base.channels, WHATSAPP: off(base.channels.WHATSAPP) } },
      { ...base, channels: { EMAIL: off(base.channels.EMAIL), SMS: off(base.channels.SMS), WHATSAPP: off(base.channels.WHATSAPP) } },
    ]);
    expect(all!.preferred_channel).toBe("WHATSAPP");
    expect(noWhatsapp!.preferred_channel).toBe("EMAIL");
    expect(none!.preferred_channel).toBeNull();
    expect(none!.next_best_action).toBe("request_consent");
  });

  it("values the next 12 months as annual spend × (1 − churn risk)", async () => {
    const [p] = await sqlModel([base]);
    expect(p!.lifetime_value).toBeCloseTo(50_000 * (1 - churnRisk(base)), 1);
  });

  it("agrees with the reference on 3,000 random feature vectors (ties, unreachable channels, extremes)", async () => {
    const fs = randomFeatures(3000, 5);
    const out = await sqlModel(fs);
    expect(out).toHaveLength(fs.length);
    const actions = new Set<string>();
    const channels = new Set<string | null>();
    fs.forEach((f, i) => {
      expectSame(out[i]!, predict(f), `vector ${i}: ${JSON.stringify(f)}`);
      expect(out[i]!.inputs).toEqual(f);
      actions.add(out[i]!.next_best_action);
      channels.add(out[i]!.preferred_channel);
    });
    // The vectors reach every branch of the model.
    expect(actions.size).toBe(6);
    expect(channels.size).toBe(4);
  });
});

describe("stored predictions", () => {
  it("the seed computed one per contact, with inputs that match the raw history", async () => {
    const [{ contacts, preds }] = await cd.q(
      `select (select count(*) from contacts where organization_id = $1)::int contacts,
              (select count(*) from predictions where organization_id = $1)::int preds`,
      [ORG_A.id],
    );
    expect(preds).toBe(contacts);
    const [buyer] = await cd.q(
      `select c.id::text from contacts c where c.organization_id = $1 and exists (select 1 from conversions v where v.contact_id = c.id and trim(v.currency) = $2 and v.occurred_at > $3::timestamptz - interval '365 days')
        order by c.id limit 1`,
      [ORG_A.id, ORG_A.reportingCurrency, cd.now],
    );
    const r = await cd.call("ADMIN", "get_customer_predictions", { id: buyer.id });
    const [h] = await cd.q(
      `select count(*)::int n from conversions where contact_id = $1 and occurred_at > $2::timestamptz - interval '365 days' and occurred_at <= $2`,
      [buyer.id, cd.now],
    );
    expect(r.prediction.inputs.conversions_365d).toBe(h.n);
    const [d] = await cd.q(
      `select count(*)::int n from message_events where contact_id = $1 and channel = 'WHATSAPP' and type = 'DELIVERED' and occurred_at > $2::timestamptz - interval '365 days' and occurred_at <= $2`,
      [buyer.id, cd.now],
    );
    expect(r.prediction.inputs.channels.WHATSAPP.delivered).toBe(d.n);
    expect(r.prediction.stored).toBe(true);
    expect(r.prediction.churn_risk).toBeGreaterThanOrEqual(0);
    expect(r.prediction.churn_risk).toBeLessThanOrEqual(1);
  });

  it("every stored prediction is the reference model over its stored inputs", async () => {
    const rows = await cd.q<PredictionResult & InputRow & { lifetime_value: string }>(
      `select * from predictions where organization_id = $1`,
      [ORG_A.id],
    );
    expect(rows.length).toBeGreaterThan(100);
    for (const r of rows) expectSame({ ...r, lifetime_value: Number(r.lifetime_value) }, predict(featuresOf(r)), JSON.stringify(r));
    expect(new Set(rows.map((r) => r.next_best_action)).size).toBeGreaterThan(2);
  });

  it("the organization distribution matches SQL over the stored rows", async () => {
    const r = await cd.call("ADMIN", "get_customer_predictions", {});
    const [exp] = await cd.q(
      `select count(*) filter (where churn_risk < 0.3)::int low, count(*) filter (where churn_risk >= 0.3 and churn_risk < 0.6)::int medium,
              count(*) filter (where churn_risk >= 0.6)::int high, round(sum(lifetime_value)::numeric, 2)::float8 total
         from predictions where organization_id = $1`,
      [ORG_A.id],
    );
    expect(r.distribution.risk_buckets).toEqual({ low: exp.low, medium: exp.medium, high: exp.high });
    expect(r.distribution.lifetime_value.total).toBeCloseTo(exp.total, 1);
    const channels = Object.values(r.distribution.preferred_channel as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(channels).toBe(exp.low + exp.medium + exp.high);
  });

  it("refresh_predictions rewrites the whole organization and reports the count", async () => {
    const [{ n }] = await cd.q(`select count(*)::int n from contacts where organization_id = $1`, [ORG_A.id]);
    await cd.q(`update predictions set churn_risk = 0.999 where organization_id = $1`, [ORG_A.id]);
    const r = await cd.call("ADMIN", "refresh_predictions", { scope: "organization" });
    expect(r.written).toBe(n);
    const [{ stale }] = await cd.q(`select count(*)::int stale from predictions where organization_id = $1 and churn_risk = 0.999`, [ORG_A.id]);
    expect(stale).toBeLessThan(n / 10);
  });

  it("refresh_predictions is refused to roles without contacts:write", async () => {
    const r = await cd.callRaw("USER", "refresh_predictions", { scope: "organization" });
    expect(r.isError).toBe(true);
  });

  it("uses the clock it is given (no hidden now)", async () => {
    const [c] = await cd.q(`select id::text from contacts where organization_id = $1 order by id limit 1`, [ORG_A.id]);
    const r = await cd.call("ADMIN", "refresh_predictions", { scope: "customer", id: c.id });
    expect(r.written).toBe(1);
    const [p] = await cd.q(`select computed_at from predictions where contact_id = $1`, [c.id]);
    expect(p.computed_at.getTime()).toBe(cd.now.getTime());
  });

  it("the whole-set plan and the per-contact plan store identical predictions and inputs", async () => {
    const db = openDb(cd.url, { max: 1 });
    const snapshot = () =>
      cd.q<{ contact_id: string; row: string; conversions_365d: number }>(
        `select contact_id::text, concat_ws('|', churn_risk, lifetime_value, engagement_score, preferred_channel, next_best_action,
                  ${INPUT_COLUMNS.join(", ")}) as row, conversions_365d
           from predictions where organization_id = $1 order by contact_id`,
        [ORG_A.id],
      );
    try {
      const setwise = await db.$transaction((tx) => refreshPredictions(tx, ORG_A, null, cd.now, { plan: "setwise" }));
      const a = await snapshot();
      await cd.q(`update predictions set churn_risk = 0.5, recency_days = -1, email_reachable = not email_reachable where organization_id = $1`, [ORG_A.id]);
      const byIds = await db.$transaction((tx) => refreshPredictions(tx, ORG_A, null, cd.now, { plan: "by_ids" }));
      const b = await snapshot();
      expect(setwise.written).toBe(a.length);
      expect(byIds.written).toBe(a.length);
      expect(b).toEqual(a);
      // Non-trivial: the history moved some inputs away from zero.
      expect(a.some((r) => r.conversions_365d > 0)).toBe(true);
      expect(setwise.plan).toBe("setwise");
      expect(byIds.plan).toBe("by_ids");
    } finally {
      await db.$disconnect();
    }
  });
});
