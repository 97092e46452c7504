// Personal data shown to roles without contacts:pii is masked here, and only here.

/** j***@example.com */
export function maskEmail(email: string | null): string | null {
  if (!email) return email;
  const at = email.indexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/** +234 *** *** 4567: country code and last four digits stay. */
export function maskPhone(phone: string | null, callingCode?: string): string | null {
  if (!phone) return phone;
  const digits = phone.replace(/\D/g, "");
  const cc = callingCode ?? (phone.startsWith("+") ? guessCallingCode(digits) : "");
  return `${cc ? `+${cc} ` : ""}*** *** ${digits.slice(-4)}`;
}

const THREE_DIGIT = /^(2[0-9]{2}|3[5-8][0-9]|42[0-9]|5[0-9]{2}|6[7-9][0-9]|8[5-8][0-9]|9[6-9][0-9])/;
function guessCallingCode(digits: string): string {
  if (THREE_DIGIT.test(digits) && !digits.startsWith("20") && !digits.startsWith("27")) return digits.slice(0, 3);
  if (digits.startsWith("1") || digits.startsWith("7")) return digits.slice(0, 1);
  return digits.slice(0, 2);
}

export interface PiiPolicy {
  email(v: string | null): string | null;
  phone(v: string | null): string | null;
  masked: boolean;
}

export function piiPolicy(canSeePii: boolean): PiiPolicy {
  return canSeePii
    ? { email: (v) => v, phone: (v) => v, masked: false }
    : { email: maskEmail, phone: (v) => maskPhone(v), masked: true };
}
