// One message and its ordered events: QUEUED → SENT → DELIVERED (or FAILED / BOUNCED) → OPENED →
// CLICKED → REPLIED → UNSUBSCRIBED, each later than the one before and none after `now` (a message
// sent minutes ago simply has not been delivered yet). The message status is its last event's.
import { brand, type Brand } from "./context.ts";
import { CopyWriter, NULL, esc, opt } from "./copy.ts";
import { COUNTRY_CODES, country } from "./geo.ts";
import { conversionType, conversionValue } from "./money.ts";
import { Rng } from "./prng.ts";
import { CHANNELS, BOUNCED, EMAIL, SMS, WHATSAPP, type OrgContacts } from "./store.ts";
import { HOUR, MINUTE, DAY, ts } from "./time.ts";

export interface Send {
  s: OrgContacts;
  i: number;
  ch: number;
  t0: number;
  campaignId: string | null;
  variantId: string | null;
  body: string | null;
  segments: number;
  idem: string | null;
  /** Probability that the provider fails the message (raised on the anomaly day). */
  failP: number;
  /** Multiplier on open/read and click rates (A/B winners). */
  lift: number;
  /** Transactional messages are opened more and never convert on their own. */
  transactional: boolean;
  link: string | null;
}

const STATUS_OF: Record<string, string> = { QUEUED: "QUEUED", SENT: "SENT", DELIVERED: "DELIVERED", FAILED: "FAILED", BOUNCED: "FAILED", OPENED: "DELIVERED", CLICKED: "DELIVERED", REPLIED: "DELIVERED", UNSUBSCRIBED: "DELIVERED" };
const AT_FAIL = ['{"status":"Failed","failureReason":"AbsentSubscriber"}', '{"status":"Failed","failureReason":"DeliveryFailure"}', '{"status":"Rejected","failureReason":"UserInBlacklist"}'];
const TW_FAIL = ['{"error_code":30003,"error_message":"Unreachable destination handset"}', '{"error_code":30005,"error_message":"Unknown destination handset"}', '{"error_code":30008,"error_message":"Unknown error"}'];
const WA_FAIL = ['{"code":131026,"title":"Message undeliverable"}', '{"code":131049,"title":"Healthy ecosystem engagement limit"}'];
const BOUNCE = ['{"bounce_type":"hard","smtp_code":550,"diagnostic":"5.1.1 user unknown"}', '{"bounce_type":"soft","smtp_code":452,"diagnostic":"4.2.2 mailbox full"}'];
const READ = '{"status":"read"}';
const REPLIES: Record<string, { sms: string[]; wa: string[] }> = {
  "naija-retail": {
    sms: ["YES", "How much?", "Where is your shop?", "Is delivery free to Ikeja?", "OK thanks", "Send me the link again", "Do you deliver to Abuja?"],
    wa: ["Hello, is this still available?", "I want to order 2 pieces", "How much for delivery to Lekki?", "👍", "Please send catalogue", "Can I pay on delivery?"],
  },
  "savanna-fintech": {
    sms: ["YES", "How do I apply?", "What is the interest rate?", "Call me", "Thanks"],
    wa: ["How do I increase my limit?", "I want to open an account", "My transfer is pending", "Thanks 🙏", "Is the offer still on?"],
  },
};
const STOP_WORDS = ["STOP", "STOP", "UNSUBSCRIBE", "Stop please", "stop", "STOP ALL"];

const MESSAGE_COLUMNS = ["id", "organization_id", "campaign_id", "variant_id", "contact_id", "channel", "direction", "recipient", "sender", "body", "provider",
  "provider_message_id", "idempotency_key", "segments", "cost", "currency", "status", "created_at"];
const EVENT_COLUMNS = ["id", "organization_id", "message_id", "campaign_id", "variant_id", "contact_id", "channel", "type", "occurred_at", "detail"];

export class MessageSink {
  eventId = 0;
  readonly conversions: string[] = [];
  private readonly types: string[] = [];
  private readonly times: number[] = [];
  private readonly details: string[] = [];

  private constructor(readonly msgs: CopyWriter, readonly evs: CopyWriter, private readonly rng: Rng, private readonly now: number) {}

  static async open(ctx: { loader: { client(i: number): import("pg").Client }; seed: number }, now: number): Promise<MessageSink> {
    const msgs = await CopyWriter.open(ctx.loader.client(0), "messages", MESSAGE_COLUMNS);
    // The row trigger that keeps contacts.last_delivered_at / last_engaged_at is off for the bulk
    // load; run.ts rebuilds those columns from the loaded events in one statement.
    const evs = await CopyWriter.open(ctx.loader.client(1), "message_events", EVENT_COLUMNS, {
      before: ["ALTER TABLE message_events DISABLE TRIGGER USER"],
      after: ["ALTER TABLE message_events ENABLE TRIGGER USER"],
    });
    return new MessageSink(msgs, evs, new Rng(ctx.seed, "messages"), now);
  }

