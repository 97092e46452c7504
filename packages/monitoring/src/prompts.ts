// The monitoring prompt: a weekly executive summary built only from what the tools return.
import type { PromptDefinition } from "@marketsage/core";
import { z } from "zod";

export const weeklyExecutiveSummary: PromptDefinition = {
  name: "weekly_executive_summary",
  title: "Weekly executive summary",
  description: "A one-page summary of the last 7 days for a manager: headline KPIs against the week before, what moved, incidents, open alerts and the outlook.",
  args: { focus: z.string().max(200).optional().describe("Optional: a channel, KPI or question to put first.") },
  build: ({ focus }) =>
    "Write a one-page weekly executive summary for a marketing manager in Africa.\n" +
    (focus ? `Put this first: ${focus}.\n` : "") +
    "1. Call get_kpi_dashboard with period 7d: give contacts and growth, messages by channel, delivery and engagement rates, conversions, revenue, cost and ROI, each against the previous 7 days (value, change, with the currency for money).\n" +
    "2. Call get_anomaly_detection over 28 days and name each warning or critical day of the last week with its expected range; say plainly when none was found and why (the tool gives the reason).\n" +
    "3. Call get_alerts and list the open alerts with their rule.\n" +
    "4. Call analyze_performance_trends for revenue with horizon_days 7: give the forecast with its 80% band, and say whether the model beat seasonal naive in the backtest (if not, call the outlook 'like recent weeks').\n" +
    "5. End with three actions. Use only figures the tools returned; do not invent targets or benchmarks.",
};
