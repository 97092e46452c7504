// Channels and statuses as zod enums built from Prisma's generated enums (prisma/schema.prisma is
// the one list: a new value there reaches every schema here, and the label maps below stop
// type-checking until it has a label).
import { z } from "zod";
import { Channel, ContactStatus, ConsentAction, CampaignStatus, MessageStatus, MessageEventType, TouchpointType, DeviceType } from "@marketsage/db";

export const ChannelEnum = z.enum(Channel);
export type ChannelName = z.infer<typeof ChannelEnum>;
export const CHANNELS = ChannelEnum.options;
export const CHANNEL_LABELS: Readonly<Record<ChannelName, string>> = { EMAIL: "Email", SMS: "SMS", WHATSAPP: "WhatsApp" };

export const ContactStatusEnum = z.enum(ContactStatus);
export type ContactStatusName = z.infer<typeof ContactStatusEnum>;
export const CONTACT_STATUSES = ContactStatusEnum.options;
export const CONTACT_STATUS_LABELS: Readonly<Record<ContactStatusName, string>> = {
  ACTIVE: "Active",
  UNSUBSCRIBED: "Unsubscribed",
  BOUNCED: "Bounced",
  ARCHIVED: "Archived",
};

export const ConsentActionEnum = z.enum(ConsentAction);
export type ConsentActionName = z.infer<typeof ConsentActionEnum>;
export const CONSENT_ACTION_LABELS: Readonly<Record<ConsentActionName, string>> = { SUBSCRIBED: "Subscribed", UNSUBSCRIBED: "Unsubscribed" };

export const CampaignStatusEnum = z.enum(CampaignStatus);
export type CampaignStatusName = z.infer<typeof CampaignStatusEnum>;
export const CAMPAIGN_STATUSES = CampaignStatusEnum.options;
export const CAMPAIGN_STATUS_LABELS: Readonly<Record<CampaignStatusName, string>> = {
  DRAFT: "Draft",
  SCHEDULED: "Scheduled",
  SENDING: "Sending",
  SENT: "Sent",
  PAUSED: "Paused",
  CANCELLED: "Cancelled",
};

/** A message's current status (messages.status). */
export const MessageStatusEnum = z.enum(MessageStatus);
export type MessageStatusName = z.infer<typeof MessageStatusEnum>;
export const MESSAGE_STATUSES = MessageStatusEnum.options;
export const MESSAGE_STATUS_LABELS: Readonly<Record<MessageStatusName, string>> = {
  QUEUED: "Queued",
  SENT: "Sent",
  DELIVERED: "Delivered",
  FAILED: "Failed",
  OUTCOME_UNKNOWN: "Outcome unknown",
  RECEIVED: "Received",
};

/** What happened to a message (message_events.type), in lifecycle order. */
export const MessageEventTypeEnum = z.enum(MessageEventType);
export type MessageEventTypeName = z.infer<typeof MessageEventTypeEnum>;
export const MESSAGE_EVENT_TYPES = MessageEventTypeEnum.options;
export const MESSAGE_EVENT_LABELS: Readonly<Record<MessageEventTypeName, string>> = {
  QUEUED: "Queued",
  SENT: "Sent",
  DELIVERED: "Delivered",
  FAILED: "Failed",
  OPENED: "Opened",
  CLICKED: "Clicked",
  REPLIED: "Replied",
  BOUNCED: "Bounced",
  UNSUBSCRIBED: "Unsubscribed",
};
/** The events that count as a contact engaging with a message (engagement rates, last_engaged_at). */
export const ENGAGEMENT_EVENTS = ["OPENED", "CLICKED", "REPLIED"] as const satisfies readonly MessageEventTypeName[];

export const TouchpointTypeEnum = z.enum(TouchpointType);
export type TouchpointTypeName = z.infer<typeof TouchpointTypeEnum>;
export const TOUCHPOINT_TYPE_LABELS: Readonly<Record<TouchpointTypeName, string>> = {
  PAGEVIEW: "Page view",
  CLICK: "Click",
  FORM_VIEW: "Form view",
  FORM_START: "Form started",
  FORM_SUBMIT: "Form submitted",
  CONVERSION: "Conversion",
};

export const DeviceTypeEnum = z.enum(DeviceType);
export type DeviceTypeName = z.infer<typeof DeviceTypeEnum>;
export const DEVICE_TYPE_LABELS: Readonly<Record<DeviceTypeName, string>> = { MOBILE: "Mobile", DESKTOP: "Desktop", TABLET: "Tablet" };
