// validate_message's check of one message before it is sent: the recipient, the content's shape
// (SMS encoding and segments, size limits), merge fields, the cost per provider, consent, quiet
// hours at the recipient's local time and the WhatsApp window. Problems are errors (a send would
// be refused) or warnings (it would go, but look); each says what to change. The sends run the
// same checks, so what this says is what a send does.
import type { DbHandle, OrgInfo } from "@marketsage/core";
import { CHANNEL_PROVIDERS, type Channel } from "../providers/types.ts";
import { estimateCosts, type CostEstimate } from "../queries/cost.ts";
import { recipientState, type RecipientState } from "../queries/recipient.ts";
import { render, TemplateSyntaxError, type Values } from "../templates/render.ts";
import { quietCheck, zoneFor, type QuietCheck, type QuietHours } from "./quiet-hours.ts";
import { checkEmail, checkPhone } from "./recipient.ts";
import { MAX_SEGMENTS, smsShape, type SmsShape } from "./sms.ts";

export interface Problem {
  code: string;
  message: string;
  fix: string;
}

export interface MessageDraft {
  channel: Channel;
  /** An address (E.164 or email) or a contact of the organization. */
  to?: string | undefined;
  contactId?: string | undefined;
  text?: string | undefined;
  subject?: string | undefined;
  html?: string | undefined;
  /** WhatsApp: an approved template instead of free text. */
  whatsappTemplate?: { name: string; language: string; params: string[] } | undefined;
  variables?: Values | undefined;
}

export interface Validation {
  ok: boolean;
  errors: Problem[];
  warnings: Problem[];
  recipient: { address: string | null; country: string | null; numberType: string | null; contactId: string | null };
  content: { text: string | null; subject: string | null; html: string | null; whatsappTemplate: { name: string; language: string; params: string[] } | null };
  sms: SmsShape | null;
  costs: CostEstimate[];
  reachable: boolean | null;
  consent: string | null;
  quiet: QuietCheck;
  whatsapp: { windowOpen: boolean; lastInboundAt: Date | null; templateRequired: boolean } | null;
}

export const LIMITS = { whatsappText: 4096, emailSubject: 255, emailHtmlBytes: 102_400 } as const;


/** What a caller that checks many recipients at once (a bulk send) has loaded already. */
export interface Preloaded {
  /** The recipient's state (contact drafts only), from recipientStates. */
  state?: RecipientState;
  /** Cost estimates by country and units (memoized by the caller). */
  costs?: (country: string | null, units: number) => Promise<CostEstimate[]>;
}

