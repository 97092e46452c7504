// Looking up the one contact a customer reference names, always inside the caller's organization.
import { Prisma } from "@marketsage/db";
import { NotFoundError, UserError, type DbHandle, type OrgInfo } from "@marketsage/core";
import { AMBIGUOUS_REF_MESSAGE, type CustomerRefInput } from "./customer-ref.ts";
import type { ContactStatusName } from "./enums.ts";
import { toE164 } from "./phone.ts";

/** A contact as CONTACT_COLUMNS selects it. */
export interface ContactRow {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  company: string | null;
  country: string;
  city: string | null;
  time_zone: string;
  status: ContactStatusName;
  tags: string[];
  source: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The ContactRow columns for the contacts alias `c` (char columns trimmed, enums as text). */
export const CONTACT_COLUMNS = Prisma.sql`c.id::text, c.first_name, c.last_name, c.email, c.phone, c.company, trim(c.country) as country, c.city,
  c.time_zone, c.status::text as status, c.tags, c.source, c.created_at, c.updated_at`;

/**
 * The reference as a condition on `c`: email compared lower-case (stored so), phone as E.164 in the
 * organization's default country. A phone that cannot be a number is the caller's to fix.
 */
export function contactRefCondition(org: OrgInfo, ref: CustomerRefInput): Prisma.Sql {
  const given = [ref.id, ref.email, ref.phone].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UserError(AMBIGUOUS_REF_MESSAGE);
  if (ref.id !== undefined) return Prisma.sql`c.id = ${ref.id}::uuid`;
  if (ref.email !== undefined) return Prisma.sql`c.email = ${ref.email.trim().toLowerCase()}`;
  const e164 = toE164(ref.phone ?? "", org.defaultCountry);
  if (!e164) throw new UserError(`"${ref.phone}" is not a phone number we can read. Use international format, e.g. +234 803 123 4567.`);
  return Prisma.sql`c.phone = ${e164}`;
}

/**
 * The one contact of the organization the reference names, or NotFoundError. Email and phone are
 * unique per organization (contacts_organization_id_email_key / _phone_key), so one row at most.
 */
export async function findContact(db: DbHandle, org: OrgInfo, ref: CustomerRefInput): Promise<ContactRow> {
  const where = contactRefCondition(org, ref);
  const rows = await db.$queryRaw<ContactRow[]>`select ${CONTACT_COLUMNS} from contacts c where c.organization_id = ${org.id}::uuid and ${where} limit 1`;
  if (!rows[0]) throw new NotFoundError(ref.id ? `Customer ${ref.id}` : ref.email ? `A customer with that email` : `A customer with that phone`);
  return rows[0];
}
