// The dashboard's KPIs, each defined once: the SQL in queries.ts counts exactly these words, the
// tools describe them from here. Message figures use campaign-analytics' per-message definitions
// (a message counts once per kind however many events of that kind it has; an open, click, reply
// or unsubscribe proves delivery; a click proves an open), applied to the outbound messages
// CREATED in the range (any campaign or none), with what happened to them up to now — so every
// rate's numerator is a subset of its denominator. Days are the organization's local days.

export const KPI_NAMES = [
  "contacts_total",
  "new_contacts",
  "active_contacts",
  "messages_sent",
  "messages_email",
  "messages_sms",
  "messages_whatsapp",
  "delivery_rate",
  "open_rate",
  "click_rate",
  "conversions",
  "revenue",
  "cost",
  "roi",
  "visitors",
  "visitor_conversion_rate",
] as const;
export type KpiName = (typeof KPI_NAMES)[number];

export type KpiUnit = "count" | "ratio" | "money";

export interface KpiDef {
  label: string;
  unit: KpiUnit;
  higherIsBetter: boolean;
  description: string;
}

const SENT = "outbound messages created in the range that the provider accepted (any event other than QUEUED and FAILED)";

export const KPI_DEFS: Record<KpiName, KpiDef> = {
  contacts_total: { label: "Contacts", unit: "count", higherIsBetter: true, description: "contacts (any status) created before the range's end; a series point is the total at its bucket's end" },
  new_contacts: { label: "New contacts", unit: "count", higherIsBetter: true, description: "contacts created in the range" },
  active_contacts: {
    label: "Active contacts",
    unit: "count",
    higherIsBetter: true,
    description: "distinct contacts with an inbound engagement in the range: a message opened, clicked or replied to, a website touchpoint as an identified visitor, or a conversion",
  },
  messages_sent: { label: "Messages sent", unit: "count", higherIsBetter: true, description: SENT },
  messages_email: { label: "Emails sent", unit: "count", higherIsBetter: true, description: `${SENT}, email` },
  messages_sms: { label: "SMS sent", unit: "count", higherIsBetter: true, description: `${SENT}, SMS` },
  messages_whatsapp: { label: "WhatsApp sent", unit: "count", higherIsBetter: true, description: `${SENT}, WhatsApp` },
  delivery_rate: { label: "Delivery rate", unit: "ratio", higherIsBetter: true, description: "delivered / sent, of the messages sent in the range (delivered: a DELIVERED event, or an open, click, reply or unsubscribe)" },
  open_rate: { label: "Email open rate", unit: "ratio", higherIsBetter: true, description: "opened / delivered, of the emails sent in the range (a click proves an open)" },
  click_rate: { label: "Click rate", unit: "ratio", higherIsBetter: true, description: "clicked / delivered, of the messages sent in the range (every channel)" },
  conversions: { label: "Conversions", unit: "count", higherIsBetter: true, description: "conversions (website or campaign-attributed) that occurred in the range" },
  revenue: {
    label: "Revenue",
    unit: "money",
    higherIsBetter: true,
    description: "the value of the range's conversions, each converted to the reporting currency at the stored FX rate of its day",
  },
  cost: {
    label: "Cost",
    unit: "money",
    higherIsBetter: false,
    description: "the providers' charges recorded on the outbound messages created in the range, each converted at the rate of the message's day",
  },
  roi: { label: "ROI", unit: "ratio", higherIsBetter: true, description: "(revenue − cost) / cost; null when the cost is 0" },
  visitors: { label: "Visitors", unit: "count", higherIsBetter: true, description: "distinct website visitors (bots left out) with a session started in the range" },
  visitor_conversion_rate: {
    label: "Visitor conversion rate",
    unit: "ratio",
    higherIsBetter: true,
    description: "visitors with a conversion in the range / visitors (both counted in the same range or bucket)",
  },
};

export const isKpiName = (s: string): s is KpiName => (KPI_NAMES as readonly string[]).includes(s);
