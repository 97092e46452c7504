// The one ingestion path: the collector (POST /collect) and track_events both store validated
// events here, inside the caller's transaction, for one organization.
//
// In order: the batch's visitors are created or locked (row locks serialize concurrent batches of
// one visitor, so sessions and duplicates are decided on committed data); events whose id is
// already stored are dropped as duplicates; the rest are split into sessions (30 minutes of
// inactivity, continuing the visitor's latest stored session); sessions are created or extended;
// touchpoints are inserted (ON CONFLICT on the client's event id: a concurrent retry stores
// nothing twice); conversions with their value; page_leave completes its page view (time on page,
// scroll depth); identify links the visitor to a contact found by email or phone in the
// organization and back-fills the contact on the visitor's earlier anonymous touchpoints.
import { randomUUID } from "node:crypto";
import { toE164 } from "@marketsage/domain";
import { agentOf, deviceOf, isBot, type DeviceType } from "../collector/bots.ts";
import type { ValidEvent } from "../collector/events.ts";
import { assignSessions, type SessionState } from "../collector/sessions.ts";
import { pageMetricsOf, touchpointOf, type TouchpointDraft } from "../collector/touchpoint.ts";

/** Runs one SQL statement with $n parameters (a pg client in a transaction, or a Prisma transaction). */
export interface SqlRunner {
  query<T = Record<string, unknown>>(text: string, params: unknown[]): Promise<T[]>;
}

export interface IngestOrg {
  id: string;
  /** For phone numbers written without a country code (identify). */
  defaultCountry: string;
}

export interface ClientInfo {
  /** The sender's user agent; absent for server-side track_events (then not judged a bot). */
  userAgent?: string;
  /** Overrides the device the user agent implies (track_events). */
  device?: DeviceType;
  /** ISO 3166-1 alpha-2, when known (trusted proxy header, or the browser's time zone). */
  country?: string | null;
}

export interface IdentifyOutcome {
  /** The client's visitor id. */
  visitor_id: string;
  /** The contact it is now linked to, or null when no contact has that email or phone. */
  contact_id: string | null;
  /** Earlier touchpoints of the visitor that now carry the contact. */
  backfilled: number;
}

export interface IngestResult {
  /** Touchpoints newly stored. */
  stored: number;
  /** Events already stored (by their id): nothing written for them. */
  duplicates: number;
  /** page_leave events applied to their page view. */
  page_leaves: number;
  /** page_leave events whose page view is not stored (nothing to complete). */
  page_leaves_unmatched: number;
  identified: IdentifyOutcome[];
  /** Sessions this batch opened. */
  sessions_opened: number;
  /** The batch came from an obvious bot: stored, marked, never counted as visitors. */
  bot: boolean;
}

const EMPTY: Omit<IngestResult, "bot"> = { stored: 0, duplicates: 0, page_leaves: 0, page_leaves_unmatched: 0, identified: [], sessions_opened: 0 };

interface VisitorRow {
  id: string;
  fingerprint: string;
  contact_id: string | null;
  is_new: boolean;
}

/** Events that count as activity of a session (they move its end): touchpoints and page_leave. */
const isActivity = (e: ValidEvent) => e.type !== "identify";

