import { describe, expect, it } from "vitest";
import { openDb } from "@marketsage/db";
import { churnRisk, predict, type Features } from "../src/index.ts";
import { refreshPredictions } from "../src/predictions/refresh.ts";
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

describe("model rfm-decay-v1", () => {
  it("risk rises with recency and falls with frequency and purchases", () => {
    expect(churnRisk({ ...base, recency_days: 120 })).toBeGreaterThan(churnRisk(base));
    expect(churnRisk({ ...base, decayed_frequency: 10 })).toBeLessThan(churnRisk(base));
    expect(churnRisk({ ...base, conversions_365d: 5 })).toBeLessThan(churnRisk(base));
  });

  it("prefers the reachable channel with the best smoothed engagement, and asks for consent when none is reachable", () => {
    expect(predict(base).preferred_channel).toBe("WHATSAPP");
    expect(predict({ ...base, channels: { ...base.channels, WHATSAPP: { ...base.channels.WHATSAPP, reachable: false } } }).preferred_channel).toBe("EMAIL");
    const none = predict({ ...base, channels: { EMAIL: { ...base.channels.EMAIL, reachable: false }, SMS: { ...base.channels.SMS, reachable: false }, WHATSAPP: { ...base.channels.WHATSAPP, reachable: false } } });
    expect(none.preferred_channel).toBeNull();
    expect(none.next_best_action).toBe("request_consent");
  });

  it("values the next 12 months as annual spend × (1 − churn risk)", () => {
    const p = predict(base);
    expect(p.lifetime_value).toBeCloseTo(50_000 * (1 - churnRisk(base)), 0);
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
      cd.q<{ contact_id: string; row: string }>(
        `select contact_id::text, concat_ws('|', churn_risk, lifetime_value, engagement_score, preferred_channel, next_best_action, inputs::text) as row
           from predictions where organization_id = $1 order by contact_id`,
        [ORG_A.id],
      );
    try {
      const setwise = await db.$transaction((tx) => refreshPredictions(tx, ORG_A, null, cd.now, { plan: "setwise" }));
      const a = await snapshot();
      await cd.q(`update predictions set churn_risk = 0.5, inputs = '{}' where organization_id = $1`, [ORG_A.id]);
      const byIds = await db.$transaction((tx) => refreshPredictions(tx, ORG_A, null, cd.now, { plan: "by_ids" }));
      const b = await snapshot();
      expect(setwise.written).toBe(a.length);
      expect(byIds.written).toBe(a.length);
      expect(b).toEqual(a);
      // Non-trivial: the history moved some inputs away from zero.
      expect(a.some((r) => !r.row.includes('"conversions_365d": 0'))).toBe(true);
    } finally {
      await db.$disconnect();
    }
  });
});
