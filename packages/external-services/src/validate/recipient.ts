// Recipients as validate_message and the sends read them: a phone number (E.164, its country and
// number type, via libphonenumber-js's full metadata) or an email address.
import { parsePhoneNumberFromString, type CountryCode, type NumberType } from "libphonenumber-js/max";

export type PhoneCheck =
  | { ok: true; e164: string; country: string | null; type: NonNullable<NumberType> | "UNKNOWN"; mobile: boolean }
  | { ok: false; reason: string; fix: string };

/** Number types a text message can reach (a fixed line or a premium number cannot). */
const TEXTABLE = new Set<string>(["MOBILE", "FIXED_LINE_OR_MOBILE"]);

/**
 * A phone recipient: E.164 as given, or a local number in `defaultCountry` (the organization's).
 * Valid means libphonenumber knows the number's range for its country (not only its length).
 */
export function checkPhone(input: string, defaultCountry?: string): PhoneCheck {
  const raw = input.trim();
  if (!/^[+\d\s().-]{4,}$/.test(raw)) return { ok: false, reason: `"${raw}" is not a phone number`, fix: "Give the number in E.164 form, e.g. +2348031234567." };
  const p = parsePhoneNumberFromString(raw, defaultCountry as CountryCode | undefined);
  if (!p) {
    return raw.startsWith("+")
      ? { ok: false, reason: `"${raw}" is not a number in any country's plan`, fix: "Check the country code and the digits." }
      : { ok: false, reason: `"${raw}" has no country code`, fix: "Give the number with its country code, e.g. +2348031234567." };
  }
  if (!p.isValid()) {
    return { ok: false, reason: `${p.number} is not a valid ${p.country ?? "+" + p.countryCallingCode} number (${p.isPossible() ? "no such range" : "wrong length"})`, fix: "Check the digits; the number may be mistyped." };
  }
  const type = p.getType() ?? "UNKNOWN";
  return { ok: true, e164: p.number, country: p.country ?? null, type, mobile: TEXTABLE.has(type) };
}

export type EmailCheck = { ok: true; address: string; domain: string } | { ok: false; reason: string; fix: string };

// The practical subset of RFC 5321/5322 that mail servers accept: a dot-atom local part (no
// quoted strings), a domain of LDH labels with a TLD of letters, 254 characters at most.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function checkEmail(input: string): EmailCheck {
  const address = input.trim();
  const at = address.lastIndexOf("@");
  const bad = (reason: string): EmailCheck => ({ ok: false, reason, fix: "Give an address like name@example.com." });
  if (at <= 0 || at === address.length - 1) return bad(`"${address}" has no local part and domain around one @`);
  if (address.length > 254) return bad("the address is longer than 254 characters");
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (local.length > 64 || !LOCAL.test(local)) return bad(`"${local}" is not a valid local part`);
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !/^[a-z]{2,63}$/.test(labels[labels.length - 1]!)) return bad(`"${domain}" is not a valid domain`);
  return { ok: true, address: `${local}@${domain}`, domain };
}
