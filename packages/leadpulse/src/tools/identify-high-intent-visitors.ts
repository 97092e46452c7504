import { at, defineTool, lines, piiPolicy } from "@marketsage/core";
import { roundTo } from "@marketsage/domain";
import { z } from "zod";
import { BAND_CUTOFFS, bandOf, INTENT_HALF_LIFE_DAYS, INTENT_MODEL_VERSION, MIN_DELIVERED, nextAction, scoreIntent, type Band, type ScoreResult, type VisitorFeatures } from "../intent/model.ts";
import { visitorFeatures } from "../queries/features.ts";
import {
  activeCount, audienceKey, candidateBatch, channelEngagement, channelEngagementOut, ChannelEngagementOut, contactOut, ENGAGEMENT_WINDOW_DAYS,
  engagementText, LinkedContactOut, linkedContacts, NextActionOut, nextActionOut, NOT_REACHABLE, SignalOut, type Candidate,
} from "../queries/intent.ts";

const DAY = 86_400_000;

/** MODEL_DESCRIPTION trimmed to the tool's budget (the weights are INTENT_WEIGHTS, each visitor's signals carry their points; the channel rule is chooseChannel). */
const BRIEF_MODEL =
  `Model ${INTENT_MODEL_VERSION}: capped points (0–100) for pricing, checkout and product views, forms, return visits, key-page ` +
  `time and scroll; × 0.5^(days since last visit/${INTENT_HALF_LIFE_DAYS}). High ≥ ${BAND_CUTOFFS.high}, medium ≥ ` +
  `${BAND_CUTOFFS.medium}. Channel: the reachable one the visitor's country and device engage with most ` +
  `(${ENGAGEMENT_WINDOW_DAYS} d, ≥ ${MIN_DELIVERED} delivered).`;

/** The most visitors one call scores; beyond it the answer says it is incomplete. */
export const MAX_SCORED = 20_000;
const FIRST_BATCH = 500;
const MAX_BATCH = 4_000;

/** No visitor last seen `days` ago can score more: every signal's points are capped (caps add to 100) and decay with the last visit; each is rounded to 0.1 (8 signals: +0.4). */
export const intentBound = (days: number) => 100 * 0.5 ** (Math.max(0, days) / INTENT_HALF_LIFE_DAYS) + 0.5;
/** The days since the last visit at which intentBound falls to `score` (Infinity when it never does): only visitors seen since can reach it. */
export const boundDays = (score: number) => (score > 0.5 ? INTENT_HALF_LIFE_DAYS * Math.log2(100 / (score - 0.5)) : Infinity);

const BAND_RANGE: Record<Band, [number, number]> = { high: [BAND_CUTOFFS.high, Infinity], medium: [BAND_CUTOFFS.medium, BAND_CUTOFFS.high], low: [0, BAND_CUTOFFS.medium] };

interface Scored { c: Candidate; f: VisitorFeatures; s: ScoreResult }
const better = (a: Scored, b: Scored) => b.s.score - a.s.score || a.f.days_since_last_visit - b.f.days_since_last_visit || (a.c.id < b.c.id ? -1 : 1);

