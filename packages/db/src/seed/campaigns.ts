// campaigns and campaign_variants. Sent campaigns spread over the history (denser recently),
// named after the season they ran in; plus the in-flight ones (sending, paused, scheduled, draft,
// cancelled) and two placed on purpose: a delivery-failure day and a volume spike (anomalies).
import type { SeedContext } from "./context.ts";
import { brand } from "./context.ts";
import { CopyWriter, NULL, esc, opt } from "./copy.ts";
import { channelContent, monthLabel, pickTheme, slugify, smsSegments, themesFor } from "./content.ts";
import { Rng, Weighted } from "./prng.ts";
import type { PlannedSegment } from "./segments.ts";
import { CHANNELS, EMAIL, SMS, WHATSAPP } from "./store.ts";
import { DAY, HOUR, MINUTE, ts, type Timeline } from "./time.ts";

export type CampaignStatus = "DRAFT" | "SCHEDULED" | "SENDING" | "SENT" | "PAUSED" | "CANCELLED";

export interface PlannedVariant {
  id: string;
  name: "A" | "B";
  subject: string | null;
  content: string;
  segments: number;
  weight: number;
  isControl: boolean;
  /** Multiplier on open/read and click rates: 1 for the control, >1 when the test has a real winner. */
  lift: number;
}

export interface PlannedCampaign {
  id: string;
  name: string;
  slug: string;
  channel: number;
  status: CampaignStatus;
  subject: string | null;
  content: string;
  segments: number;
  segmentId: string | null;
  scheduledAt: number;
  sentAt: number;
  createdAt: number;
  /** Relative audience size (the messages generator turns it into a recipient count). */
  mult: number;
  /** Share of the audience actually sent (PAUSED campaigns stop part-way). */
  sentShare: number;
  /** How long the send takes, start to last message. */
  sendWindow: number;
  variants: PlannedVariant[];
}

const CHANNEL_W = new Weighted<number>([[EMAIL, 45], [SMS, 30], [WHATSAPP, 25]]);

/** The day (UTC midnight) with the injected delivery-failure spike for an organization. */
export function anomalyDay(now: number, orgIndex: number): number {
  return Math.floor((now - (9 + 7 * orgIndex) * DAY) / DAY) * DAY;
}
/** The day with an unusually large send (volume spike). */
export function spikeDay(now: number, orgIndex: number): number {
  return Math.floor((now - (23 + 5 * orgIndex) * DAY) / DAY) * DAY;
}

/** A send time during local business hours (07:00–17:45 UTC is 08:00–20:45 across these markets). */
function businessHour(rng: Rng, t: number): number {
  return Math.floor(t / DAY) * DAY + rng.between(7, 17) * HOUR + rng.between(0, 3) * 15 * MINUTE;
}

