import type { DbHandle, OrgInfo } from "@marketsage/core";
import { CHANNELS, isReachable, type ChannelName, type ContactRow, type ReachInputs } from "@marketsage/domain";

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
  // Reachability is the one definition (marketsage_reach), on the latest consent event per channel.
  const consent = Object.fromEntries(CHANNELS.map((ch) => [ch, latest.find((x) => x.channel === ch)?.action ?? null])) as ReachInputs["consent"];
  return CHANNELS.map((channel) => {
    const l = latest.find((x) => x.channel === channel);
    const state = l ? (l.action === "SUBSCRIBED" ? "subscribed" : "unsubscribed") : "unknown";
    return {
      channel,
      state: state as "subscribed" | "unsubscribed" | "unknown",
      changed_at: l?.occurred_at.toISOString() ?? null,
      source: l?.source ?? null,
      reason: l?.reason ?? null,
      reachable: isReachable({ ...contact, consent }, channel),
    };
  });
}
