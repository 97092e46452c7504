// SMTP through nodemailer against the local smtp-server emulator on 127.0.0.1 (no mocks): the
// relay receives subject, text, html and headers; each sandbox recipient maps to its outcome.
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { smtpProvider } from "../src/providers/smtp.ts";
import { startSmtpEmulator, type SmtpEmulator } from "../src/sandbox/smtp-emulator.ts";
import { SANDBOX_EMAIL_DOMAIN } from "../src/sandbox/test-numbers.ts";

let emu: SmtpEmulator;
beforeAll(async () => {
  emu = await startSmtpEmulator();
});
afterAll(async () => {
  await emu.close();
});

const at = (local: string) => `${local}@${SANDBOX_EMAIL_DOMAIN}`;

function provider(over: Partial<Parameters<typeof smtpProvider>[0]> = {}) {
  return smtpProvider({ host: emu.host, port: emu.port, from: "MarketSage <news@marketsage.test>", sandbox: true, ...over });
}

describe("smtp emulator + provider", () => {
  it("delivers subject, text, html and headers; the id is nodemailer's Message-ID", async () => {
    const p = provider();
    expect(p.name).toBe("smtp");
    expect(p.channel).toBe("EMAIL");
    expect(p.sandbox).toBe(true);
    const before = emu.messages.length;
    const out = await p.send(
      {
        to: "ada@example.com",
        subject: "Naira sale – 20% off ✓",
        text: "Hello Ada,\nour sale starts today. Café prices drop.",
        html: "<p>Hello <b>Ada</b>, our sale starts today. Café €5</p>",
        headers: { "List-Unsubscribe": "<https://marketsage.test/u/abc>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" },
        idempotencyKey: "k-1",
      },
      { timeoutMs: 2000 },
    );
    expect(out.kind).toBe("accepted");
    if (out.kind !== "accepted") return;
    expect(out.status).toBe("sent");
    expect(out.cost).toBeNull();
    expect(out.providerMessageId).toMatch(/^<[^<>@\s]+@[^<>\s]+>$/);

    expect(emu.messages.length).toBe(before + 1);
    const m = emu.messages[emu.messages.length - 1]!;
    expect(m.envelope).toEqual({ from: "news@marketsage.test", to: ["ada@example.com"] });
    expect(m.subject).toBe("Naira sale – 20% off ✓");
    expect(m.messageId).toBe(out.providerMessageId);
    expect(m.listUnsubscribe).toBe("<https://marketsage.test/u/abc>");
    expect(m.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
    expect(m.headers["x-marketsage-idempotency-key"]).toBe("k-1");
    expect(m.from).toBe("MarketSage <news@marketsage.test>");
    expect(m.to).toBe("ada@example.com");
    expect(m.text).toBe("Hello Ada,\nour sale starts today. Café prices drop.");
    expect(m.html).toBe("<p>Hello <b>Ada</b>, our sale starts today. Café €5</p>");
    expect(await p.balance({ timeoutMs: 100 })).toBeNull();
  });

  it("a text-only message has no html part; message.from overrides the default", async () => {
    const out = await provider().send({ to: at("delivered"), from: "ops@marketsage.test", subject: "Plain", text: "just text", idempotencyKey: "k-2" }, { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    const m = emu.messages[emu.messages.length - 1]!;
    expect(m.envelope.from).toBe("ops@marketsage.test");
    expect(m.outcomes).toEqual({ [at("delivered")]: "delivered" });
    expect(m.text).toBe("just text");
    expect(m.html).toBeNull();
  });

  it("bounce@ is accepted at SMTP time (a bounce comes later)", async () => {
    const out = await provider().send({ to: at("bounce"), subject: "s", text: "t", idempotencyKey: "k-3" }, { timeoutMs: 2000 });
    expect(out.kind).toBe("accepted");
    expect(emu.messages[emu.messages.length - 1]!.outcomes).toEqual({ [at("bounce")]: "undelivered" });
  });

  it("rejected@ → definite smtp_550 (5.1.1 at RCPT), nothing recorded", async () => {
    const before = emu.messages.length;
    const out = await provider().send({ to: at("rejected"), subject: "s", text: "t", idempotencyKey: "k-4" }, { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "smtp_550" });
    if (out.kind === "definite") expect(out.reason).toContain("5.1.1");
    expect(emu.messages.length).toBe(before);
  });

  it("invalid@ → definite smtp_553", async () => {
    const out = await provider().send({ to: at("invalid"), subject: "s", text: "t", idempotencyKey: "k-5" }, { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "definite", code: "smtp_553" });
  });

  it("error@ → transient smtp_451 (4.3.0)", async () => {
    const out = await provider().send({ to: at("error"), subject: "s", text: "t", idempotencyKey: "k-6" }, { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "transient", code: "smtp_451" });
    if (out.kind === "transient") expect(out.reason).toContain("4.3.0");
  });

  it("timeout@ → unknown within about timeoutMs (DATA never answered)", async () => {
    const before = emu.hanging;
    const t0 = Date.now();
    const out = await provider().send({ to: at("timeout"), subject: "s", text: "t", idempotencyKey: "k-7" }, { timeoutMs: 400 });
    const took = Date.now() - t0;
    expect(out.kind).toBe("unknown");
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(5000);
    expect(emu.hanging).toBe(before + 1);
  });

  it("connection refused → transient smtp_unreachable", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const out = await provider({ port }).send({ to: "ada@example.com", subject: "s", text: "t", idempotencyKey: "k-8" }, { timeoutMs: 2000 });
    expect(out).toMatchObject({ kind: "transient", code: "smtp_unreachable" });
  });

  it("a server that never greets → unknown (greeting timeout)", async () => {
    const silent = createServer(() => {});
    const held: import("node:net").Socket[] = [];
    silent.on("connection", (s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (silent.address() as AddressInfo).port;
      const t0 = Date.now();
      const out = await provider({ port }).send({ to: "ada@example.com", subject: "s", text: "t", idempotencyKey: "k-9" }, { timeoutMs: 300 });
      expect(out.kind).toBe("unknown");
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it("authentication: right credentials accepted, wrong ones → definite smtp_535", async () => {
    const authed = await startSmtpEmulator({ user: "u", pass: "secret-pass" });
    try {
      const ok = await smtpProvider({ host: authed.host, port: authed.port, user: "u", pass: "secret-pass", from: "a@marketsage.test", sandbox: true }).send(
        { to: "b@example.com", subject: "s", text: "t", idempotencyKey: "k-10" },
        { timeoutMs: 2000 },
      );
      expect(ok.kind).toBe("accepted");
      expect(authed.messages[0]!.user).toBe("u");
      const bad = await smtpProvider({ host: authed.host, port: authed.port, user: "u", pass: "wrong-pass", from: "a@marketsage.test", sandbox: true }).send(
        { to: "b@example.com", subject: "s", text: "t", idempotencyKey: "k-11" },
        { timeoutMs: 2000 },
      );
      expect(bad).toMatchObject({ kind: "definite", code: "smtp_535" });
      if (bad.kind === "definite") expect(bad.reason).not.toContain("wrong-pass");
    } finally {
      await authed.close();
    }
  });
});
