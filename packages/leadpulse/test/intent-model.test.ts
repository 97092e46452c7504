// Model intent-v1 (src/intent/model.ts): the expected figures here are written out by hand from
// the documented weights table, not read back from the model's own tables.
import { describe, expect, it } from "vitest";
import {
  bandOf,
  engagementScore,
  INTENT_MODEL_VERSION,
  MODEL_DESCRIPTION,
  nextAction,
  scoreIntent,
  type ChannelEngagement,
  type Reachable,
  type VisitorFeatures,
} from "../src/intent/model.ts";

const ZERO: VisitorFeatures = {
  pricing_views: 0, checkout_views: 0, product_views: 0, forms_abandoned: 0, form_submits: 0, conversions: 0,
  sessions: 0, return_visits: 0, key_page_seconds: 0, key_page_max_scroll: 0, page_views: 0, distinct_pages: 0,
  total_seconds: 0, days_since_last_visit: 0, days_since_first_visit: 0, identified: false,
};
const v = (over: Partial<VisitorFeatures>): VisitorFeatures => ({ ...ZERO, ...over });
const points = (r: { signals: Array<{ signal: string; points: number }> }, s: string) => r.signals.find((x) => x.signal === s)?.points;

// signal → [value, expected points] pairs: one unit, just under the cap, at the cap, far past it.
const INTENT_TABLE: Record<string, Array<[number, number]>> = {
  pricing_views: [[1, 8], [2, 16], [3, 24], [50, 24]],
  checkout_views: [[1, 10], [2, 20], [9, 20]],
  forms_abandoned: [[1, 15], [4, 15]],
  return_visits: [[1, 4], [2, 8], [3, 12], [20, 12]],
  form_submits: [[1, 8], [3, 8]],
  key_page_seconds: [[30, 1], [45, 1.5], [240, 8], [3600, 8]],
  product_views: [[1, 2], [3, 6], [4, 8], [40, 8]],
  key_page_max_scroll: [[20, 1], [50, 2.5], [100, 5], [250, 5]],
};

describe("intent-v1 weights and caps", () => {
  it("is versioned and described", () => {
    expect(INTENT_MODEL_VERSION).toBe("intent-v1");
    expect(MODEL_DESCRIPTION).toContain("intent-v1");
    expect(MODEL_DESCRIPTION).toMatch(/0\.5\^\(days since last visit \/ 7\)/);
  });

  for (const [signal, cases] of Object.entries(INTENT_TABLE)) {
    it(`${signal}: points per unit, capped`, () => {
      for (const [value, expected] of cases) {
        const r = scoreIntent(v({ [signal]: value }));
        expect(r.signals.map((s) => s.signal)).toEqual([signal]);
        expect(points(r, signal)).toBe(expected);
        expect(r.score).toBe(expected);
      }
    });
  }

  it("every signal at its cap adds up to exactly 100; no signal alone passes 24", () => {
    const max = scoreIntent(v({ pricing_views: 99, checkout_views: 99, forms_abandoned: 99, return_visits: 99, form_submits: 99, key_page_seconds: 1e6, product_views: 99, key_page_max_scroll: 100 }));
    expect(max.score).toBe(100);
    expect(Math.max(...max.signals.map((s) => s.points))).toBe(24);
  });

  it("conversions, sessions and identification earn no intent points; no activity scores 0", () => {
    expect(scoreIntent(v({ conversions: 3, sessions: 1, identified: true }))).toEqual({ score: 0, band: "low", signals: [], recency_factor: 1 });
  });

  it("negative and non-finite features count as 0; scroll above 100 % counts as 100", () => {
    expect(scoreIntent(v({ pricing_views: -3, checkout_views: Number.NaN, days_since_last_visit: -2, product_views: 1 })).score).toBe(2);
    expect(scoreIntent(v({ days_since_last_visit: -2, product_views: 1 })).recency_factor).toBe(1);
  });
});

describe("recency decay (half-life 7 days)", () => {
  const busy = { pricing_views: 3, checkout_views: 2, forms_abandoned: 1, return_visits: 2 }; // 24 + 20 + 15 + 8 = 67
  it("halves every 7 days: 67 → 33.5 → 16.8", () => {
    const at = (d: number) => scoreIntent(v({ ...busy, days_since_last_visit: d }));
    expect(at(0).score).toBe(67);
    expect(at(0).recency_factor).toBe(1);
    expect(at(7).score).toBe(33.5);
    expect(at(7).recency_factor).toBe(0.5);
    expect(at(14).recency_factor).toBe(0.25);
    // 6 + 5 + 3.75 → 3.8 + 2 (each signal rounded to 1 decimal, half away from zero)
    expect(at(14).signals.map((s) => [s.signal, s.points])).toEqual([["pricing_views", 6], ["checkout_views", 5], ["forms_abandoned", 3.8], ["return_visits", 2]]);
    expect(at(14).score).toBe(16.8);
    expect(at(3.5).score).toBe(47.4); // 67 / √2 = 47.376…: 17 + 14.1 + 10.6 + 5.7
  });

  it("engagement halves every 30 days", () => {
    const f = { sessions: 5, distinct_pages: 8 }; // 20 + 24
    expect(engagementScore(v(f)).score).toBe(44);
    expect(engagementScore(v({ ...f, days_since_last_visit: 30 })).score).toBe(22);
    expect(engagementScore(v({ ...f, days_since_last_visit: 60 })).score).toBe(11);
  });
});