export async function ingestEvents(sql: SqlRunner, org: IngestOrg, client: ClientInfo, events: readonly ValidEvent[]): Promise<IngestResult> {
  const ua = client.userAgent;
  const bot = ua !== undefined && isBot(ua);
  if (events.length === 0) return { ...EMPTY, identified: [], bot };
  const device = client.device ?? deviceOf(ua);
  const { os, browser } = agentOf(ua);
  const country = client.country ?? null;

  // 1. Visitors: created or updated in one statement (sorted: a fixed lock order). The update takes
  //    the row lock, so concurrent batches of one visitor run one after the other, and it moves
  //    first/last seen by the batch's activity (identify is not activity).
  const byVisitor = new Map<string, { first: number | null; last: number | null }>();
  for (const e of events) {
    const span = byVisitor.get(e.visitor_id) ?? { first: null, last: null };
    byVisitor.set(e.visitor_id, span);
    if (!isActivity(e)) continue;
    const t = e.ts.getTime();
    span.first = span.first === null ? t : Math.min(span.first, t);
    span.last = span.last === null ? t : Math.max(span.last, t);
  }
  const fingerprints = [...byVisitor.keys()].sort();
  const spanOf = (f: string) => byVisitor.get(f)!;
  const fallback = Math.min(...events.map((e) => e.ts.getTime()));
  const visitorRows = await sql.query<VisitorRow>(
    `insert into visitors as v (id, organization_id, fingerprint, device, os, browser, country, first_seen_at, last_seen_at, is_bot, user_agent)
     select x.id, $1::uuid, x.fp, $4::"DeviceType", $5, $6, $7, coalesce(x.first, x.fallback), coalesce(x.last, x.fallback), $8, $9
       from unnest($2::uuid[], $3::text[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[]) as x(id, fp, first, last, fallback)
     on conflict (organization_id, fingerprint) do update
        set first_seen_at = least(v.first_seen_at, excluded.first_seen_at),
            last_seen_at = greatest(v.last_seen_at, excluded.last_seen_at),
            country = coalesce(v.country, excluded.country)
     returning v.id::text, v.fingerprint, v.contact_id::text, (v.xmax = 0) as is_new`,
    [
      org.id,
      fingerprints.map(() => randomUUID()),
      fingerprints,
      device,
      os,
      browser,
      country,
      bot,
      ua ?? null,
      fingerprints.map((f) => (spanOf(f).first === null ? null : new Date(spanOf(f).first!))),
      fingerprints.map((f) => (spanOf(f).last === null ? null : new Date(spanOf(f).last!))),
      fingerprints.map(() => new Date(fallback)),
    ],
  );
  const visitors = new Map<string, VisitorRow>(visitorRows.map((v) => [v.fingerprint, v]));

  // 2. Duplicates (ids already stored as touchpoints in this organization) and each visitor's latest
  //    session, in one statement.
  const drafts = new Map<ValidEvent, TouchpointDraft>();
  for (const e of events) {
    const d = touchpointOf(e);
    if (d) drafts.set(e, d);
  }
  const draftIds = [...drafts.values()].map((d) => d.eventId);
  const [known] = await sql.query<{ dups: string[] | null; latest: Array<{ visitor_id: string; id: string; last_ts: string }> | null }>(
    `select array(select t.client_event_id from touchpoints t where t.client_event_id = any($2::text[]) and t.organization_id = $1::uuid) as dups,
            (select json_agg(l) from (
               select distinct on (s.visitor_id) s.visitor_id::text, s.id::text, coalesce(s.ended_at, s.started_at) as last_ts
                 from visitor_sessions s
                where s.organization_id = $1::uuid and s.visitor_id = any($3::uuid[])
                order by s.visitor_id, s.started_at desc) l) as latest`,
    [org.id, draftIds, visitorRows.map((v) => v.id)],
  );
  const existing = new Set(known?.dups ?? []);
  const fresh = events.filter((e) => !(drafts.has(e) && existing.has(e.id)));
  const duplicates = events.length - fresh.length;

  // 3. Sessions: continue each visitor's latest stored session when within the gap.
  const active = fresh.filter(isActivity);
  const previous = new Map<string, SessionState>();
  const byId = new Map((known?.latest ?? []).map((r) => [r.visitor_id, r]));
  for (const v of visitors.values()) {
    const s = byId.get(v.id);
    if (s) previous.set(v.fingerprint, { sessionId: s.id, lastTs: new Date(s.last_ts) });
  }
  const assignment = assignSessions(
    active.map((e) => ({ visitor: e.visitor_id, ts: e.ts })),
    previous,
    () => randomUUID(),
  );
  const sessionOf = new Map<ValidEvent, string>();
  active.forEach((e, i) => sessionOf.set(e, assignment.sessionIds[i]!));

  // New sessions take their landing page, referrer and UTM from their earliest page view (else earliest event).
  const opened = assignment.sessions.filter((s) => s.isNew);
  const firstOf = new Map<string, ValidEvent>();
  const firstView = new Map<string, ValidEvent>();
  for (const e of active) {
    const sid = sessionOf.get(e)!;
    const f = firstOf.get(sid);
    if (!f || e.ts < f.ts) firstOf.set(sid, e);
    if (e.type === "pageview") {
      const v = firstView.get(sid);
      if (!v || e.ts < v.ts) firstView.set(sid, e);
    }
  }
  const newSessions = opened.map((s) => {
    const landing = firstView.get(s.sessionId) ?? firstOf.get(s.sessionId)!;
    const pv = landing.type === "pageview" ? landing : undefined;
    return {
      id: s.sessionId,
      visitor: visitors.get(s.visitor)!.id,
      started: s.firstTs,
      ended: s.lastTs,
      url: "url" in landing ? (landing.url ?? null) : null,
      referrer: pv?.referrer ?? null,
      utm: pv?.utm,
    };
  });
  const extended = assignment.sessions.filter((s) => !s.isNew);
  const toStore = fresh.filter((e) => drafts.has(e));
  const ds = toStore.map((e) => drafts.get(e)!);
  const conversions = toStore.filter((e): e is Extract<ValidEvent, { type: "conversion" }> => e.type === "conversion");

  // 4. One statement writes the sessions (new and extended), the touchpoints (ON CONFLICT on the
  //    client's event id: a concurrent retry stores nothing twice) and their conversions.
  let stored = 0;
  if (newSessions.length || extended.length || ds.length) {
    const [w] = await sql.query<{ stored: number }>(
      `with new_sessions as (
         insert into visitor_sessions (id, organization_id, visitor_id, started_at, ended_at, landing_url, referrer, utm_source, utm_medium, utm_campaign, device, country)
         select s.id, $1::uuid, s.visitor, s.started, s.ended, s.url, s.ref, s.src, s.med, s.camp, $11::"DeviceType", $12
           from unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                as s(id, visitor, started, ended, url, ref, src, med, camp)
         returning 1
       ), extended as (
         update visitor_sessions s set started_at = least(s.started_at, x.first), ended_at = greatest(coalesce(s.ended_at, s.started_at), x.last)
           from unnest($13::uuid[], $14::timestamptz[], $15::timestamptz[]) as x(id, first, last)
          where s.organization_id = $1::uuid and s.id = x.id
         returning 1
       ), tp as (
         insert into touchpoints (organization_id, visitor_id, session_id, contact_id, type, url, title, occurred_at, duration_sec, scroll_depth, utm_source, utm_medium, utm_campaign, detail, client_event_id)
         select $1::uuid, v.id, t.session, v.contact_id, t.type::"TouchpointType", t.url, t.title, t.at, null, null, t.src, t.med, t.camp, t.detail, t.eid
           from unnest($16::text[], $17::uuid[], $18::text[], $19::text[], $20::text[], $21::timestamptz[], $22::text[], $23::text[], $24::text[], $25::jsonb[], $26::text[])
                as t(fp, session, type, url, title, at, src, med, camp, detail, eid)
           join visitors v on v.organization_id = $1::uuid and v.fingerprint = t.fp
         on conflict (organization_id, client_event_id) where client_event_id is not null do nothing
         returning client_event_id
       ), conv as (
         -- A goal without a value is a conversion worth 0 (in the organization's reporting currency).
         insert into conversions (id, organization_id, contact_id, visitor_id, campaign_id, message_id, type, value, currency, occurred_at, client_event_id)
         select gen_random_uuid(), $1::uuid, v.contact_id, v.id, null, null, c.goal, c.value, coalesce(c.currency, o.reporting_currency), c.at, c.eid
           from unnest($27::text[], $28::text[], $29::numeric[], $30::text[], $31::timestamptz[], $32::text[]) as c(fp, goal, value, currency, at, eid)
           join visitors v on v.organization_id = $1::uuid and v.fingerprint = c.fp
           join organizations o on o.id = $1::uuid
         on conflict (organization_id, client_event_id) where client_event_id is not null do nothing
         returning 1
       )
       select (select count(*) from tp)::int as stored, (select count(*) from new_sessions) + (select count(*) from extended) + (select count(*) from conv) as writes`,
      [
        org.id,
        newSessions.map((r) => r.id),
        newSessions.map((r) => r.visitor),
        newSessions.map((r) => r.started),
        newSessions.map((r) => r.ended),
        newSessions.map((r) => r.url),
        newSessions.map((r) => r.referrer),
        newSessions.map((r) => r.utm?.source ?? null),
        newSessions.map((r) => r.utm?.medium ?? null),
        newSessions.map((r) => r.utm?.campaign ?? null),
        device,
        country,
        extended.map((s) => s.sessionId),
        extended.map((s) => s.firstTs),
        extended.map((s) => s.lastTs),
        ds.map((d) => d.clientVisitorId),
        toStore.map((e) => sessionOf.get(e)!),
        ds.map((d) => d.type),
        ds.map((d) => d.url),
        ds.map((d) => d.title),
        ds.map((d) => d.occurredAt),
        ds.map((d) => d.utmSource),
        ds.map((d) => d.utmMedium),
        ds.map((d) => d.utmCampaign),
        ds.map((d) => (d.detail ? JSON.stringify(d.detail) : null)),
        ds.map((d) => d.eventId),
        conversions.map((e) => e.visitor_id),
        conversions.map((e) => e.goal),
        conversions.map((e) => e.value ?? 0),
        conversions.map((e) => e.currency ?? null),
        conversions.map((e) => e.ts),
        conversions.map((e) => e.id),
      ],
    );
    stored = w?.stored ?? 0;
  }

  // 5. page_leave: the named page view, else the visitor's latest view of that URL at or before it.
  const leaves = fresh.map(pageMetricsOf).filter((m) => m !== null);
  let pageLeaves = 0;
  if (leaves.length) {
    const done = await sql.query<{ n: number }>(
      `with l as (
         select * from unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::int[], $8::int[]) as l(fp, pv, url, at, dur, scroll, n)
       ), target as (
         select distinct on (l.n) l.n, t.id, l.dur, l.scroll
           from l join visitors v on v.organization_id = $1::uuid and v.fingerprint = l.fp
           join lateral (
             -- Two probes, each on its own index: the named page view (client event id), else the
             -- visitor's latest view of the URL at or before the leave.
             select x.id from (
               (select t.id, 0 as pri from touchpoints t
                 where l.pv is not null and t.organization_id = $1::uuid and t.client_event_id = l.pv and t.visitor_id = v.id and t.type = 'PAGEVIEW')
               union all
               (select t.id, 1 from touchpoints t
                 where t.visitor_id = v.id and t.occurred_at <= l.at and t.organization_id = $1::uuid and t.type = 'PAGEVIEW' and t.url = l.url
                 order by t.occurred_at desc limit 1)
             ) x order by x.pri limit 1
           ) t on true
       ), agg as (
         select id, max(dur) as dur, max(scroll) as scroll, count(*) as n from target group by id
       ), upd as (
         update touchpoints t set duration_sec = greatest(coalesce(t.duration_sec, 0), agg.dur), scroll_depth = greatest(coalesce(t.scroll_depth, 0), agg.scroll)
           from agg where t.id = agg.id returning agg.n
       )
       select coalesce(sum(n), 0)::int as n from upd`,
      [
        org.id,
        leaves.map((m) => m.clientVisitorId),
        leaves.map((m) => m.pageviewId),
        leaves.map((m) => m.url),
        leaves.map((m) => m.occurredAt),
        leaves.map((m) => m.durationSec),
        leaves.map((m) => m.scrollDepth),
        leaves.map((_, i) => i),
      ],
    );
    pageLeaves = done[0]?.n ?? 0;
  }

  // 6. identify: link to the contact; back-fill the visitor's anonymous history.
  const identified: IdentifyOutcome[] = [];
  for (const e of fresh) {
    if (e.type !== "identify") continue;
    const email = e.email?.trim().toLowerCase() ?? null;
    const phone = e.phone ? (toE164(e.phone, org.defaultCountry) ?? null) : null;
    const found = await sql.query<{ id: string }>(
      `select id::text from contacts where organization_id = $1::uuid and ((email is not null and email = $2) or (phone is not null and phone = $3))
        order by (email = $2) desc nulls last limit 1`,
      [org.id, email, phone],
    );
    const v = visitors.get(e.visitor_id)!;
    const contact = found[0]?.id ?? null;
    let backfilled = 0;
    if (contact) {
      await sql.query(`update visitors set contact_id = $3::uuid where organization_id = $1::uuid and id = $2::uuid`, [org.id, v.id, contact]);
      const tp = await sql.query<{ n: number }>(
        `with u as (update touchpoints set contact_id = $3::uuid where organization_id = $1::uuid and visitor_id = $2::uuid and contact_id is null returning 1)
         select count(*)::int as n from u`,
        [org.id, v.id, contact],
      );
      await sql.query(`update conversions set contact_id = $3::uuid where organization_id = $1::uuid and visitor_id = $2::uuid and contact_id is null`, [org.id, v.id, contact]);
      backfilled = tp[0]?.n ?? 0;
      v.contact_id = contact;
    }
    identified.push({ visitor_id: e.visitor_id, contact_id: contact, backfilled });
  }

  return {
    stored,
    duplicates,
    page_leaves: pageLeaves,
    page_leaves_unmatched: leaves.length - pageLeaves,
    identified,
    sessions_opened: opened.length,
    bot,
  };
}
