// The definitions of every campaign figure, written once: the SQL in queries/ counts exactly these,
// the tools describe them from here, and the package README states the same words.
import type { ChannelName } from "@marketsage/domain";

/** Per-message counts (each message counts once per kind, however many events of that kind it has). */
export const COUNT_KEYS = ["messages", "sent", "delivered", "failed", "bounced", "opened", "clicked", "replied", "unsubscribed", "converted"] as const;
export type CountKey = (typeof COUNT_KEYS)[number];

export const COUNT_DEFINITIONS: Record<CountKey, string> = {
  messages: "outbound messages of the campaign (every attempt, with or without events yet)",
  sent: "messages the provider accepted: with any event other than QUEUED and FAILED",
  delivered: "messages with a DELIVERED event, or an open, click, reply or unsubscribe (each proves delivery)",
  failed: "messages with a FAILED event (refused by the provider or undeliverable)",
  bounced: "emails with a BOUNCED event",
  opened: "emails opened, or WhatsApp messages read (the read receipt is WhatsApp's open); a click proves an open",
  clicked: "messages with a tracked link clicked",
  replied: "SMS or WhatsApp messages the contact replied to",
  unsubscribed: "messages after which the contact unsubscribed (an UNSUBSCRIBED event on that message)",
  converted: "contacts with a conversion linked to the campaign within the attribution window after their message",
};

/** Which counts exist on which channel: a count that does not exist is "not applicable", never 0. */
const NOT_ON: Record<ChannelName, readonly CountKey[]> = {
  EMAIL: ["replied"],
  SMS: ["opened", "bounced"],
  WHATSAPP: ["bounced"],
};

export function countApplies(key: CountKey, channel: ChannelName): boolean {
  return !NOT_ON[channel].includes(key);
}

export const RATE_KEYS = [
  "delivery_rate",
  "open_rate",
  "click_rate",
  "click_to_open_rate",
  "reply_rate",
  "conversion_rate",
  "unsubscribe_rate",
  "bounce_rate",
  "failure_rate",
] as const;
export type RateKey = (typeof RATE_KEYS)[number];

export interface RateDefinition {
  numerator: CountKey;
  denominator: CountKey;
  /** Lower is better (unsubscribes, bounces, failures): "best" ranks ascending. */
  lowerIsBetter: boolean;
  words: string;
}

export const RATES: Record<RateKey, RateDefinition> = {
  delivery_rate: { numerator: "delivered", denominator: "sent", lowerIsBetter: false, words: "delivered / sent" },
  open_rate: { numerator: "opened", denominator: "delivered", lowerIsBetter: false, words: "opened / delivered (WhatsApp: read / delivered)" },
  click_rate: { numerator: "clicked", denominator: "delivered", lowerIsBetter: false, words: "clicked / delivered" },
  click_to_open_rate: { numerator: "clicked", denominator: "opened", lowerIsBetter: false, words: "clicked / opened" },
  reply_rate: { numerator: "replied", denominator: "delivered", lowerIsBetter: false, words: "replied / delivered" },
  conversion_rate: { numerator: "converted", denominator: "delivered", lowerIsBetter: false, words: "converting contacts / delivered" },
  unsubscribe_rate: { numerator: "unsubscribed", denominator: "delivered", lowerIsBetter: true, words: "unsubscribed / delivered" },
  bounce_rate: { numerator: "bounced", denominator: "sent", lowerIsBetter: true, words: "bounced / sent" },
  failure_rate: { numerator: "failed", denominator: "messages", lowerIsBetter: true, words: "failed / messages" },
};

/** A rate applies when both its counts exist on the channel. */
export function rateApplies(key: RateKey, channel: ChannelName): boolean {
  const r = RATES[key];
  return countApplies(r.numerator, channel) && countApplies(r.denominator, channel);
}

export const DEFAULT_ATTRIBUTION_DAYS = 7;

export const MONEY_DEFINITIONS = {
  revenue:
    "the value of the attributed conversions, each converted to the organization's reporting currency at the stored FX rate of its day",
  cost: "the providers' charges for the campaign's messages, each converted at the rate of the message's day",
  roi: "(revenue − cost) / cost; null when the cost is 0",
} as const;

/** One paragraph a tool description can point to (kept short: tool definitions are in every conversation). */
export const DEFINITIONS_BRIEF =
  "Counts are unique messages (an email opened 5 times is 1 open; a click implies an open and a delivery). Rates are per " +
  "delivered, except delivery and bounce (per sent), click-to-open (per opened) and failure (per message). A figure a channel " +
  "lacks (SMS opens, email replies) is null with applicable=false, never 0.";