describe("bands", () => {
  it("high from 60, medium from 30", () => {
    expect([bandOf(100), bandOf(60), bandOf(59.9), bandOf(30), bandOf(29.9), bandOf(0)]).toEqual(["high", "high", "medium", "medium", "low", "low"]);
  });
  it("a score exactly at a cut-off takes the upper band", () => {
    // 24 + 20 + 15 + 1 = 60; 24 + 6 = 30
    expect(scoreIntent(v({ pricing_views: 3, checkout_views: 2, forms_abandoned: 1, key_page_seconds: 30 }))).toMatchObject({ score: 60, band: "high" });
    expect(scoreIntent(v({ pricing_views: 3, product_views: 3 }))).toMatchObject({ score: 30, band: "medium" });
    expect(scoreIntent(v({ pricing_views: 3, product_views: 2, key_page_max_scroll: 18 }))).toMatchObject({ score: 28.9, band: "low" });
  });
});

// A fixed grid of visitors (no randomness): every combination of a few values per feature.
function grid(): VisitorFeatures[] {
  const out: VisitorFeatures[] = [];
  for (const pricing_views of [0, 1, 4]) for (const checkout_views of [0, 1]) for (const forms_abandoned of [0, 1])
    for (const return_visits of [0, 2, 5]) for (const key_page_seconds of [0, 47, 600]) for (const key_page_max_scroll of [0, 33, 100])
      for (const days_since_last_visit of [0, 1.3, 7, 10.25, 40]) {
        out.push(v({ pricing_views, checkout_views, forms_abandoned, return_visits, key_page_seconds, key_page_max_scroll, days_since_last_visit,
          product_views: return_visits, sessions: return_visits + 1, page_views: 3 * return_visits + pricing_views, distinct_pages: return_visits + 1, total_seconds: key_page_seconds * 2 }));
      }
  return out;
}

describe("explainability, monotonicity, determinism", () => {
  it("the signals' points add up to the score, sorted by points, within 0–100", () => {
    for (const f of grid()) for (const r of [scoreIntent(f), engagementScore(f)]) {
      const sum = r.signals.reduce((s, x) => s + x.points * 10, 0) / 10; // tenths as integers: no float drift
      expect(Math.abs(sum - r.score)).toBeLessThan(1e-9);
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(100);
      expect(r.band).toBe(bandOf(r.score));
      for (let i = 1; i < r.signals.length; i++) expect(r.signals[i - 1]!.points).toBeGreaterThanOrEqual(r.signals[i]!.points);
    }
  });

  it("more pricing views never lower the score; a later last visit never raises it", () => {
    for (const f of grid()) {
      let prev = -1;
      for (let n = 0; n <= 8; n++) {
        const s = scoreIntent({ ...f, pricing_views: n }).score;
        expect(s).toBeGreaterThanOrEqual(prev);
        prev = s;
      }
      expect(scoreIntent({ ...f, days_since_last_visit: f.days_since_last_visit + 3 }).score).toBeLessThanOrEqual(scoreIntent(f).score);
    }
  });

  it("the same features give the same result, whatever the key order", () => {
    const f = v({ pricing_views: 2, checkout_views: 1, return_visits: 3, key_page_seconds: 95, days_since_last_visit: 2.2 });
    const reordered = Object.fromEntries(Object.entries(f).reverse()) as unknown as VisitorFeatures;
    expect(scoreIntent(reordered)).toEqual(scoreIntent(f));
    expect(engagementScore(reordered)).toEqual(engagementScore(f));
    expect(JSON.stringify(scoreIntent(f))).toBe(JSON.stringify(scoreIntent(structuredClone(f))));
  });
});

const ALL: Reachable = { email: true, sms: true, whatsapp: true };
const stats = (email: [number, number], sms: [number, number], whatsapp: [number, number]): ChannelEngagement[] => [
  { channel: "EMAIL", engagement_rate: email[0], delivered: email[1] },
  { channel: "SMS", engagement_rate: sms[0], delivered: sms[1] },
  { channel: "WHATSAPP", engagement_rate: whatsapp[0], delivered: whatsapp[1] },
];
const hot = v({ pricing_views: 3, checkout_views: 2, forms_abandoned: 1, identified: true }); // 59 → with a return visit, high
const hotScore = scoreIntent({ ...hot, return_visits: 1 }).score;

