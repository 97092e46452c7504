import type { DbHandle, OrgInfo } from "@marketsage/core";
import { CHANNELS, type ChannelName } from "../schemas.ts";
import type { ContactRow } from "./contacts.ts";

interface Latest {
  channel: ChannelName;
  action: "SUBSCRIBED" | "UNSUBSCRIBED";
  source: string;
  reason: string | null;
  occurred_at: Date;
}

/** Current consent per channel with the latest change, and whether the channel can reach the contact. */
export async function consentStates(db: DbHandle, org: OrgInfo, contact: ContactRow) {
  const latest = await db.$queryRaw<Latest[]>`
    select distinct on (channel) channel::text as channel, action::text as action, source, reason, occurred_at
      from consent_events where contact_id = ${contact.id}::uuid and organization_id = ${org.id}::uuid
     order by channel, occurred_at desc, id desc`;
  return CHANNELS.map((channel) => {
    const l = latest.find((x) => x.channel === channel);
    const address = channel === "EMAIL" ? contact.email : contact.phone;
    const state = l ? (l.action === "SUBSCRIBED" ? "subscribed" : "unsubscribed") : "unknown";
    return {
      channel,
      state: state as "subscribed" | "unsubscribed" | "unknown",
      changed_at: l?.occurred_at.toISOString() ?? null,
      source: l?.source ?? null,
      reason: l?.reason ?? null,
      reachable: Boolean(address) && contact.status === "ACTIVE" && state === "subscribed",
    };
  });
}