export function planCampaigns(ctx: SeedContext, orgIndex: number, segments: readonly PlannedSegment[]): PlannedCampaign[] {
  const org = ctx.orgs[orgIndex]!;
  const size = ctx.sizes[orgIndex]!;
  const tl: Timeline = ctx.tl;
  const rng = new Rng(ctx.seed, `campaigns:${org.slug}`);
  const themes = themesFor(org.slug);
  const b = brand(org.slug);
  const names = new Set<string>();
  const out: PlannedCampaign[] = [];

  const make = (status: CampaignStatus, at: number, channel: number, opts: { mult?: number; name?: string; sentShare?: number } = {}): PlannedCampaign => {
    const theme = pickTheme(rng, themes, at);
    let name = opts.name ?? `${theme.name} – ${monthLabel(at)}`;
    if (names.has(name)) name = `${name} (${CHANNELS[channel]!.charAt(0)}${CHANNELS[channel]!.slice(1).toLowerCase()})`;
    for (let k = 2; names.has(name); k++) name = `${name.replace(/ #\d+$/, "")} #${k}`;
    names.add(name);
    const slug = slugify(name);
    const link = `https://${b.domain}/s/${slug.slice(0, 24)}`;
    const c = channelContent(rng, channel, theme, org.name.replace(/ (Co|Ltd)\.$/, ""), link);
    const sent = status === "SENT" || status === "SENDING" || status === "PAUSED";
    const scheduledAt = status === "SCHEDULED" ? at : status === "CANCELLED" || (sent && rng.chance(0.6)) ? at : NaN;
    const createdAt = Math.max(tl.start - 20 * DAY, Math.min(at, tl.now) - rng.uniform(2 * HOUR, 7 * DAY));
    const seg = segments.length && rng.chance(0.5) ? rng.pick(segments).id : null;
    return {
      id: rng.uuid(), name, slug, channel, status, subject: c.subject, content: c.content, segments: channel === SMS ? smsSegments(c.content) : 1,
      segmentId: seg, scheduledAt, sentAt: sent ? at : NaN, createdAt, mult: opts.mult ?? rng.uniform(0.5, 1.5), sentShare: opts.sentShare ?? 1,
      sendWindow: channel === EMAIL ? rng.uniform(10, 40) * MINUTE : rng.uniform(5, 25) * MINUTE, variants: [],
    };
  };

  for (let i = 0; i < size.sentCampaigns; i++) {
    let at = businessHour(rng, tl.growthTime(rng, 1.4));
    while (at > tl.now - 3 * HOUR) at -= DAY;
    out.push(make("SENT", at, CHANNEL_W.pick(rng)));
  }
  // Placed on purpose: the failure-spike day (SMS), a volume spike, and recent sends so that the
  // last 24 h / 7 d / 30 d all have campaign activity.
  out.push(make("SENT", anomalyDay(tl.now, orgIndex) + 9 * HOUR, SMS, { mult: 1.5 }));
  out.push(make("SENT", spikeDay(tl.now, orgIndex) + 10 * HOUR, EMAIL, { mult: 4, name: `Mega Flash Sale – ${monthLabel(spikeDay(tl.now, orgIndex))}` }));
  out.push(make("SENT", tl.now - 30 * HOUR, WHATSAPP));
  out.push(make("SENT", Math.floor((tl.now - 4 * DAY) / HOUR) * HOUR, EMAIL));
  out.push(make("SENDING", tl.now - 150 * MINUTE, SMS));
  out.push(make("PAUSED", businessHour(rng, tl.now - rng.uniform(3, 20) * DAY), EMAIL, { sentShare: 0.4 }));
  for (let i = 0; i < 2; i++) out.push(make("SCHEDULED", Math.floor((tl.now + rng.uniform(1, 14) * DAY) / HOUR) * HOUR, CHANNEL_W.pick(rng)));
  for (let i = 0; i < 2; i++) out.push(make("DRAFT", tl.now - rng.uniform(0.5, 10) * DAY, CHANNEL_W.pick(rng)));
  out.push(make("CANCELLED", businessHour(rng, tl.now - rng.uniform(20, 60) * DAY), CHANNEL_W.pick(rng)));

  // A/B tests on ~30% of sent campaigns (at least minAb); every other test has a real winner.
  const sent = out.filter((c) => c.status === "SENT" && c.sentAt < tl.now - 2 * DAY);
  const ab = sent.filter(() => rng.chance(0.3));
  for (const c of [...sent].sort((x, y) => y.mult - x.mult)) {
    if (ab.length >= Math.min(size.minAb, sent.length)) break;
    if (!ab.includes(c)) ab.push(c);
  }
  ab.sort((x, y) => x.sentAt - y.sentAt);
  ab.forEach((c, k) => {
    const theme = { name: c.name, subject: c.subject ?? c.name, line: c.content };
    const alt = channelContent(rng, c.channel, { ...theme, line: pickTheme(rng, themesFor(org.slug), c.sentAt).line }, org.name.replace(/ (Co|Ltd)\.$/, ""), `https://${b.domain}/s/${c.slug.slice(0, 22)}-b`, true);
    const lift = k % 2 === 0 ? rng.uniform(1.4, 1.7) : 1;
    c.variants = [
      { id: rng.uuid(), name: "A", subject: c.subject, content: c.content, segments: c.segments, weight: 0.5, isControl: true, lift: 1 },
      { id: rng.uuid(), name: "B", subject: alt.subject, content: c.channel === EMAIL ? c.content : alt.content, segments: c.channel === SMS ? smsSegments(alt.content) : 1, weight: 0.5, isControl: false, lift },
    ];
  });
  return out.sort((x, y) => (x.sentAt === x.sentAt ? x.sentAt : Infinity) - (y.sentAt === y.sentAt ? y.sentAt : Infinity));
}

export async function loadCampaigns(ctx: SeedContext, plans: readonly PlannedCampaign[][]): Promise<void> {
  const camps = await CopyWriter.open(ctx.loader.client(0), "campaigns", ["id", "organization_id", "name", "channel", "status", "subject", "content", "segment_id", "scheduled_at", "sent_at", "created_at"]);
  const vars = await CopyWriter.open(ctx.loader.client(1), "campaign_variants", ["id", "organization_id", "campaign_id", "name", "subject", "content", "weight", "is_control"]);
  plans.forEach((list, oi) => {
    const orgId = ctx.orgs[oi]!.id;
    for (const c of list) {
      const nts = (t: number) => (t === t ? ts(t) : NULL);
      camps.row([c.id, orgId, esc(c.name), CHANNELS[c.channel], c.status, opt(c.subject), esc(c.content), c.segmentId ?? NULL, nts(c.scheduledAt), nts(c.sentAt), ts(c.createdAt)].join("\t"));
      for (const v of c.variants) vars.row([v.id, orgId, c.id, v.name, opt(v.subject), esc(v.content), String(v.weight), v.isControl ? "t" : "f"].join("\t"));
    }
  });
  const [a, b] = await Promise.all([camps.end(), vars.end()]);
  ctx.loader.record(a);
  ctx.loader.record(b);
}
