// @marketsage/external-services: email, SMS and WhatsApp through Africa's Talking, Twilio, SMTP and
// the WhatsApp Cloud API, with local emulators of each provider for sandbox mode, and the
// provider webhooks the HTTP host serves.
export { externalServicesServer, externalServicesTools, externalServicesPackage } from "./server.ts";
export { messagingFor, closeMessagingFor, createMessagingService, IN_PROCESS_BASE, BALANCE_CACHE_MS } from "./service.ts";
export type { MessagingService, Emulators, ServiceOptions } from "./service.ts";
export { handleWebhook } from "./webhooks/handle.ts";
export type { WebhookSecrets, WebhookRequest, WebhookAnswer } from "./webhooks/handle.ts";
export { sendMessage, SendRefused, PROVIDER_SIDE } from "./send/send.ts";
export { CHANNEL_PROVIDERS } from "./providers/types.ts";
export type { SendRequest, SendResult, Attempt } from "./send/send.ts";
export { saveTemplate, getTemplate, listTemplates, templateFields } from "./queries/templates.ts";
export type { Channel, Money, OutcomeCode, OutgoingMessage, Provider, ProviderName, SendOptions, SendOutcome, SignedRequest, WebhookSink } from "./providers/types.ts";
export { SANDBOX_EMAIL_DOMAIN, TEST_RECIPIENTS, sandboxOutcome } from "./sandbox/test-numbers.ts";
export type { SandboxOutcome, TestRecipient } from "./sandbox/test-numbers.ts";
export { messagingConfig, describeConfig, MessagingConfigError } from "./config.ts";
export type { MessagingConfig, ProviderSetting } from "./config.ts";

export { africasTalkingProvider, parseAtMoney } from "./providers/africastalking.ts";
export type { AfricasTalkingProviderConfig } from "./providers/africastalking.ts";
export { startAfricasTalkingEmulator } from "./sandbox/africastalking-emulator.ts";
export type { AfricasTalkingEmulator, AfricasTalkingEmulatorOptions } from "./sandbox/africastalking-emulator.ts";
export { twilioProvider, OriginRewritingRequestClient } from "./providers/twilio.ts";
export type { TwilioProviderConfig } from "./providers/twilio.ts";
export { startTwilioEmulator } from "./sandbox/twilio-emulator.ts";
export type { TwilioEmulator, TwilioEmulatorOptions } from "./sandbox/twilio-emulator.ts";
export { smtpProvider } from "./providers/smtp.ts";
export type { SmtpProviderConfig } from "./providers/smtp.ts";
export { startSmtpEmulator, parseEmail } from "./sandbox/smtp-emulator.ts";
export type { SmtpEmulator, SmtpEmulatorOptions, ReceivedEmail } from "./sandbox/smtp-emulator.ts";
export { whatsAppProvider, signWhatsApp, verifyWhatsAppSignature, whatsAppRequestBody, WHATSAPP_API_VERSION } from "./providers/whatsapp.ts";
export type { WhatsAppProviderConfig } from "./providers/whatsapp.ts";
export { startWhatsAppEmulator } from "./sandbox/whatsapp-emulator.ts";
export type { WhatsAppEmulator, WhatsAppEmulatorOptions } from "./sandbox/whatsapp-emulator.ts";

export { CIRCUIT_POLICY, readCircuits, recordOutcome, allows, resetCircuit } from "./providers/circuit.ts";
export type { Circuit, CircuitState } from "./providers/circuit.ts";
export { checkPhone, checkEmail } from "./validate/recipient.ts";
export { smsShape, MAX_SEGMENTS } from "./validate/sms.ts";
export { quietCheck, zoneFor, DEFAULT_QUIET_HOURS, COUNTRY_ZONES } from "./validate/quiet-hours.ts";
export { render, fieldsOf, TemplateSyntaxError } from "./templates/render.ts";
export { estimateCosts } from "./queries/cost.ts";
export { recipientState, WHATSAPP_WINDOW_MS } from "./queries/recipient.ts";
export { claimSend, settleSend, requestHash, IdempotencyConflict } from "./send/ledger.ts";
export { applyStatusReport } from "./webhooks/status.ts";
export { applyInbound, isStop, STOP_WORDS } from "./webhooks/inbound.ts";
