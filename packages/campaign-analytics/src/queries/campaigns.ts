// Campaign rows and their variants, always within the caller's organization.
import { Prisma } from "@marketsage/db";
import { NotFoundError, type DbHandle, type OrgInfo } from "@marketsage/core";
import type { CampaignStatusName, ChannelName } from "@marketsage/domain";
import { z } from "zod";

export interface CampaignRow {
  id: string;
  name: string;
  channel: ChannelName;
  status: CampaignStatusName;
  subject: string | null;
  segment_id: string | null;
  scheduled_at: Date | null;
  sent_at: Date | null;
  created_at: Date;
  /** When the campaign ran or will run: sent_at, else scheduled_at, else created_at. */
  date: Date;
}

export interface VariantRow {
  id: string;
  campaign_id: string;
  name: string;
  weight: number;
  is_control: boolean;
}

export const CAMPAIGN_COLUMNS = Prisma.sql`c.id::text, c.name, c.channel::text, c.status::text, c.subject, c.segment_id::text,
  c.scheduled_at, c.sent_at, c.created_at, coalesce(c.sent_at, c.scheduled_at, c.created_at) as date`;

/** The campaigns with these ids in the organization, in the order given; a missing one is NOT_FOUND. */
export async function loadCampaigns(db: DbHandle, org: Pick<OrgInfo, "id">, ids: readonly string[]): Promise<CampaignRow[]> {
  const rows = await db.$queryRaw<CampaignRow[]>`
    select ${CAMPAIGN_COLUMNS} from campaigns c where c.organization_id = ${org.id}::uuid and c.id = any(${ids}::uuid[])`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = byId.get(id);
    if (!r) throw new NotFoundError(`Campaign ${id}`, { hint: "Use list_campaigns to find campaign ids." });
    return r;
  });
}

export async function loadVariants(db: DbHandle, org: Pick<OrgInfo, "id">, ids: readonly string[]): Promise<Map<string, VariantRow[]>> {
  const rows = ids.length
    ? await db.$queryRaw<VariantRow[]>`
        select v.id::text, v.campaign_id::text, v.name, v.weight, v.is_control from campaign_variants v
         where v.organization_id = ${org.id}::uuid and v.campaign_id = any(${ids}::uuid[]) order by v.campaign_id, v.name`
    : [];
  const out = new Map<string, VariantRow[]>(ids.map((id) => [id, []]));
  for (const r of rows) out.get(r.campaign_id)?.push(r);
  return out;
}

export const CampaignInfo = z.object({
  id: z.string(),
  name: z.string(),
  channel: z.string(),
  status: z.string(),
  subject: z.string().nullable(),
  segment_id: z.string().nullable(),
  scheduled_at: z.string().nullable(),
  sent_at: z.string().nullable(),
  created_at: z.string(),
});
export type CampaignInfo = z.infer<typeof CampaignInfo>;

export const campaignInfo = (c: CampaignRow): CampaignInfo => ({
  id: c.id,
  name: c.name,
  channel: c.channel,
  status: c.status,
  subject: c.subject,
  segment_id: c.segment_id,
  scheduled_at: c.scheduled_at?.toISOString() ?? null,
  sent_at: c.sent_at?.toISOString() ?? null,
  created_at: c.created_at.toISOString(),
});

export const AttributionDaysInput = z
  .number()
  .int()
  .min(1)
  .max(90)
  .default(7)
  .describe("Days after the contact's message in which a conversion counts.");
