import { describe, expect, it } from "vitest";
import { describeConfig, messagingConfig, MessagingConfigError } from "../src/config.ts";

describe("messaging configuration from the environment", () => {
  it("nothing set: every provider in sandbox mode, saying why", () => {
    const c = messagingConfig({});
    expect([c.africastalking.mode, c.twilio.mode, c.smtp.mode, c.whatsapp.mode]).toEqual(["sandbox", "sandbox", "sandbox", "sandbox"]);
    expect(describeConfig(c)[0]).toBe("africastalking (SMS): sandbox — not configured (AFRICASTALKING_USERNAME, AFRICASTALKING_API_KEY)");
    expect(c.smsOrder).toEqual(["africastalking", "twilio"]);
  });

  const live = {
    AFRICASTALKING_USERNAME: "sandbox",
    AFRICASTALKING_API_KEY: "atsk_secret_value",
    TWILIO_ACCOUNT_SID: "AC" + "1".repeat(32),
    TWILIO_AUTH_TOKEN: "tw_secret_value",
    TWILIO_FROM: "+15005550006",
    SMTP_HOST: "smtp.example.com",
    SMTP_PORT: "465",
    SMTP_FROM: "MarketSage <hello@example.com>",
    WHATSAPP_ACCESS_TOKEN: "wa_secret_value",
    WHATSAPP_PHONE_NUMBER_ID: "123456",
    WHATSAPP_APP_SECRET: "wa_app_secret",
    MESSAGING_SMS_ORDER: "twilio, africastalking",
  };

  it("credentials set: live, with defaults filled; the description names no secret", () => {
    const c = messagingConfig(live);
    expect(c.smtp).toMatchObject({ mode: "live", live: { port: 465, secure: true, user: undefined } });
    expect(c.whatsapp).toMatchObject({ mode: "live", live: { baseUrl: "https://graph.facebook.com", apiVersion: "v21.0" } });
    expect(c.smsOrder).toEqual(["twilio", "africastalking"]);
    const text = describeConfig(c).join("\n");
    expect(text).toContain("africastalking (SMS): live (Africa's Talking sandbox servers)");
    for (const secret of ["atsk_secret_value", "tw_secret_value", "wa_secret_value", "wa_app_secret"]) expect(text).not.toContain(secret);
  });

  it("MESSAGING_SANDBOX forces sandbox mode", () => {
    const c = messagingConfig({ ...live, MESSAGING_SANDBOX: "true" });
    expect(c.twilio).toEqual({ provider: "twilio", channel: "SMS", mode: "sandbox", reason: "MESSAGING_SANDBOX is set" });
  });

  it.each([
    [{ TWILIO_ACCOUNT_SID: "AC1" }, "twilio: TWILIO_AUTH_TOKEN is not set while TWILIO_ACCOUNT_SID is"],
    [{ TWILIO_ACCOUNT_SID: "AC1", TWILIO_AUTH_TOKEN: "x" }, "set TWILIO_FROM"],
    [{ SMTP_HOST: "h", SMTP_FROM: "a@b.co", SMTP_PORT: "smtp" }, "SMTP_PORT must be a port number"],
    [{ SMTP_HOST: "h", SMTP_FROM: "a@b.co", SMTP_USER: "u" }, "both SMTP_USER and SMTP_PASS"],
    [{ MESSAGING_SMS_ORDER: "twilio,smtp" }, "not \"smtp\""],
    [{ AFRICASTALKING_USERNAME: "acme", AFRICASTALKING_API_KEY: "k", MESSAGING_PUBLIC_URL: "https://mcp.example.com" }, "AFRICASTALKING_WEBHOOK_TOKEN must be set"],
    [{ MESSAGING_PUBLIC_URL: "mcp.example.com" }, "must be an http(s) URL"],
  ])("refuses a half configuration with what to set: %j", (env, message) => {
    expect(() => messagingConfig(env)).toThrow(MessagingConfigError);
    expect(() => messagingConfig(env)).toThrow(message);
  });

  it("a secret never appears in a configuration error", () => {
    try {
      messagingConfig({ TWILIO_ACCOUNT_SID: "AC_visible_sid", TWILIO_AUTH_TOKEN: "tw_hidden_token" });
      expect.unreachable();
    } catch (e) {
      expect(String(e)).not.toContain("tw_hidden_token");
    }
  });
});
