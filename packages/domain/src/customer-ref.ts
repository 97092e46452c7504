// A reference to one customer (contact) of the caller's organization: exactly one of id, email or
// phone. Every server that takes "a customer" takes this, so a model learns one way to name one.
import { z } from "zod";
import { UserError } from "@marketsage/core";

/** The three fields, for tools that put them beside their own arguments (then call customerRefOf). */
export const CUSTOMER_REF_FIELDS = {
  id: z.uuid().optional().describe("Contact id."),
  email: z.string().max(254).optional().describe("Exact email address."),
  phone: z.string().max(32).optional().describe("Phone in any common format: +234 803 123 4567, 08031234567 (the organization's default country applies)."),
};

export const AMBIGUOUS_REF_MESSAGE = "Give exactly one of id, email or phone.";

const givenKeys = (r: { id?: unknown; email?: unknown; phone?: unknown }) =>
  (["id", "email", "phone"] as const).filter((k) => r[k] !== undefined);

export const CustomerRef = z.strictObject(CUSTOMER_REF_FIELDS).refine((r) => givenKeys(r).length === 1, { message: AMBIGUOUS_REF_MESSAGE });
export type CustomerRefInput = z.infer<typeof CustomerRef>;

/**
 * The customer reference inside a tool's wider input (other keys ignored), or a UserError saying
 * to give exactly one of id, email or phone (`message` overrides it, e.g. to name the tool's mode).
 */
export function customerRefOf(input: { id?: string; email?: string; phone?: string }, message = AMBIGUOUS_REF_MESSAGE): CustomerRefInput {
  const given = givenKeys(input);
  if (given.length !== 1) throw new UserError(given.length > 1 ? `${message} Got ${given.join(" and ")}.` : message);
  const key = given[0]!;
  const ref = CustomerRef.safeParse({ [key]: input[key] });
  if (!ref.success) throw new UserError(`${key}: ${ref.error.issues[0]?.message ?? "not valid"}.`);
  return ref.data;
}

/** Whether the input names a customer at all (some tools then switch from an aggregate to one customer). */
export const hasCustomerRef = (input: { id?: string; email?: string; phone?: string }): boolean => givenKeys(input).length > 0;
