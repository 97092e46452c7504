import { at, defineTool, lines, pageNote, piiPolicy } from "@marketsage/core";
import { Cursor, limitInput } from "./inputs.ts";
import { roundTo } from "@marketsage/domain";
import { z } from "zod";
import { ENGAGEMENT_HALF_LIFE_DAYS, engagementScore, INTENT_HALF_LIFE_DAYS, INTENT_MODEL_VERSION, nextAction, scoreIntent, type VisitorFeatures } from "../intent/model.ts";
import { noFeatures, visitorFeatures } from "../queries/features.ts";
import {
  audienceKey, channelEngagement, channelEngagementOut, ChannelEngagementOut, contactOut, engagementText, LinkedContactOut, linkedContacts,
  NextActionOut, nextActionOut, NOT_REACHABLE, ScoreOut, scoreOut,
} from "../queries/intent.ts";
import { journeyPage, loadVisitor, sessionsOf, type SessionRow } from "../queries/visitor.ts";

const LATEST_SESSIONS = 5;

const Session = z.object({
  id: z.string(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  source: z.string(),
  landing_path: z.string().nullable(),
  page_views: z.number().int(),
});
const sessionOut = (s: SessionRow) => ({
  id: s.id, started_at: s.started_at.toISOString(), ended_at: s.ended_at?.toISOString() ?? null, source: s.source, landing_path: s.landing_path, page_views: s.page_views,
});
const sessionText = (s: z.infer<typeof Session>) =>
  `${at(s.started_at)} → ${s.ended_at ? at(s.ended_at) : "open"} from ${s.source}, landed ${s.landing_path ?? "?"}, ${s.page_views} page views (id ${s.id})`;
const scoreText = (label: string, s: z.infer<typeof ScoreOut>) =>
  [`${label} ${s.score}${s.band ? ` (${s.band})` : ""}, recency factor ${s.recency_factor} (half-life ${s.half_life_days} d):`, ...s.signals.map((g) => `  - ${g.signal} ${g.points} pts: ${g.why}`)];

export const getVisitor = defineTool({
  name: "get_visitor",
  title: "Website visitor",
  description:
    "One website visitor (device, geo, first/last seen), first visit's source, sessions (count, latest 5), journey " +
    `(oldest first, paged), features, ${INTENT_MODEL_VERSION} intent and engagement scores per signal, the linked contact ` +
    "(masked without PII access) and its reachable channels, next action. Bots are flagged, not scored.",
  scopes: ["leadpulse:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    id: z.uuid(),
    journey_limit: limitInput(20, 100),
    journey_cursor: Cursor,
  }),
  output: z.object({
    visitor: z.object({
      id: z.string(), device: z.string(), os: z.string().nullable(), browser: z.string().nullable(), country: z.string().nullable(),
      city: z.string().nullable(), first_seen_at: z.string(), last_seen_at: z.string(), is_bot: z.boolean(),
    }),
    first_visit: z.object({
      source: z.string(), utm_source: z.string().nullable(), utm_medium: z.string().nullable(), utm_campaign: z.string().nullable(),
      referrer: z.string().nullable(), landing_path: z.string().nullable(), started_at: z.string(),
    }).nullable(),
    sessions: z.object({ count: z.number().int(), latest: z.array(Session) }),
    journey: z.object({
      order: z.literal("oldest_first"),
      items: z.array(z.object({
        at: z.string(), type: z.string(), url: z.string(), title: z.string().nullable(), duration_sec: z.number().nullable(),
        scroll_depth: z.number().nullable(), session_id: z.string().nullable(),
      })),
      next_cursor: z.string().nullable(),
    }),
    features: z.record(z.string(), z.union([z.number(), z.boolean()])).nullable(),
    intent: ScoreOut.extend({ model: z.string() }).nullable(),
    engagement: ScoreOut.nullable(),
    contact: LinkedContactOut.nullable(),
    channel_engagement: z.array(ChannelEngagementOut).describe("For its country and device (identified visitors)."),
    next_action: NextActionOut.nullable(),
    pii_masked: z.boolean(),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    const v = await loadVisitor(ctx.db, ctx.org, input.id);
    const pii = piiPolicy(ctx.hasScope("contacts:pii"));
    const [sessions, journey, features, contacts] = await Promise.all([
      sessionsOf(ctx.db, ctx.org, v.id, LATEST_SESSIONS),
      journeyPage(ctx.db, ctx.org, v.id, input.journey_limit, input.journey_cursor),
      v.is_bot ? Promise.resolve(new Map<string, VisitorFeatures>()) : visitorFeatures(ctx.db, ctx.org, [v.id], now),
      linkedContacts(ctx.db, ctx.org, v.contact_id ? [v.contact_id] : []),
    ]);
    const contact = v.contact_id ? contacts.get(v.contact_id) ?? null : null;
    const f = v.is_bot ? null : features.get(v.id) ?? noFeatures(contact !== null);
    const audience = { country: v.country ?? contact?.country ?? "", device: v.device };
    const engagement = contact && f ? (await channelEngagement(ctx.db, ctx.org, [audience], now)).get(audienceKey(audience)) ?? [] : [];
    const intent = f ? scoreIntent(f) : null;
    const first = sessions.first;
    return {
      visitor: {
        id: v.id, device: v.device, os: v.os, browser: v.browser, country: v.country, city: v.city,
        first_seen_at: v.first_seen_at.toISOString(), last_seen_at: v.last_seen_at.toISOString(), is_bot: v.is_bot,
      },
      first_visit: first
        ? { source: first.source, utm_source: first.utm_source, utm_medium: first.utm_medium, utm_campaign: first.utm_campaign, referrer: first.referrer, landing_path: first.landing_path, started_at: first.started_at.toISOString() }
        : null,
      sessions: { count: sessions.count, latest: sessions.latest.map(sessionOut) },
      journey: {
        order: "oldest_first" as const,
        items: journey.items.map((t) => ({
          at: t.occurred_at.toISOString(), type: t.type, url: t.url, title: t.title, duration_sec: t.duration_sec, scroll_depth: t.scroll_depth, session_id: t.session_id,
        })),
        next_cursor: journey.next_cursor,
      },
      features: f ? { ...f, days_since_last_visit: roundTo(f.days_since_last_visit, 4), days_since_first_visit: roundTo(f.days_since_first_visit, 4) } : null,
      intent: intent ? { model: INTENT_MODEL_VERSION, ...scoreOut(intent, true, INTENT_HALF_LIFE_DAYS) } : null,
      engagement: f ? scoreOut(engagementScore(f), false, ENGAGEMENT_HALF_LIFE_DAYS) : null,
      contact: contact ? contactOut(contact, pii) : null,
      channel_engagement: channelEngagementOut(engagement),
      next_action: f && intent ? nextActionOut(nextAction(intent.score, f, contact?.reachable ?? NOT_REACHABLE, engagement)) : null,
      pii_masked: pii.masked,
    };
  },
  render: (o) => {
    const v = o.visitor;
    const fv = o.first_visit;
    const c = o.contact;
    return lines(
      `Visitor ${v.id}: ${v.device}, ${v.os ?? "unknown OS"}, ${v.browser ?? "unknown browser"}, ${v.city ?? "?"} ${v.country ?? "?"}; first seen ${at(v.first_seen_at)}, last seen ${at(v.last_seen_at)}`,
      v.is_bot ? "This visitor is a bot (automated client by user agent): excluded from every count and not scored." : "",
      fv
        ? `First visit ${at(fv.started_at)} from ${fv.source} (utm ${fv.utm_source ?? "-"}/${fv.utm_medium ?? "-"}/${fv.utm_campaign ?? "-"}, referrer ${fv.referrer ?? "none"}), landed ${fv.landing_path ?? "?"}`
        : "No sessions recorded.",
      `Sessions: ${o.sessions.count}${o.sessions.latest.length ? `; latest ${o.sessions.latest.length}, newest first:` : ""}`,
      o.sessions.latest.map((s) => `- ${sessionText(s)}`),
      c
        ? `Contact ${c.id}: ${[c.first_name, c.last_name].filter(Boolean).join(" ") || "(no name)"}, ${c.email ?? "no email"}, ${c.phone ?? "no phone"}, ${c.status}; reachable on ${c.reachable.join(", ") || "no channel"}${o.pii_masked ? " (email/phone masked: no PII access)" : ""}`
        : v.is_bot ? "" : "Anonymous (not linked to a contact).",
      o.features ? `Features: ${Object.entries(o.features).map(([k, x]) => `${k} ${x}`).join(", ")}` : "",
      o.intent ? scoreText(`Intent (${o.intent.model})`, o.intent) : "",
      o.engagement ? scoreText("Engagement", o.engagement) : "",
      c ? `Channel engagement (${v.country ?? "?"}, ${v.device}): ${engagementText(o.channel_engagement)}` : "",
      o.next_action ? `Next action: ${o.next_action.action}${o.next_action.channel ? ` via ${o.next_action.channel}` : ""}: ${o.next_action.action_text} (${o.next_action.why})` : "",
      o.journey.items.length ? "Journey (order oldest_first), by session:" : "Journey: no touchpoints on this page.",
      o.journey.items.flatMap((t, i) => [
        ...(i === 0 || t.session_id !== o.journey.items[i - 1]!.session_id ? [`session ${t.session_id ?? "none"}:`] : []),
        `- ${at(t.at)} ${t.type} ${t.url}${t.title ? ` "${t.title}"` : ""}${t.duration_sec !== null ? ` ${t.duration_sec}s` : ""}${t.scroll_depth !== null ? ` scroll ${t.scroll_depth}%` : ""}`,
      ]),
      pageNote(o.journey.next_cursor, "journey_cursor"),
    );
  },
});