  get full(): boolean {
    return this.msgs.full || this.evs.full;
  }

  async flush(): Promise<void> {
    await Promise.all([this.msgs.flush(), this.evs.flush()]);
  }

  private push(type: string, t: number, detail: string = NULL): boolean {
    if (t > this.now) return false;
    this.types.push(type);
    this.times.push(t);
    this.details.push(detail);
    return true;
  }

  private provider(ch: number, cc: string): string {
    if (ch === EMAIL) return "smtp";
    if (ch === WHATSAPP) return "whatsapp_cloud";
    // Africa's Talking dominates where it has direct operator connections.
    return this.rng.chance(cc === "NG" || cc === "KE" ? 0.85 : 0.45) ? "africastalking" : "twilio";
  }

  private providerId(provider: string, b: Brand): string {
    const r = this.rng;
    if (provider === "africastalking") return `ATXid_${r.hex(32)}`;
    if (provider === "twilio") return `SM${r.hex(32)}`;
    if (provider === "whatsapp_cloud") return `wamid.HBgM${r.hex(40).toUpperCase()}`;
    return `<${r.hex(24)}@mail.${b.domain}>`;
  }

  /** Writes one outbound message with its events; returns the message id. */
  send(m: Send): string {
    const r = this.rng, s = m.s, i = m.i, ch = m.ch;
    const cc = COUNTRY_CODES[s.country[i]!]!;
    const C = country(cc);
    const b = brand(s.org.slug);
    const id = r.uuid();
    const provider = this.provider(ch, cc);
    this.types.length = 0; this.times.length = 0; this.details.length = 0;
    const eng = s.eng[i]!;
    let tClick = NaN;
    const t0 = m.t0;
    this.push("QUEUED", t0);
    let t = t0 + r.uniform(1_000, ch === EMAIL ? 30_000 : 8_000);
    const sent = this.push("SENT", t);
    if (sent) {
      if (ch === EMAIL && (s.status[i] === BOUNCED || r.chance(0.015))) {
        this.push("BOUNCED", t + r.uniform(2_000, 90_000), s.status[i] === BOUNCED ? BOUNCE[0]! : r.pick(BOUNCE));
      } else if (ch !== EMAIL && r.chance(m.failP * (ch === SMS ? C.smsFail : 1))) {
        this.push("FAILED", t + r.uniform(5_000, 10 * MINUTE), provider === "africastalking" ? r.pick(AT_FAIL) : provider === "twilio" ? r.pick(TW_FAIL) : r.pick(WA_FAIL));
      } else if (!(ch === SMS && r.chance(0.01)) && this.push("DELIVERED", (t += ch === SMS ? r.uniform(2_000, 90_000) : r.uniform(1_000, 15_000)))) {
        const tDel = t;
        const lift = m.lift;
        if (ch === EMAIL) {
          const pOpen = Math.min(0.95, (m.transactional ? 0.5 : 0.26) * C.emailOpen * eng * lift);
          if (r.chance(pOpen) && this.push("OPENED", (t += Math.min(5 * DAY, r.logNormal(2 * HOUR, 1.3))))) {
            if (r.chance(Math.min(0.9, (m.transactional ? 0.1 : 0.17) * lift * Math.sqrt(eng))) && this.push("CLICKED", (t += r.uniform(5_000, 20 * MINUTE)), m.link ? `{"url":"${m.link}"}` : NULL)) tClick = t;
          }
        } else if (ch === WHATSAPP) {
          const pRead = Math.min(0.97, 0.78 * C.waRead * Math.sqrt(eng) * Math.min(lift, 1.2));
          if (r.chance(pRead) && this.push("OPENED", (t += Math.min(2 * DAY, r.logNormal(20 * MINUTE, 1.2))), READ)) {
            if (!m.transactional && r.chance(Math.min(0.8, 0.12 * lift * Math.sqrt(eng))) && this.push("CLICKED", (t += r.uniform(10_000, 15 * MINUTE)), m.link ? `{"url":"${m.link}"}` : NULL)) tClick = t;
            if (!m.transactional && r.chance((cc === "NG" || cc === "KE" ? 0.08 : 0.05) * Math.sqrt(eng)) && this.push("REPLIED", (t += r.uniform(30_000, 3 * HOUR)))) {
              this.inbound(s, i, WHATSAPP, t, r.pick(REPLIES[s.org.slug]!.wa), provider);
            }
          }
        } else if (!m.transactional) {
          if (r.chance(Math.min(0.5, 0.025 * eng * lift)) && this.push("CLICKED", (t += r.logNormal(30 * MINUTE, 1)), m.link ? `{"url":"${m.link}"}` : NULL)) tClick = t;
          if (r.chance(0.012) && this.push("REPLIED", (t += r.uniform(MINUTE, 6 * HOUR)))) this.inbound(s, i, SMS, t, r.pick(REPLIES[s.org.slug]!.sms), provider);
        }
        // The message-driven unsubscribe recorded in consent_events (email link, STOP, WhatsApp
        // opt-out) shows up on the message that prompted it when one was delivered shortly before.
        const k = i * 3 + ch;
        const tU = s.unsub[k]!;
        if (!m.transactional && (s.unsubMsg[i]! & (1 << ch)) && tU > t + 1_000 && tU - tDel < 3 * DAY) {
          s.unsubMsg[i] = s.unsubMsg[i]! & ~(1 << ch);
          if (ch === SMS) this.push("REPLIED", tU - 1, '{"body":"STOP"}');
          this.push("UNSUBSCRIBED", tU, ch === EMAIL ? '{"source":"email_link"}' : ch === SMS ? '{"source":"inbound_sms"}' : '{"source":"whatsapp"}');
        }
      }
    }
    const n = this.types.length;
    const status = STATUS_OF[this.types[n - 1]!]!;
    const recipient = ch === EMAIL ? s.emails[i]! : s.phones[i]!;
    const sender = ch === EMAIL ? b.emailFrom : ch === SMS ? b.smsSender : b.whatsappNumber;
    let cost = NULL, currency = NULL;
    if (sent) {
      if (ch === SMS) { cost = (m.segments * r.uniform(C.smsCost[0], C.smsCost[1])).toFixed(4); currency = C.currency; }
      else if (ch === WHATSAPP) { cost = (m.transactional ? 0.008 : C.waCostUsd).toFixed(4); currency = "USD"; }
      else { cost = "0.0001"; currency = "USD"; }
    }
    const orgId = s.org.id, contactId = s.ids[i]!, camp = m.campaignId ?? NULL, variant = m.variantId ?? NULL, chName = CHANNELS[ch];
    this.msgs.row(`${id}\t${orgId}\t${camp}\t${variant}\t${contactId}\t${chName}\tOUTBOUND\t${esc(recipient)}\t${esc(sender)}\t${opt(m.body)}\t${provider}\t${sent ? esc(this.providerId(provider, b)) : NULL}\t${opt(m.idem)}\t${m.segments}\t${cost}\t${currency}\t${status}\t${ts(t0)}`);
    for (let e = 0; e < n; e++) {
      this.evs.row(`${++this.eventId}\t${orgId}\t${id}\t${camp}\t${variant}\t${contactId}\t${chName}\t${this.types[e]}\t${ts(this.times[e]!)}\t${this.details[e]}`);
    }
    if (tClick === tClick && m.campaignId && r.chance(ch === WHATSAPP ? 0.15 : ch === EMAIL ? 0.12 : 0.1)) {
      const at = tClick + r.logNormal(40 * MINUTE, 1.2);
      if (at <= this.now) {
        const type = conversionType(r);
        const v = conversionValue(r, s.org.reportingCurrency, type);
        this.conversions.push(`${r.uuid()}\t${orgId}\t${contactId}\t${NULL}\t${m.campaignId}\t${id}\t${type}\t${v.value}\t${v.currency}\t${ts(at)}`);
      }
    }
    return id;
  }

  /** An inbound SMS or WhatsApp message from the contact (status RECEIVED, no delivery events). */
  inbound(s: OrgContacts, i: number, ch: number, t: number, body: string, provider?: string): void {
    const r = this.rng;
    const b = brand(s.org.slug);
    const cc = COUNTRY_CODES[s.country[i]!]!;
    const p = provider ?? this.provider(ch, cc);
    const to = ch === SMS ? b.shortCode : b.whatsappNumber;
    this.msgs.row(`${r.uuid()}\t${s.org.id}\t${NULL}\t${NULL}\t${s.ids[i]!}\t${CHANNELS[ch]}\tINBOUND\t${to}\t${s.phones[i]!}\t${esc(body)}\t${p}\t${esc(this.providerId(p, b))}\t${NULL}\t1\t${NULL}\t${NULL}\tRECEIVED\t${ts(t)}`);
  }

  stopWord(): string {
    return this.rng.pick(STOP_WORDS);
  }

  async end(): Promise<[import("./copy.ts").TableStat, import("./copy.ts").TableStat]> {
    return Promise.all([this.msgs.end(), this.evs.end()]);
  }
}
