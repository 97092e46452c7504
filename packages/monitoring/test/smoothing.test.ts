// Exponential smoothing against published numbers and against a separate, line-by-line textbook
// implementation written here (not imported from the code under test).
import { describe, expect, it } from "vitest";
import {
  fitSmoothing,
  initialState,
  smoothingFilter,
  smoothingForecast,
  smoothingForecastSd,
  smoothingPointForecast,
} from "../src/stats/index.ts";
import { weeklySeries } from "./prng.ts";

// austourists (R package fpp2): international tourist visitor nights in Australia, quarterly 1999Q1–2015Q4.
const AUSTOURISTS = [
  30.05251, 19.1485, 25.31769, 27.59144, 32.07646, 23.48796, 28.47594, 35.12375, 36.83848, 25.00702, 30.72223, 28.69376,
  36.64099, 23.82461, 29.31168, 31.77031, 35.17788, 19.77524, 29.60175, 34.53884, 41.2736, 26.65586, 28.27986, 35.19115,
  42.20566, 24.64917, 32.66734, 37.25735, 45.24246, 29.35048, 36.34421, 41.78208, 49.2766, 31.2754, 37.85063, 38.83704,
  51.2369, 31.83855, 41.32342, 42.799, 55.70836, 33.40714, 42.31664, 45.15712, 59.57608, 34.83733, 44.84168, 46.97125,
  60.01903, 38.37118, 46.97586, 50.7338, 61.64687, 39.29957, 52.67121, 54.33232, 66.83436, 40.87119, 51.82854, 57.49191,
  65.25147, 43.06121, 54.76076, 59.83447, 73.25703, 47.69662, 61.09777, 66.05576,
];

describe("Holt–Winters additive against R (forecast::ets, ETS(A,A,A) on austourists)", () => {
  // Published in statsmodels' test suite (statsmodels/tsa/holtwinters/tests/test_holtwinters.py, fixtures
  // simulate_fit_state_r and simulate_expected_results_r), produced by R: fit <- ets(austourists, "AAA",
  // damped = FALSE); the final state fit$states[n, ] and simulate(fit, innov = c(1.76405235, 0.40015721,
  // 0.97873798, 2.2408932)). R's ETS β is α·β* in FPP's component form; states s1 … s4 run newest … oldest.
  const R = {
    alpha: 0.20281951627363,
    beta: 0.000169786227368617,
    gamma: 0.464523797585052,
    l: 62.5598121416791,
    b: 0.578091734736357,
    s: [2.61176734723357, -1.24386240029203, -12.9575427049515, 12.2066400808086],
  };
  const innov = [1.76405235, 0.40015721, 0.97873798, 2.2408932];
  const simulated = [77.1086, 51.51669, 64.46857, 70.36349];

  it("the recursions reproduce R's simulated path: each simulated value minus its innovation is the one-step forecast", () => {
    const params = { alpha: R.alpha, beta: R.beta / R.alpha, gamma: R.gamma };
    // The next observation's season is the oldest, s4, so phase 0 gets s4.
    const state = { level: R.l, trend: R.b, season: [R.s[3]!, R.s[2]!, R.s[1]!, R.s[0]!] };
    const filtered = smoothingFilter(simulated.slice(0, 3), params, state);
    const oneStep = [...filtered.fitted, smoothingPointForecast(filtered.final, 3, 1)[0]!];
    oneStep.forEach((f, i) => expect(f).toBeCloseTo(simulated[i]! - innov[i]!, 4));
  });

  it("point forecasts from R's final state: ℓ + h·b + the season of that quarter", () => {
    const state = { level: R.l, trend: R.b, season: [R.s[3]!, R.s[2]!, R.s[1]!, R.s[0]!] };
    const f = smoothingPointForecast(state, 68, 4); // 68 observations: the next index 68 has phase 0
    expect(f[0]).toBeCloseTo(77.1086 - 1.76405235, 4);
    expect(f[1]).toBeCloseTo(R.l + 2 * R.b + R.s[2]!, 10);
  });
});

