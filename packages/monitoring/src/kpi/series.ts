// KPI values over a window and per bucket, from the tallies of queries.ts: only the families the
// asked KPIs need are read, in parallel. Ratios are ratios of the window's (or bucket's) sums —
// never means of daily ratios — and null when the denominator is 0; money is in the reporting
// currency, rounded to its minor unit; ratios to 4 decimals.
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { ratio, roundMoney, roundRate } from "@marketsage/domain";
import type { KpiName } from "./definitions.ts";
import {
  activeContacts,
  contactTallies,
  conversionTallies,
  messageTallies,
  visitorTallies,
  type ConversionTally,
  type Granularity,
  type Grouped,
  type MessageTally,
  type VisitorTally,
  type Window,
} from "./queries.ts";

type Family = "contacts" | "active" | "messages" | "cost" | "conversions" | "visitors";

const FAMILY: Record<KpiName, readonly Family[]> = {
  contacts_total: ["contacts"],
  new_contacts: ["contacts"],
  active_contacts: ["active"],
  messages_sent: ["messages"],
  messages_email: ["messages"],
  messages_sms: ["messages"],
  messages_whatsapp: ["messages"],
  delivery_rate: ["messages"],
  open_rate: ["messages"],
  click_rate: ["messages"],
  conversions: ["conversions"],
  revenue: ["conversions"],
  cost: ["cost"],
  roi: ["cost", "conversions"],
  visitors: ["visitors"],
  visitor_conversion_rate: ["visitors"],
};

export interface KpiComputation {
  /** The whole window's values. */
  total: Map<KpiName, number | null>;
  /** Every bucket of the window, in order (empty without a granularity). */
  buckets: Array<{ start: string; values: Map<KpiName, number | null> }>;
  /** Amounts left out of revenue or cost for want of an FX rate. */
  revenueNoFx: number;
  costNoFx: number;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** The local date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  let f = dayFormats.get(timeZone);
  if (!f) dayFormats.set(timeZone, (f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })));
  return f.format(at);
}

export const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** The first local day of every bucket of [from, to): days, or 7-day blocks from the window's first day. */
export function bucketStarts(from: Date, to: Date, timeZone: string, granularity: Granularity): string[] {
  const first = localDate(from, timeZone);
  const last = localDate(new Date(to.getTime() - 1), timeZone);
  const step = granularity === "day" ? 1 : 7;
  const out: string[] = [];
  for (let d = first; d <= last; d = addDays(d, step)) out.push(d);
  return out;
}

const ZERO_MESSAGES: MessageTally = { sentEmail: 0, sentSms: 0, sentWhatsapp: 0, sent: 0, delivered: 0, emailDelivered: 0, emailOpened: 0, clicked: 0, cost: 0, costNoFx: 0 };
const ZERO_CONVERSIONS: ConversionTally = { conversions: 0, revenue: 0, revenueNoFx: 0 };
const ZERO_VISITORS: VisitorTally = { visitors: 0, converting: 0 };

interface Facts {
  contactsAtEnd?: number;
  created?: number;
  active?: number;
  m?: MessageTally;
  c?: ConversionTally;
  v?: VisitorTally;
}

function valueOf(k: KpiName, f: Facts, currency: string): number | null {
  const m = f.m ?? ZERO_MESSAGES, c = f.c ?? ZERO_CONVERSIONS, v = f.v ?? ZERO_VISITORS;
  switch (k) {
    case "contacts_total": return f.contactsAtEnd ?? 0;
    case "new_contacts": return f.created ?? 0;
    case "active_contacts": return f.active ?? 0;
    case "messages_sent": return m.sent;
    case "messages_email": return m.sentEmail;
    case "messages_sms": return m.sentSms;
    case "messages_whatsapp": return m.sentWhatsapp;
    case "delivery_rate": return ratio(m.delivered, m.sent);
    case "open_rate": return ratio(m.emailOpened, m.emailDelivered);
    case "click_rate": return ratio(m.clicked, m.delivered);
    case "conversions": return c.conversions;
    case "revenue": return roundMoney(c.revenue, currency);
    case "cost": return roundMoney(m.cost, currency);
    case "roi": return m.cost ? roundRate((c.revenue - m.cost) / m.cost) : null;
    case "visitors": return v.visitors;
    case "visitor_conversion_rate": return ratio(v.converting, v.visitors);
  }
}

