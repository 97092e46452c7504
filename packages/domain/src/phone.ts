// Phone numbers: stored and compared as E.164 (+2348031234567). People type them every way
// (08031234567, +234 803 123 4567, 234-803-...): local numbers take the organization's country.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

/** E.164 for a phone typed any common way, using the organization's country for local numbers; undefined when it cannot be one. */
export function toE164(input: string, defaultCountry: string): string | undefined {
  const p = parsePhoneNumberFromString(input, defaultCountry as CountryCode);
  return p?.isPossible() ? p.number : undefined;
}

/** Whether free text is meant as a phone number (mostly digits, at least 7 of them). */
export function looksLikePhone(q: string): boolean {
  const digits = q.replace(/\D/g, "");
  return digits.length >= 7 && /^[+\d\s().-]+$/.test(q.trim());
}
