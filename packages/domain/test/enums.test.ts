// The zod enums list exactly the database's enum labels, in the database's order, and every value
// has a label (the Record types enforce it at compile time; this checks the running values).
import { describe, expect, it } from "vitest";
import {
  CAMPAIGN_STATUS_LABELS,
  CampaignStatusEnum,
  CHANNEL_LABELS,
  ChannelEnum,
  CONSENT_ACTION_LABELS,
  ConsentActionEnum,
  CONTACT_STATUS_LABELS,
  ContactStatusEnum,
  DEVICE_TYPE_LABELS,
  DeviceTypeEnum,
  ENGAGEMENT_EVENTS,
  MESSAGE_EVENT_LABELS,
  MESSAGE_STATUS_LABELS,
  MessageEventTypeEnum,
  MessageStatusEnum,
  TOUCHPOINT_TYPE_LABELS,
  TouchpointTypeEnum,
} from "../src/index.ts";
import { useDomainDb } from "./db.ts";

const t = useDomainDb();

const ENUMS = [
  ["Channel", ChannelEnum, CHANNEL_LABELS],
  ["ContactStatus", ContactStatusEnum, CONTACT_STATUS_LABELS],
  ["ConsentAction", ConsentActionEnum, CONSENT_ACTION_LABELS],
  ["CampaignStatus", CampaignStatusEnum, CAMPAIGN_STATUS_LABELS],
  ["MessageStatus", MessageStatusEnum, MESSAGE_STATUS_LABELS],
  ["MessageEventType", MessageEventTypeEnum, MESSAGE_EVENT_LABELS],
  ["TouchpointType", TouchpointTypeEnum, TOUCHPOINT_TYPE_LABELS],
  ["DeviceType", DeviceTypeEnum, DEVICE_TYPE_LABELS],
] as const;

describe("enums", () => {
  it.each(ENUMS)("%s matches the PostgreSQL type's labels, each with a label", async (type, schema, labels) => {
    const rows = await t.q<{ label: string }>(
      `select e.enumlabel as label from pg_enum e join pg_type ty on ty.oid = e.enumtypid where ty.typname = $1 order by e.enumsortorder`,
      [type],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(schema.options).toEqual(rows.map((r) => r.label));
    expect(Object.keys(labels).sort()).toEqual([...schema.options].sort());
    expect(Object.values(labels).every((l) => l.length > 0)).toBe(true);
  });

  it("engagement events are those the engagement trigger counts", async () => {
    const [{ src }] = await t.q(`select prosrc as src from pg_proc where proname = 'marketsage_apply_message_event'`);
    const list = /ELSIF NEW\.type IN \(([^)]*)\)/.exec(src)?.[1];
    expect(list?.split(",").map((x: string) => x.trim().replace(/'/g, ""))).toEqual([...ENGAGEMENT_EVENTS]);
    expect(MessageEventTypeEnum.safeParse("OPENED").success).toBe(true);
    expect(ChannelEnum.safeParse("email").success).toBe(false);
  });
});