const none = <T>(): Grouped<T> => ({ buckets: new Map(), total: undefined });

/** The KPIs over [from, to), and per bucket when a granularity is given. */
export async function computeKpis(db: DbHandle, org: OrgInfo, kpis: readonly KpiName[], w: Omit<Window, "timeZone">): Promise<KpiComputation> {
  // Without the whole window (a series alone), its values are those of no rows: callers of
  // kpiSeries never read them.
  const win: Window = { ...w, timeZone: org.timeZone };
  const need = new Set(kpis.flatMap((k) => FAMILY[k]));
  const [contacts, active, messages, conversions, visitors] = await Promise.all([
    need.has("contacts") ? contactTallies(db, org, win) : undefined,
    need.has("active") ? activeContacts(db, org, win) : none<number>(),
    need.has("messages") || need.has("cost") ? messageTallies(db, org, win, { flags: need.has("messages") }) : none<MessageTally>(),
    need.has("conversions") ? conversionTallies(db, org, win) : none<ConversionTally>(),
    need.has("visitors") ? visitorTallies(db, org, win) : none<VisitorTally>(),
  ]);
  const factsOf = (get: <T>(g: Grouped<T>) => T | undefined, contactsAtEnd: number | undefined, created: number | undefined): Facts => ({
    contactsAtEnd, created, active: get(active), m: get(messages), c: get(conversions), v: get(visitors),
  });
  const values = (f: Facts) => new Map(kpis.map((k) => [k, valueOf(k, f, org.reportingCurrency)] as const));
  const totalFacts = factsOf((g) => g.total, contacts?.totalAtEnd, contacts?.created.total?.created);
  const starts = w.granularity ? bucketStarts(w.from, w.to, org.timeZone, w.granularity) : [];
  // The contacts total at each bucket's end: the window's end total less those created in later buckets.
  const atEnd: number[] = new Array(starts.length).fill(0);
  let later = 0;
  for (let i = starts.length - 1; i >= 0; i--) {
    atEnd[i] = (contacts?.totalAtEnd ?? 0) - later;
    later += contacts?.created.buckets.get(starts[i]!)?.created ?? 0;
  }
  return {
    total: values(totalFacts),
    buckets: starts.map((start, i) => ({ start, values: values(factsOf((g) => g.buckets.get(start), atEnd[i], contacts?.created.buckets.get(start)?.created ?? 0)) })),
    revenueNoFx: conversions.total?.revenueNoFx ?? 0,
    costNoFx: messages.total?.costNoFx ?? 0,
  };
}

/** Every bucket of [from, to) with each KPI's value (null: a ratio with a zero denominator). */
export async function kpiSeries(
  db: DbHandle,
  org: OrgInfo,
  o: { kpis: readonly KpiName[]; from: Date; to: Date; granularity: Granularity },
): Promise<Map<KpiName, Array<{ start: string; value: number | null }>>> {
  const r = await computeKpis(db, org, o.kpis, { from: o.from, to: o.to, granularity: o.granularity, total: false });
  return new Map(o.kpis.map((k) => [k, r.buckets.map((b) => ({ start: b.start, value: b.values.get(k) ?? null }))] as const));
}

/** Each KPI over the whole of [from, to) (ratios of sums). */
export async function kpiValues(db: DbHandle, org: OrgInfo, o: { kpis: readonly KpiName[]; from: Date; to: Date }): Promise<Map<KpiName, number | null>> {
  return (await computeKpis(db, org, o.kpis, { from: o.from, to: o.to, granularity: null })).total;
}
