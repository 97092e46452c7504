// How much data each scale produces, per organization (index 0 = naija-retail, 1 = savanna-fintech).
// Message counts are targets for campaign sends; each message yields ~3.3 events on average.
export type Scale = "tiny" | "demo" | "bench";
export const SCALES: readonly Scale[] = ["tiny", "demo", "bench"];

export interface OrgSize {
  contacts: number;
  /** Campaigns with sends (SENT); a few drafts/scheduled/paused/sending are added on top. */
  sentCampaigns: number;
  /** Campaign messages to aim for across the history. */
  campaignMessages: number;
  /** Transactional messages (OTP, receipts, order updates) without a campaign. */
  transactional: number;
  visitors: number;
  /** Visitors forced to be active in the last 30 minutes (real-time views). */
  liveVisitors: number;
  /** Minimum number of A/B-tested campaigns. */
  minAb: number;
}

export const SIZES: Record<Scale, [OrgSize, OrgSize]> = {
  tiny: [
    { contacts: 400, sentCampaigns: 12, campaignMessages: 1_300, transactional: 160, visitors: 420, liveVisitors: 8, minAb: 3 },
    { contacts: 120, sentCampaigns: 6, campaignMessages: 350, transactional: 50, visitors: 130, liveVisitors: 4, minAb: 2 },
  ],
  demo: [
    { contacts: 10_000, sentCampaigns: 110, campaignMessages: 52_000, transactional: 5_000, visitors: 8_300, liveVisitors: 40, minAb: 6 },
    { contacts: 2_000, sentCampaigns: 40, campaignMessages: 10_000, transactional: 1_200, visitors: 1_700, liveVisitors: 12, minAb: 3 },
  ],
  bench: [
    { contacts: 1_000_000, sentCampaigns: 2_400, campaignMessages: 5_900_000, transactional: 420_000, visitors: 950_000, liveVisitors: 2_500, minAb: 20 },
    { contacts: 50_000, sentCampaigns: 300, campaignMessages: 260_000, transactional: 25_000, visitors: 45_000, liveVisitors: 200, minAb: 6 },
  ],
};

export function parseScale(s: string): Scale {
  if ((SCALES as readonly string[]).includes(s)) return s as Scale;
  throw new Error(`--scale must be one of ${SCALES.join(", ")} (got "${s}")`);
}
