// @marketsage/external-services: email, SMS and WhatsApp through Africa's Talking, Twilio, SMTP and
// the WhatsApp Cloud API, with local emulators of each provider for sandbox mode. (Not yet in the
// catalog: the providers and emulators come first, then the tools and webhooks.)
export type { Channel, Money, OutgoingMessage, Provider, ProviderName, SendOptions, SendOutcome, SignedRequest, WebhookSink } from "./providers/types.ts";
export { SANDBOX_EMAIL_DOMAIN, TEST_RECIPIENTS, sandboxOutcome } from "./sandbox/test-numbers.ts";
export type { SandboxOutcome, TestRecipient } from "./sandbox/test-numbers.ts";
