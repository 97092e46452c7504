// @marketsage/domain: what several servers share (DESIGN.md "domain"): customer references and
// their lookup, phone numbers, channels and statuses, money and FX, time ranges, rounding, and
// the reachability definition. core stays the seam and never imports this package.
export {
  ChannelEnum,
  CHANNELS,
  CHANNEL_LABELS,
  ContactStatusEnum,
  CONTACT_STATUSES,
  CONTACT_STATUS_LABELS,
  ConsentActionEnum,
  CONSENT_ACTION_LABELS,
  CampaignStatusEnum,
  CAMPAIGN_STATUSES,
  CAMPAIGN_STATUS_LABELS,
  MessageStatusEnum,
  MESSAGE_STATUSES,
  MESSAGE_STATUS_LABELS,
  MessageEventTypeEnum,
  MESSAGE_EVENT_TYPES,
  MESSAGE_EVENT_LABELS,
  ENGAGEMENT_EVENTS,
  TouchpointTypeEnum,
  TOUCHPOINT_TYPE_LABELS,
  DeviceTypeEnum,
  DEVICE_TYPE_LABELS,
} from "./enums.ts";
export type {
  ChannelName,
  ContactStatusName,
  ConsentActionName,
  CampaignStatusName,
  MessageStatusName,
  MessageEventTypeName,
  TouchpointTypeName,
  DeviceTypeName,
} from "./enums.ts";
export { toE164, looksLikePhone } from "./phone.ts";
export { CustomerRef, CUSTOMER_REF_FIELDS, AMBIGUOUS_REF_MESSAGE, customerRefOf, hasCustomerRef } from "./customer-ref.ts";
export type { CustomerRefInput } from "./customer-ref.ts";
export { findContact, contactRefCondition, CONTACT_COLUMNS } from "./contact-lookup.ts";
export type { ContactRow } from "./contact-lookup.ts";
export { CurrencyCode, minorUnits } from "./currency.ts";
export { Money, money, formatMoney } from "./money.ts";
export { fxSql, reportingAmountSql, convertAmount, fxRate, toReportingMoney, FX_FUNCTION, FX_RATE_FUNCTION } from "./fx.ts";
export { roundTo, roundRate, roundPercent, rateToPercent, roundMoney, ratio, RATE_DECIMALS, PERCENT_DECIMALS, MONEY_DECIMALS } from "./rounding.ts";
export { resolveRange, TimeRangeInput, ResolvedRange, PeriodOut, periodOut, PRESETS } from "./time-range.ts";
export { likeEscape, urlPatternRegex } from "./text-match.ts";
export type { Range, Preset, TimeRangeArg } from "./time-range.ts";
export {
  REACH_FUNCTION,
  REACH_BIT,
  CHANNEL_ADDRESS,
  REACHABILITY_RULE,
  REACH_BITS,
  reachBitsSql,
  reachCounts,
  reachFlags,
  isReachable,
  reachBitsOf,
  channelsIn,
} from "./reachability.ts";
export type { ReachInputs } from "./reachability.ts";
