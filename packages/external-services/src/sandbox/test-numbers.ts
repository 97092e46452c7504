// Sandbox test recipients: in sandbox mode (and in the tests and benchmarks) the recipient chooses
// what the provider's emulator does. For SMS and WhatsApp it is the last four digits of the
// number (any country); for email the local part of the address at SANDBOX_EMAIL_DOMAIN. Any other
// recipient is delivered. The README documents this table.

export type SandboxOutcome =
  /** Accepted, then a delivery report "delivered". */
  | "delivered"
  /** Accepted, then a delivery report "failed" with the provider's reason. */
  | "undelivered"
  /** Refused at send with a definite reason (the provider's "blacklisted" / "user opted out"). */
  | "rejected"
  /** Refused at send: the provider says the number is invalid. */
  | "invalid_number"
  /** The provider answers 5xx (a transient failure: nothing sent). */
  | "provider_error"
  /** The provider never answers (the caller's timeout: outcome unknown). */
  | "no_answer"
  /** Accepted and delivered, then the recipient replies STOP. */
  | "stop_reply";

export interface TestRecipient {
  outcome: SandboxOutcome;
  /** SMS/WhatsApp: the number's last four digits; email: the local part. */
  suffix: string;
  description: string;
}

export const SANDBOX_EMAIL_DOMAIN = "sandbox.marketsage.test";

export const TEST_RECIPIENTS: readonly TestRecipient[] = [
  { outcome: "delivered", suffix: "0001", description: "accepted, then delivered (also any number not in this table)" },
  { outcome: "undelivered", suffix: "0002", description: "accepted, then a failed delivery report (the handset was unreachable)" },
  { outcome: "rejected", suffix: "0003", description: "refused at send: the recipient is blacklisted at the provider" },
  { outcome: "invalid_number", suffix: "0004", description: "refused at send: the provider says the number is invalid" },
  { outcome: "provider_error", suffix: "0005", description: "the provider answers 500 (transient: nothing was sent)" },
  { outcome: "no_answer", suffix: "0006", description: "the provider never answers (timeout: outcome unknown)" },
  { outcome: "stop_reply", suffix: "0007", description: "delivered, then the recipient replies STOP" },
];

const EMAIL_LOCAL: Record<string, SandboxOutcome> = {
  delivered: "delivered",
  bounce: "undelivered",
  rejected: "rejected",
  invalid: "invalid_number",
  error: "provider_error",
  timeout: "no_answer",
};

/** What the emulator does for this recipient (an E.164 number or an email address). */
export function sandboxOutcome(recipient: string): SandboxOutcome {
  const at = recipient.lastIndexOf("@");
  if (at >= 0) {
    if (recipient.slice(at + 1).toLowerCase() !== SANDBOX_EMAIL_DOMAIN) return "delivered";
    return EMAIL_LOCAL[recipient.slice(0, at).toLowerCase()] ?? "delivered";
  }
  const digits = recipient.replace(/\D/g, "");
  return TEST_RECIPIENTS.find((t) => digits.endsWith(t.suffix))?.outcome ?? "delivered";
}