export async function validateMessage(
  db: DbHandle, org: Pick<OrgInfo, "id" | "defaultCountry">, d: MessageDraft, opts: { now: Date; quietHours?: QuietHours | undefined; preloaded?: Preloaded | undefined },
): Promise<Validation> {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const err = (code: string, message: string, fix: string) => errors.push({ code, message, fix });
  const warn = (code: string, message: string, fix: string) => warnings.push({ code, message, fix });

  // The recipient: an address checked for the channel, or a contact (then its address).
  let address: string | null = null;
  let country: string | null = null;
  let numberType: string | null = null;
  let state: RecipientState = { contact: null, reachable: null, lastInboundAt: null, windowOpen: false };
  if (d.contactId) {
    state = opts.preloaded?.state ?? (await recipientState(db, org.id, { channel: d.channel, contactId: d.contactId, now: opts.now }));
    if (!state.contact) err("unknown_contact", `no contact ${d.contactId} in this organization`, "Use a contact id from search_customers, or give the address.");
    else address = d.channel === "EMAIL" ? state.contact.email : state.contact.phone;
    if (state.contact && !address) err("no_address", `the contact has no ${d.channel === "EMAIL" ? "email address" : "phone number"}`, "Choose another channel or add the address to the contact.");
  } else if (d.to) {
    address = d.to;
  } else err("no_recipient", "no recipient", "Give `to` (an E.164 number or an email address) or `contact_id`.");

  if (address) {
    if (d.channel === "EMAIL") {
      const e = checkEmail(address);
      if (!e.ok) err("invalid_address", e.reason, e.fix);
      else address = e.address;
    } else {
      const p = checkPhone(address, org.defaultCountry);
      if (!p.ok) err("invalid_number", p.reason, p.fix);
      else {
        address = p.e164;
        country = p.country;
        numberType = p.type;
        if (!p.mobile) (p.type === "UNKNOWN" ? warn : err)("not_mobile", `${p.e164} is a ${p.type.toLowerCase().replace(/_/g, " ")} number`, "Text messages reach mobile numbers: use the contact's mobile number.");
      }
    }
    if (!d.contactId && address) state = await recipientState(db, org.id, { channel: d.channel, address, now: opts.now });
  }
  const contact = state.contact;
  country = country ?? contact?.country ?? null;

  // Consent and reachability (the shared rule), for a known contact; an address that is no contact
  // has no consent on record.
  if (contact && state.reachable === false) {
    const why = contact.status !== "ACTIVE" ? `the contact is ${contact.status.toLowerCase()}` : contact.consent === "UNSUBSCRIBED" ? `the contact unsubscribed from ${d.channel}` : `the contact never subscribed to ${d.channel}`;
    err("not_reachable", `${why}: sends are refused`, "Choose another channel the contact subscribed to, or record their consent first (update_customer_consent).");
  }
  if (!contact && address) warn("no_consent_record", "the recipient is no contact of this organization: no consent on record", "Add them as a contact with their consent before marketing messages.");

  // Content with merge fields from the contact and the caller's variables (the caller's win).
  const values: Values = {
    first_name: contact?.firstName, last_name: contact?.lastName, full_name: [contact?.firstName, contact?.lastName].filter(Boolean).join(" ") || null,
    company: contact?.company, city: contact?.city, email: contact?.email, phone: contact?.phone, ...d.variables,
  };
  const fill = (source: string | undefined, html: boolean, part: string): string | null => {
    if (source === undefined) return null;
    try {
      const r = render(source, values, { html });
      for (const f of r.missing) err("missing_field", `{{${f}}} in the ${part} has no value for this recipient`, `Pass \`variables.${f}\`, or write {{ ${f} | "default" }} in the template.`);
      return r.text;
    } catch (e) {
      if (e instanceof TemplateSyntaxError) {
        err("template_syntax", `${part}: ${e.message}`, "Fix the merge tag.");
        return source;
      }
      throw e;
    }
  };
  const text = fill(d.text, false, "text");
  const subject = fill(d.subject, false, "subject");
  const html = fill(d.html, true, "HTML");
  const wt = d.whatsappTemplate;
  const whatsappTemplate = wt ? { name: wt.name, language: wt.language, params: wt.params.map((p, i) => fill(p, false, `template parameter ${i + 1}`) ?? "") } : null;

  let sms: SmsShape | null = null;
  let units = 1;
  if (d.channel === "SMS") {
    if (!text) err("empty", "no text", "Give the message text.");
    else {
      sms = smsShape(text);
      units = sms.segments;
      if (sms.segments > MAX_SEGMENTS) err("too_long", `${sms.segments} segments (${sms.encoding}); at most ${MAX_SEGMENTS}`, "Shorten the text.");
      else if (sms.encoding === "UCS-2") warn("ucs2", `${sms.nonGsm.join(" ")} make${sms.nonGsm.length === 1 ? "s" : ""} this UCS-2: ${sms.segments} segment(s) of 70/67 characters instead of 160/153`, "Replace those characters to pay for fewer segments.");
      if (sms.segments > 1) warn("multipart", `${sms.segments} segments: billed ${sms.segments} times`, "Shorten the text to fit one segment.");
    }
  } else if (d.channel === "EMAIL") {
    if (!subject) err("no_subject", "no subject", "Give a subject.");
    else if (subject.length > LIMITS.emailSubject) err("subject_too_long", `the subject has ${subject.length} characters (at most ${LIMITS.emailSubject})`, "Shorten the subject.");
    if (!text && !html) err("empty", "no text or HTML part", "Give the text part, the HTML part, or both.");
    if (html && !text) warn("no_text_part", "HTML only: some clients and spam filters want a text part", "Add a plain-text part.");
    if (html && Buffer.byteLength(html) > LIMITS.emailHtmlBytes) warn("html_clipped", `the HTML part is ${Buffer.byteLength(html)} bytes: Gmail clips messages over 102 KB`, "Make the HTML smaller.");
  } else {
    if (!text && !d.whatsappTemplate) err("empty", "no text or template", "Give the text, or an approved template.");
    if (text && text.length > LIMITS.whatsappText) err("too_long", `the text has ${text.length} characters (at most ${LIMITS.whatsappText})`, "Shorten the text.");
  }

  // The WhatsApp 24-hour window: free text only within 24 h of the contact's last message.
  const whatsapp = d.channel === "WHATSAPP" ? { windowOpen: state.windowOpen, lastInboundAt: state.lastInboundAt, templateRequired: !state.windowOpen } : null;
  if (whatsapp && !whatsapp.windowOpen && !d.whatsappTemplate && text) {
    err("window_closed", "the recipient has not written in the last 24 hours: WhatsApp refuses free text", "Send an approved template (whatsapp_template) instead.");
  }

  // Quiet hours at the recipient's local time, for the channels that buzz a phone (SMS and
  // WhatsApp); an email waits in the inbox, so its local time is reported but not enforced.
  const quiet = quietCheck(opts.now, zoneFor(contact?.timeZone, country), opts.quietHours);
  if (quiet.quiet && d.channel !== "EMAIL") err("quiet_hours", `it is ${quiet.localTime} for the recipient (${quiet.zone}): within quiet hours`, `Send after ${quiet.allowedAt!.toISOString()}, or have a role allowed to override quiet hours send it with a reason.`);
  if (!quiet.zone && address && d.channel !== "EMAIL") warn("no_time_zone", "the recipient's local time is unknown: quiet hours cannot be checked", "Record the contact's time zone.");

  const costs = opts.preloaded?.costs
    ? await opts.preloaded.costs(country, units)
    : [...(await estimateCosts(db, { providers: CHANNEL_PROVIDERS[d.channel], channel: d.channel, country, units, at: opts.now })).values()];
  if (costs.length === 0 && d.channel !== "EMAIL") warn("no_rate", `no rate for ${d.channel} to ${country ?? "this country"}: the cost is unknown`, "Load the provider's rate for the country into provider_rates.");

  return {
    ok: errors.length === 0,
    errors,
    warnings,
    recipient: { address, country, numberType, contactId: contact?.id ?? null },
    content: { text, subject, html, whatsappTemplate },
    sms,
    costs,
    reachable: state.reachable,
    consent: contact?.consent ?? null,
    quiet,
    whatsapp,
  };
}