describe("SES and Holt against FPP 1st ed. examples (numbers as published in statsmodels' test suite)", () => {
  it("SES, α = 0.2, ℓ₀ = y₁, Saudi Arabian oil production 1996–2007", () => {
    const oil = [446.6565229, 454.4733065, 455.662974, 423.6322388, 456.2713279, 440.5880501, 425.3325201, 485.1494479, 506.0481621, 526.7919833, 514.268889, 494.2110193];
    const fit = smoothingFilter(oil, { alpha: 0.2, beta: 0, gamma: 0 }, initialState("ses", oil));
    expect(fit.final.level).toBeCloseTo(484.802468, 4); // the one-step forecast for 2008
    expect(fit.fitted[2]).toBeCloseTo(448.21987962, 6); // the level after 1997
  });

  it("Holt, α = 0.8, β* = 0.2, ℓ₀ = y₁, b₀ = y₂ − y₁, Australian air passengers 1990–2004", () => {
    const air = [17.5534, 21.8601, 23.8866, 26.9293, 26.8885, 28.8314, 30.0751, 30.9535, 30.1857, 31.5797, 32.577569, 33.477398, 39.021581, 41.386432, 41.596552];
    const fittedfcast = [21.8601, 22.032368, 25.48461872, 27.54058587, 30.28813356, 30.26106173, 31.58122149, 32.599234, 33.24223906, 32.26755382, 33.07776017, 33.95806605, 34.77708354, 40.05535303, 43.21586036, 43.75696849];
    const fit = smoothingFilter(air, { alpha: 0.8, beta: 0.2, gamma: 0 }, initialState("holt", air));
    fit.fitted.forEach((f, i) => expect(f).toBeCloseTo(fittedfcast[i]!, 4));
    expect(fit.final.trend).toBeCloseTo(1.83655482, 6);
    const f = smoothingPointForecast(fit.final, air.length, 5);
    [43.76, 45.59, 47.43, 49.27, 51.1].forEach((v, i) => expect(f[i]).toBeCloseTo(v, 2));
  });
});

/** FPP 1st ed. §7.5 / FPP3 §8.3, written out with 1-based time as in the book: ℓ₀ = mean(y₁…y_m),
 *  b₀ = (mean(y_{m+1}…y_{2m}) − ℓ₀)/m, s_{i−m} = y_i − ℓ₀; then for t = 1 … n
 *  ŷ_{t|t−1} = ℓ_{t−1} + b_{t−1} + s_{t−m}, ℓ_t = α(y_t − s_{t−m}) + (1 − α)(ℓ_{t−1} + b_{t−1}),
 *  b_t = β*(ℓ_t − ℓ_{t−1}) + (1 − β*)b_{t−1}, s_t = γ(y_t − ℓ_{t−1} − b_{t−1}) + (1 − γ)s_{t−m};
 *  ŷ_{n+h|n} = ℓ_n + h·b_n + s_{n+h−m(k+1)}, k = ⌊(h − 1)/m⌋. */
function textbookHoltWinters(y: number[], m: number, alpha: number, beta: number, gamma: number, H: number) {
  const n = y.length;
  const Y = (t: number) => y[t - 1]!; // 1-based
  const l: Record<number, number> = {};
  const b: Record<number, number> = {};
  const s: Record<number, number> = {};
  let first = 0;
  let second = 0;
  for (let i = 1; i <= m; i++) first += Y(i) / m;
  for (let i = m + 1; i <= 2 * m; i++) second += Y(i) / m;
  l[0] = first;
  b[0] = (second - first) / m;
  for (let i = 1; i <= m; i++) s[i - m] = Y(i) - l[0];
  const fitted: number[] = [];
  for (let t = 1; t <= n; t++) {
    fitted.push(l[t - 1]! + b[t - 1]! + s[t - m]!);
    l[t] = alpha * (Y(t) - s[t - m]!) + (1 - alpha) * (l[t - 1]! + b[t - 1]!);
    b[t] = beta * (l[t]! - l[t - 1]!) + (1 - beta) * b[t - 1]!;
    s[t] = gamma * (Y(t) - l[t - 1]! - b[t - 1]!) + (1 - gamma) * s[t - m]!;
  }
  const forecast: number[] = [];
  for (let h = 1; h <= H; h++) {
    const k = Math.floor((h - 1) / m);
    forecast.push(l[n]! + h * b[n]! + s[n + h - m * (k + 1)]!);
  }
  return { fitted, forecast };
}