describe("nextAction", () => {
  it("picks the reachable channel with the best engagement rate", () => {
    expect(nextAction(hotScore, hot, ALL, stats([0.5, 900], [0.2, 900], [0.3, 900])).channel).toBe("EMAIL");
    expect(nextAction(hotScore, hot, { ...ALL, email: false }, stats([0.5, 900], [0.2, 900], [0.3, 900])).channel).toBe("WHATSAPP");
    expect(nextAction(hotScore, hot, { email: false, sms: true, whatsapp: false }, stats([0.5, 900], [0.2, 900], [0.3, 900])).channel).toBe("SMS");
  });

  it("ignores a channel below 100 delivered messages and falls back to the next", () => {
    const a = nextAction(hotScore, hot, ALL, stats([0.9, 99], [0.2, 100], [0.3, 5000]));
    expect(a.channel).toBe("WHATSAPP");
    expect(a.why).toContain("EMAIL skipped");
    expect(nextAction(hotScore, hot, ALL, stats([0.9, 100], [0.2, 100], [0.3, 5000])).channel).toBe("EMAIL");
    // No channel with enough volume: WhatsApp > SMS > email among the reachable ones.
    expect(nextAction(hotScore, hot, ALL, stats([0.9, 10], [0.8, 10], [0.1, 10])).channel).toBe("WHATSAPP");
    expect(nextAction(hotScore, hot, { ...ALL, whatsapp: false }, [])).toMatchObject({ channel: "SMS" });
    // Equal rates: WhatsApp first, then SMS.
    expect(nextAction(hotScore, hot, { ...ALL, whatsapp: false }, stats([0.4, 500], [0.4, 500], [0.4, 500])).channel).toBe("SMS");
  });

  it("never recommends a channel the contact cannot be reached on", () => {
    const tables = [stats([0.9, 900], [0.5, 900], [0.1, 900]), stats([0.1, 900], [0.9, 900], [0.5, 50]), stats([0, 0], [0, 0], [0.99, 9999]), []];
    for (let bits = 0; bits < 8; bits++) {
      const r: Reachable = { email: !!(bits & 1), sms: !!(bits & 2), whatsapp: !!(bits & 4) };
      for (const t of tables) for (const f of [hot, { ...hot, conversions: 1 }, v({ identified: true })]) {
        const a = nextAction(scoreIntent(f).score, f, r, t);
        if (bits === 0) expect(a.channel).toBeNull();
        if (a.channel) expect(r[({ EMAIL: "email", SMS: "sms", WHATSAPP: "whatsapp" } as const)[a.channel]]).toBe(true);
      }
    }
    expect(nextAction(hotScore, hot, { email: false, sms: false, whatsapp: false }, [])).toMatchObject({ action: "request_consent", channel: null });
  });

  it("anonymous visitors get an on-site action, with no channel even when channels engage", () => {
    const anon = { ...hot, identified: false };
    expect(nextAction(80, anon, ALL, stats([0.9, 900], [0.9, 900], [0.9, 900]))).toMatchObject({ action: "show_pricing_chat", channel: null });
    expect(nextAction(40, anon, ALL, [])).toMatchObject({ action: "show_lead_capture", channel: null });
    expect(nextAction(5, anon, ALL, [])).toMatchObject({ action: "show_helpful_content", channel: null });
    expect(nextAction(80, anon, ALL, []).action_text).toMatch(/pricing chat/);
  });

  it("converted visitors get no sales push", () => {
    const buyer = { ...hot, conversions: 1 };
    const a = nextAction(100, buyer, ALL, stats([0.5, 900], [0.2, 900], [0.3, 900]));
    expect(a).toMatchObject({ action: "onboard_customer", channel: "EMAIL" });
    expect(a.action_text).toMatch(/no sales offer/);
    expect(nextAction(100, { ...buyer, identified: false }, ALL, [])).toMatchObject({ action: "onboard_customer", channel: null });
  });

  it("the action follows the band and the strongest signal", () => {
    expect(nextAction(hotScore, hot, ALL, []).action).toBe("checkout_reminder");
    expect(nextAction(65, { ...hot, checkout_views: 0 }, ALL, []).action).toBe("form_follow_up");
    expect(nextAction(65, v({ identified: true, pricing_views: 3 }), ALL, []).action).toBe("sales_follow_up");
    expect(nextAction(35, v({ identified: true, pricing_views: 3 }), ALL, []).action).toBe("send_offer");
    expect(nextAction(10, { ...hot }, ALL, []).action).toBe("nurture_content");
  });
});
