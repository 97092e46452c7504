// Provider errors: definite refusals, transient outages and unknown outcomes, mapped once; the
// caller sees the public message, never the internal one.
import { describe, expect, it } from "vitest";
import { outcomeOfStatus, parseRetryAfter, UpstreamError, upstreamHttpError, upstreamNetworkError } from "../src/index.ts";

const send = { idempotent: false };
const read = { idempotent: true };

describe("outcomeOfStatus", () => {
  it.each([
    [400, send, "rejected"],
    [401, send, "rejected"],
    [404, read, "rejected"],
    [422, send, "rejected"],
    [408, send, "transient"],
    [429, send, "transient"],
    [500, send, "transient"],
    [502, send, "transient"],
    [503, read, "transient"],
    [504, send, "unknown"],
    [504, read, "transient"],
    [200, send, "unknown"],
  ] as const)("HTTP %i (%o) is %s", (status, req, outcome) => {
    expect(outcomeOfStatus(status, req)).toBe(outcome);
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2026-11-20T12:00:00Z");
  it("reads seconds and HTTP dates, and ignores nonsense", () => {
    expect(parseRetryAfter("30", now)).toBe(30);
    expect(parseRetryAfter("Fri, 20 Nov 2026 12:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter("Fri, 20 Nov 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe("upstreamHttpError → the caller's error", () => {
  it("a 503 with Retry-After is a retryable UNAVAILABLE that says when", () => {
    const e = upstreamHttpError("Twilio", { status: 503, retryAfter: "20", internalDetail: "account AC123 body <html>", ...send });
    const t = e.toToolError();
    expect(t.code).toBe("UNAVAILABLE");
    expect(t.message).toBe("Twilio is not available right now (HTTP 503); retry in 20 s.");
    expect(t.details).toEqual({ provider: "Twilio", status: 503, retryable: true, retry_after_seconds: 20 });
    expect(t.message).not.toContain("AC123");
    expect(e.message).toContain("AC123");
  });

  it("a 400 is a definite refusal carrying only the public detail", () => {
    const e = upstreamHttpError("Twilio", { status: 400, providerCode: 21211, publicDetail: "the 'To' number is not a valid phone number", internalDetail: "secret sid", ...send });
    const t = e.toToolError();
    expect(t.code).toBe("UPSTREAM_REJECTED");
    expect(t.message).toBe("Twilio refused the request (HTTP 400, code 21211): the 'To' number is not a valid phone number. Nothing was done; change the request before trying again.");
    expect(t.details).toMatchObject({ provider_code: 21211, retryable: false });
    expect(JSON.stringify(t)).not.toContain("secret sid");
  });

  it("a 504 on a send is OUTCOME_UNKNOWN: check before retrying", () => {
    const t = upstreamHttpError("Africa's Talking", { status: 504, ...send }).toToolError();
    expect(t.code).toBe("OUTCOME_UNKNOWN");
    expect(t.message).toMatch(/may or may not have been carried out\. Check its status before retrying\./);
  });
});

describe("upstreamNetworkError", () => {
  const withCode = (code: string) => Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(`connect ${code}`), { code }) });

  it("a refused connection never reached the provider: retryable UNAVAILABLE, even for a send", () => {
    const e = upstreamNetworkError("WhatsApp", withCode("ECONNREFUSED"), send);
    expect(e.outcome).toBe("transient");
    expect(e.toToolError().code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it("a timeout or reset after sending is unknown for a send, transient for a read", () => {
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(upstreamNetworkError("WhatsApp", timeout, send).toToolError().code).toBe("OUTCOME_UNKNOWN");
    expect(upstreamNetworkError("WhatsApp", withCode("ECONNRESET"), send).outcome).toBe("unknown");
    expect(upstreamNetworkError("WhatsApp", timeout, read).toToolError().code).toBe("UNAVAILABLE");
  });

  it("keeps the original error as its cause for the log", () => {
    const original = withCode("ETIMEDOUT");
    const e = upstreamNetworkError("SMTP", original, send);
    expect(e).toBeInstanceOf(UpstreamError);
    expect(e.cause).toBe(original);
  });
});