export const identifyHighIntentVisitors = defineTool({
  name: "identify_high_intent_visitors",
  title: "High-intent visitors",
  description:
    "Website visitors seen in the last active_days (no bots), by intent, with signals, contact (masked without PII " +
    "access), next action and channel. " + BRIEF_MODEL,
  scopes: ["leadpulse:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    active_days: z.number().int().min(1).max(90).default(30),
    min_score: z.number().min(0).max(100).optional(),
    band: z.enum(["high", "medium", "low"]).optional(),
    identified_only: z.boolean().default(false),
    limit: z.number().int().min(1).max(50).default(10),
  }),
  output: z.object({
    model: z.string(),
    active_since: z.string(),
    visitors: z.array(z.object({
      id: z.string(), score: z.number(), band: z.string(), recency_factor: z.number(), days_since_last_visit: z.number(),
      signals: z.array(SignalOut.omit({ why: true })), device: z.string(), country: z.string().nullable(), contact: LinkedContactOut.nullable(), next_action: NextActionOut,
    })),
    channel_engagement: z.array(z.object({ country: z.string(), device: z.string(), channels: z.array(ChannelEngagementOut) })),
    active_visitors: z.number().int(),
    scored: z.number().int(),
    complete: z.boolean().describe(`False: stopped at ${MAX_SCORED} scored; narrow the filters.`),
    pii_masked: z.boolean(),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const since = new Date(now.getTime() - input.active_days * DAY);
    const [lo, hi] = input.band ? BAND_RANGE[input.band] : [0, Infinity];
    const floor = Math.max(lo, input.min_score ?? 0);
    const keep = (s: ScoreResult) => s.score >= floor && s.score < hi;
    const top: Scored[] = [];
    let scored = 0;
    let after: { t: Date; id: string } | null = null;
    let size = FIRST_BATCH;
    let complete = true;
    let threshold = floor;
    for (;;) {
      // Only visitors seen recently enough to reach the threshold: their bound is ≥ it.
      const cut = new Date(Math.max(since.getTime(), now.getTime() - boundDays(threshold) * DAY));
      const batch = await candidateBatch(ctx.db, ctx.org, cut, input.identified_only, after, size);
      if (batch.length === 0) break;
      const features = await visitorFeatures(ctx.db, ctx.org, batch.map((c) => c.id), now);
      for (const c of batch) {
        const f = features.get(c.id);
        if (!f || f.days_since_last_visit > input.active_days) continue;
        const s = scoreIntent(f);
        if (keep(s)) top.push({ c, f, s });
      }
      top.sort(better);
      top.length = Math.min(top.length, input.limit);
      scored += batch.length;
      const last = batch[batch.length - 1]!;
      after = { t: last.last_seen_at, id: last.id };
      threshold = top.length >= input.limit ? top[top.length - 1]!.s.score : floor;
      if (batch.length < size) break;
      if (scored >= MAX_SCORED) {
        complete = false;
        break;
      }
      size = Math.min(size * 2, MAX_BATCH);
    }
    const contacts = await linkedContacts(ctx.db, ctx.org, top.flatMap((t) => (t.c.contact_id ? [t.c.contact_id] : [])));
    const audienceOf = (t: Scored) => {
      const contact = t.c.contact_id ? contacts.get(t.c.contact_id) : undefined;
      return contact ? { country: t.c.country ?? contact.country, device: t.c.device } : null;
    };
    const audiences = top.flatMap((t) => audienceOf(t) ?? []);
    const [engagement, active] = await Promise.all([channelEngagement(ctx.db, ctx.org, audiences, now), activeCount(ctx.db, ctx.org, since, input.identified_only)]);
    const pii = piiPolicy(ctx.hasScope("contacts:pii"));
    return {
      model: INTENT_MODEL_VERSION,
      active_since: since.toISOString(),
      visitors: top.map((t) => {
        const contact = t.c.contact_id ? contacts.get(t.c.contact_id) ?? null : null;
        const a = audienceOf(t);
        const ce = a ? engagement.get(audienceKey(a)) ?? [] : [];
        return {
          id: t.c.id,
          score: t.s.score,
          band: bandOf(t.s.score),
          recency_factor: t.s.recency_factor,
          days_since_last_visit: roundTo(t.f.days_since_last_visit, 2),
          signals: t.s.signals.map((g) => ({ signal: g.signal, value: g.value, points: g.points })),
          device: t.c.device,
          country: t.c.country,
          contact: contact ? contactOut(contact, pii) : null,
          next_action: nextActionOut(nextAction(t.s.score, t.f, contact?.reachable ?? NOT_REACHABLE, ce)),
        };
      }),
      channel_engagement: [...new Map(audiences.map((a) => [audienceKey(a), a])).values()].map((a) => ({
        country: a.country, device: a.device, channels: channelEngagementOut(engagement.get(audienceKey(a)) ?? []),
      })),
      active_visitors: active,
      scored,
      complete,
      pii_masked: pii.masked,
    };
  },
  render: (o) =>
    lines(
      `Intent (${o.model}) of visitors active since ${at(o.active_since)}: ${o.visitors.length} shown of ${o.active_visitors} active (${o.scored} scored${o.complete ? "" : `; INCOMPLETE: stopped at ${MAX_SCORED}, narrow the filters`}).`,
      o.visitors.length ? "" : "No visitor matches.",
      o.visitors.flatMap((v) => [
        `- ${v.id}: ${v.score} (${v.band}), ${v.device} ${v.country ?? "?"}, last visit ${v.days_since_last_visit} d ago (recency × ${v.recency_factor})` +
          (v.contact ? `; contact ${v.contact.id} ${[v.contact.first_name, v.contact.last_name].filter(Boolean).join(" ")} ${v.contact.email ?? "no email"} ${v.contact.phone ?? "no phone"} ${v.contact.status}, reachable on ${v.contact.reachable.join(", ") || "nothing"}` : "; anonymous"),
        `  signals: ${v.signals.map((g) => `${g.signal} ${g.value} → ${g.points} pts`).join("; ") || "none"}`,
        `  next: ${v.next_action.action}${v.next_action.channel ? ` via ${v.next_action.channel}` : ""}: ${v.next_action.action_text} (${v.next_action.why})`,
      ]),
      o.channel_engagement.map((a) => `Engagement ${a.country} ${a.device}: ${engagementText(a.channels)}`),
      o.pii_masked && o.visitors.some((v) => v.contact) ? "Email and phone are masked (no PII access)." : "",
    ),
});