describe("Holt–Winters equals the textbook recursions for fixed parameters", () => {
  const cases = [
    { name: "austourists, m = 4", y: AUSTOURISTS, m: 4, alpha: 0.3063, beta: 0.0001 / 0.3063, gamma: 0.4263 },
    { name: "weekly synthetic, m = 7", y: weeklySeries({ days: 63, level: 500, slope: 1.5, weekly: [40, 20, 10, 0, -10, -30, -30], noiseSd: 12, seed: 11 }), m: 7, alpha: 0.25, beta: 0.1, gamma: 0.3 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ref = textbookHoltWinters(c.y, c.m, c.alpha, c.beta, c.gamma, 3 * c.m);
      const params = { alpha: c.alpha, beta: c.beta, gamma: c.gamma };
      const fit = smoothingFilter(c.y, params, initialState("holt_winters", c.y, c.m));
      fit.fitted.forEach((f, i) => expect(f).toBeCloseTo(ref.fitted[i]!, 9));
      smoothingPointForecast(fit.final, c.y.length, 3 * c.m).forEach((f, i) => expect(f).toBeCloseTo(ref.forecast[i]!, 9));
    });
  }
});

describe("fitting and forecast variance", () => {
  it("a noiseless trend + weekly season is forecast almost exactly four weeks ahead", () => {
    const weekly = [120, 80, 60, 40, -60, -120, -120];
    const y = Array.from({ length: 98 }, (_, t) => 500 + 3 * t + weekly[t % 7]!);
    const fit = fitSmoothing("holt_winters", y.slice(0, 70), 7);
    const f = smoothingForecast(fit, 28);
    f.mean.forEach((m, i) => expect(Math.abs(m - y[70 + i]!)).toBeLessThan(0.1)); // values 700–900
    expect(fit.params.gamma).toBeLessThanOrEqual(1 - fit.params.alpha); // FPP's restriction
  });

  it("the fitted SSE is no worse than any point of a coarse parameter grid", () => {
    const y = weeklySeries({ days: 70, level: 300, slope: 0.5, weekly: [30, 10, 5, 0, -5, -20, -20], noiseSd: 8, seed: 5 });
    const fit = fitSmoothing("holt_winters", y, 7);
    const init = initialState("holt_winters", y, 7);
    for (const alpha of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      for (const beta of [0.01, 0.1, 0.5]) {
        for (const g of [0.1, 0.5, 0.9]) {
          const sse = smoothingFilter(y, { alpha, beta, gamma: g * (1 - alpha) }, init).sse;
          expect(fit.filter.sse).toBeLessThanOrEqual(sse * (1 + 1e-9));
        }
      }
    }
  });

  it("h-step standard deviations equal FPP3 Table 8.8's closed form for ETS(A,A,A)", () => {
    const [alpha, betaStar, gamma, m, sigma] = [0.3, 0.2, 0.25, 7, 2];
    const beta = alpha * betaStar; // ETS β
    const sd = smoothingForecastSd({ alpha, beta: betaStar, gamma }, m, sigma, 28);
    sd.forEach((s, i) => {
      const h = i + 1;
      const k = Math.floor((h - 1) / m);
      const v = sigma ** 2 * (1 + (h - 1) * (alpha ** 2 + alpha * beta * h + (beta ** 2 * h * (2 * h - 1)) / 6) + gamma * k * (2 * alpha + gamma + beta * m * (k + 1)));
      expect(s).toBeCloseTo(Math.sqrt(v), 10);
    });
    // ETS(A,N,N): σ²[1 + α²(h − 1)]
    smoothingForecastSd({ alpha, beta: 0, gamma: 0 }, 0, sigma, 5).forEach((s, i) => expect(s).toBeCloseTo(sigma * Math.sqrt(1 + alpha ** 2 * i), 12));
  });
});
