// The external-services tools over MCP (the real SDK client through the production seam), in
// sandbox mode: every send goes through the provider's SDK to its emulator, whose signed reports
// come back through the production webhook handler in-process. The clock is fixed per test.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO_ORGS, demoApiKey, type Role } from "@marketsage/db";
import { connectTestClient, testRuntime, useTestDatabase, type TestClient } from "@marketsage/core/testing";
import type { Runtime } from "@marketsage/core";
import { recordOutcome, resetCircuit } from "../src/providers/circuit.ts";
import { externalServicesServer } from "../src/server.ts";
import { valuesMissingFromText } from "../../../test/support/text-carries.ts";
import { closeMessagingFor, messagingFor } from "../src/service.ts";

process.env.MESSAGING_SANDBOX_REPORT_DELAY_MS = "5";
process.env.MESSAGING_SEND_TIMEOUT_MS = "600";

const tdb = useTestDatabase();
const A = DEMO_ORGS[0]!;
const B = DEMO_ORGS[1]!;
// 10:00 UTC: daytime in Lagos, Nairobi, Johannesburg and Cairo.
const DAY = new Date("2026-12-01T10:00:00Z");
let clock = DAY;
let runtime: Runtime;
let sql: pg.Client;
const clients = new Map<string, TestClient>();

beforeAll(async () => {
  runtime = testRuntime(tdb.url, { now: () => clock });
  sql = new pg.Client({ connectionString: tdb.url });
  await sql.connect();
});
afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await closeMessagingFor(runtime.db);
  await sql?.end();
  await runtime?.close();
});
beforeEach(() => {
  clock = DAY;
});

async function as(role: Role, org = A): Promise<TestClient> {
  const k = `${org.slug}:${role}`;
  let c = clients.get(k);
  if (!c) {
    c = await connectTestClient({ server: externalServicesServer.name, tools: externalServicesServer.tools, runtime, apiKey: demoApiKey(org, role) });
    clients.set(k, c);
  }
  return c;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function raw(role: Role, name: string, args: Record<string, unknown>, org = A): Promise<any> {
  return (await as(role, org)).client.callTool({ name, arguments: args });
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(role: Role, name: string, args: Record<string, unknown>, org = A): Promise<any> {
  const r = await raw(role, name, args, org);
  if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent;
}
const text = (r: { content: Array<{ type: string; text?: string }> }) => r.content.map((c) => c.text ?? "").join("\n");
const q = async <T = Record<string, unknown>>(s: string, p: unknown[] = []) => (await sql.query(s, p)).rows as T[];
const svc = () => messagingFor(runtime.db);
const settle = () => svc().idle();
const key = () => `test-${randomUUID()}`;

let serial = 100;
/** A subscribed contact with a sandbox number (its last four digits choose the outcome). */
async function contact(suffix: string, o: { country?: string; zone?: string; org?: typeof A; email?: string } = {}): Promise<{ id: string; phone: string }> {
  const id = randomUUID();
  const prefix = { NG: "+234803", KE: "+25471", ZA: "+2782", EG: "+20100" }[o.country ?? "KE"]!;
  const phone = `${prefix}${serial++}${suffix}`;
  await sql.query(`insert into contacts (id, organization_id, phone, email, first_name, city, country, time_zone) values ($1, $2, $3, $4, 'Amina', 'Nairobi', $5, $6)`, [
    id, (o.org ?? A).id, phone, o.email ?? null, o.country ?? "KE", o.zone ?? "Africa/Nairobi",
  ]);
  for (const ch of ["SMS", "WHATSAPP", "EMAIL"]) {
    await sql.query(`insert into consent_events (organization_id, contact_id, channel, action, source, occurred_at) values ($1, $2, $3::"Channel", 'SUBSCRIBED', 'test', $4)`, [(o.org ?? A).id, id, ch, new Date(DAY.getTime() - 86_400_000)]);
  }
  return { id, phone };
}

describe("send_sms in sandbox mode", () => {
  it("sends through the provider's SDK, and the signed delivery report arrives and shows in get_delivery_status", async () => {
    const c = await contact("0001");
    const k = key();
    const sent = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Hi {{first_name}}, your order is ready", idempotency_key: k, provider: "africastalking" });
    expect(sent).toMatchObject({ status: expect.stringMatching(/queued|sent/), provider: "africastalking", sandbox: true, segments: 1, replayed: false });
    expect(sent.message_id).toBeTruthy();
    await settle();
    const st = await call("USER", "get_delivery_status", { idempotency_key: k });
    expect(st.status).toBe("delivered");
    expect(st.history.map((h: { type: string }) => h.type)).toEqual(expect.arrayContaining(["queued", "delivered"]));
    const [row] = await q<{ body: string; status: string }>(`select body, status::text from messages where id = $1`, [sent.message_id]);
    expect(row).toEqual({ body: "Hi Amina, your order is ready", status: "DELIVERED" });
    // The provider's message id finds it too, and the text says what the structure says.
    const byPid = await raw("USER", "get_delivery_status", { provider_message_id: st.provider_message_id });
    expect(byPid.structuredContent.message_id).toBe(sent.message_id);
    expect(text(byPid)).toContain("delivered");
  });

  it("one idempotency key, two concurrent calls: one provider request, one message, the first result twice", async () => {
    const c = await contact("0001");
    const k = key();
    const before = (await svc().provider("twilio"), svc().emulators.twilio!.requests.length);
    const args = { contact_id: c.id, text: "Flash sale today", idempotency_key: k, provider: "twilio" };
    const [a, b] = await Promise.all([call("AI_AGENT", "send_sms", args), call("AI_AGENT", "send_sms", args)]);
    expect(a.message_id).toBe(b.message_id);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect(svc().emulators.twilio!.requests.filter((r) => r.method === "POST").length - 0).toBeGreaterThanOrEqual(1);
    expect(svc().emulators.twilio!.requests.length - before).toBe(1);
    expect((await q(`select id from messages where organization_id = $1 and idempotency_key = $2`, [A.id, k])).length).toBe(1);
    // The same key with other content is a conflict, not a send.
    const other = await raw("AI_AGENT", "send_sms", { ...args, text: "Another text" });
    expect(other.isError).toBe(true);
    expect(text(other)).toMatch(/CONFLICT/);
    await settle();
  });

  it("a STOP reply opts the contact out and the next send is refused with the reason", async () => {
    const c = await contact("0007");
    await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Weekly deals inside", idempotency_key: key(), provider: "africastalking" });
    await settle();
    const [ct] = await q<{ consent_sms: string }>(`select consent_sms::text from contacts where id = $1`, [c.id]);
    expect(ct!.consent_sms).toBe("UNSUBSCRIBED");
    const [ev] = await q<{ source: string }>(`select source from consent_events where contact_id = $1 and action = 'UNSUBSCRIBED'`, [c.id]);
    expect(ev!.source).toBe("inbound_sms");
    const again = await raw("AI_AGENT", "send_sms", { contact_id: c.id, text: "One more deal", idempotency_key: key() });
    expect(again.isError).toBe(true);
    expect(text(again)).toMatch(/not_reachable.*unsubscribed/);
  });

  it("a timeout is outcome_unknown, and a retry with the key never sends again", async () => {
    const c = await contact("0006");
    const k = key();
    await svc().provider("twilio");
    const before = svc().emulators.twilio!.requests.length;
    const first = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Are you there?", idempotency_key: k, provider: "twilio" });
    expect(first.status).toBe("outcome_unknown");
    expect(first.next).toMatch(/never resent/);
    const again = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Are you there?", idempotency_key: k, provider: "twilio" });
    expect(again).toMatchObject({ status: "outcome_unknown", replayed: true, message_id: first.message_id });
    expect(svc().emulators.twilio!.requests.length - before).toBe(1);
  });

  it("auto routing: the reasons per provider; an open circuit is skipped; a recipient's refusal is not failed over", async () => {
    const c = await contact("0001");
    const auto = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Hello", idempotency_key: key() });
    expect(auto.route).toHaveLength(2);
    expect(auto.route.every((r: string) => /KES|USD/.test(r))).toBe(true);
    for (let i = 0; i < 5; i++) await recordOutcome(runtime.db, "africastalking", "transient", clock);
    try {
      const skipped = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Hello again", idempotency_key: key() });
      expect(skipped.provider).toBe("twilio");
      expect(skipped.route.find((r: string) => r.includes("africastalking"))).toMatch(/^skipped: africastalking: circuit open/);
      const explicit = await raw("AI_AGENT", "send_sms", { contact_id: c.id, text: "Hi", idempotency_key: key(), provider: "africastalking" });
      expect(text(explicit)).toMatch(/UNAVAILABLE.*circuit open/);
    } finally {
      await resetCircuit(runtime.db, "africastalking");
    }
    const blocked = await contact("0003");
    const refused = await call("AI_AGENT", "send_sms", { contact_id: blocked.id, text: "Hello", idempotency_key: key() });
    expect(refused.status).toBe("failed");
    expect(refused.attempts).toHaveLength(1);
    expect(refused.error).toMatch(/^opted_out/);
    await settle();
  });

  it("dry_run writes nothing and says the route and the cost", async () => {
    const c = await contact("0001");
    const k = key();
    const d = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Hello {{first_name}}", idempotency_key: k, provider: "africastalking", dry_run: true });
    expect(d).toMatchObject({ status: "dry_run", message_id: null, estimate: { amount: "0.8000", currency: "KES" } });
    expect((await q(`select 1 from messages where idempotency_key = $1`, [k])).length).toBe(0);
  });
});

describe("quiet hours at the recipient's local time (fixed clock)", () => {
  // 19:30 UTC: Lagos 20:30 (allowed), Nairobi 22:30, Johannesburg 21:30, Cairo 21:30 (quiet).
  const EVENING = new Date("2026-12-01T19:30:00Z");
  it.each([
    ["Africa/Lagos", "NG", false],
    ["Africa/Nairobi", "KE", true],
    ["Africa/Johannesburg", "ZA", true],
    ["Africa/Cairo", "EG", true],
  ] as const)("%s at 19:30 UTC: quiet = %s", async (zone, country, quiet) => {
    const c = await contact("0001", { zone, country });
    clock = EVENING;
    const r = await raw("AI_AGENT", "send_sms", { contact_id: c.id, text: "Evening offer", idempotency_key: key(), dry_run: true });
    expect(!!r.isError).toBe(quiet);
    if (quiet) expect(text(r)).toMatch(/quiet_hours/);
  });

  it("an override needs messages:override_quiet_hours, and its reason is recorded in the answer and the audit row", async () => {
    const c = await contact("0001");
    clock = EVENING;
    const args = { contact_id: c.id, text: "Your OTP is 1234", idempotency_key: key(), quiet_hours_override: "one-time password the customer asked for" };
    const agent = await raw("AI_AGENT", "send_sms", args);
    expect(agent.isError).toBe(true);
    expect(text(agent)).toMatch(/may not override quiet hours/);
    const admin = await call("ADMIN", "send_sms", args);
    expect(admin.quiet_hours_overridden).toBe("one-time password the customer asked for");
    const [audit] = await q<{ args: { quiet_hours_override?: string } }>(`select args from audit_events where tool = 'send_sms' and outcome = 'ALLOWED' order by id desc limit 1`);
    expect(JSON.stringify(audit!.args)).toContain("one-time password");
    await settle();
  });
});

describe("send_whatsapp: the 24-hour window", () => {
  it("closed: free text refused, an approved template sent; after the customer writes, free text goes", async () => {
    // The emulator and the webhook run on the real clock: the contact lives where it is daytime now.
    clock = new Date();
    const zone = ["Pacific/Honolulu", "America/New_York", "Africa/Lagos", "Asia/Dubai", "Asia/Tokyo"].find((z) => {
      const h = Number(new Intl.DateTimeFormat("en-GB", { timeZone: z, hour: "2-digit", hourCycle: "h23" }).format(clock));
      return h >= 10 && h < 19;
    })!;
    const c = await contact("0001", { zone });
    const closed = await raw("AI_AGENT", "send_whatsapp", { contact_id: c.id, text: "Hi!", idempotency_key: key() });
    expect(text(closed)).toMatch(/window_closed/);
    const tpl = await call("AI_AGENT", "send_whatsapp", { contact_id: c.id, whatsapp_template: { name: "order_update", language: "en", params: ["{{first_name}}"] }, idempotency_key: key() });
    expect(tpl.status).toMatch(/queued|sent/);
    await settle();
    await svc().emulators.whatsapp!.receive(c.phone, "Hello, is my order ready?");
    await settle();
    clock = new Date(Date.now() + 1000);
    const open = await call("AI_AGENT", "send_whatsapp", { contact_id: c.id, text: "Yes, it is ready {{first_name}}", idempotency_key: key() });
    expect(open.status).toMatch(/queued|sent/);
    await settle();
    expect((await call("USER", "get_delivery_status", { message_id: open.message_id })).status).toBe("delivered");
  });
});

describe("send_email and templates", () => {
  it("a saved email template, rendered per contact (HTML-escaped), received by the SMTP server", async () => {
    const c = await contact("0001", { email: `delivered+${randomUUID().slice(0, 8)}@sandbox.marketsage.test` });
    const t = await call("AI_AGENT", "save_template", { channel: "EMAIL", name: "welcome", subject: "Welcome {{first_name}}", html: "<p>Hi {{first_name}} from {{city}}, use {{code}}</p>", text: "Hi {{first_name}}, use {{code}}" });
    expect(t.fields.map((f: { field: string }) => f.field).sort()).toEqual(["city", "code", "first_name"]);
    const missing = await raw("AI_AGENT", "send_email", { contact_id: c.id, template_id: t.id, idempotency_key: key() });
    expect(text(missing)).toMatch(/missing_field.*code/);
    const sent = await call("AI_AGENT", "send_email", { contact_id: c.id, template_id: t.id, variables: { code: "<SAVE10>" }, idempotency_key: key() });
    expect(sent).toMatchObject({ status: "sent", provider: "smtp" });
    const got = svc().emulators.smtp!.messages.at(-1)!;
    expect(got.subject).toBe("Welcome Amina");
    expect(got.html).toContain("use &lt;SAVE10&gt;");
    const again = await call("AI_AGENT", "save_template", { channel: "EMAIL", name: "welcome", subject: "Welcome back", text: "Hi" });
    expect(again.version).toBe(2);
    const list = await call("USER", "list_templates", { channel: "EMAIL" });
    expect(list.templates.find((x: { name: string }) => x.name === "welcome")).toMatchObject({ version: 2, versions: 2 });
  });
});

describe("validate_message", () => {
  it("errors and warnings with what to change", async () => {
    const v = await call("USER", "validate_message", { channel: "SMS", to: "+254722000001", text: "Habari 😊 {{first_name}}" });
    expect(v.ok).toBe(false);
    expect(v.errors.map((e: { code: string }) => e.code)).toContain("missing_field");
    expect(v.warnings.map((e: { code: string }) => e.code)).toEqual(expect.arrayContaining(["ucs2", "no_consent_record"]));
    expect(v.sms).toMatchObject({ encoding: "UCS-2", segments: 1 });
  });
});

describe("providers", () => {
  it("list_providers: mode, circuit and routing; get_provider_balance: the emulator's balance", async () => {
    const p = await call("USER", "list_providers", {});
    expect(p.providers.map((x: { provider: string }) => x.provider)).toEqual(["africastalking", "twilio", "smtp", "whatsapp"]);
    expect(p.providers.every((x: { mode: string }) => x.mode === "sandbox")).toBe(true);
    const b = await call("USER", "get_provider_balance", {});
    expect(b.balances.find((x: { provider: string }) => x.provider === "twilio").balance.currency).toBe("USD");
    const again = await call("USER", "get_provider_balance", { provider: "twilio" });
    expect(again.balances[0].cached).toBe(true);
  });
});

describe("isolation, roles and strict inputs", () => {
  it("B's key cannot read A's message by any of its ids", async () => {
    const c = await contact("0001");
    const k = key();
    const sent = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "Private", idempotency_key: k, provider: "twilio" });
    await settle();
    const st = await call("USER", "get_delivery_status", { message_id: sent.message_id });
    for (const args of [{ message_id: sent.message_id }, { idempotency_key: k }, { provider_message_id: st.provider_message_id }]) {
      const r = await raw("ADMIN", "get_delivery_status", args, B);
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/NOT_FOUND/);
    }
    // B cannot send to A's contact either.
    expect(text(await raw("ADMIN", "send_sms", { contact_id: c.id, text: "x", idempotency_key: key() }, B))).toMatch(/unknown_contact/);
  });

  it("USER cannot send (not listed, refused when called); masked recipients without contacts:pii", async () => {
    const tools = (await (await as("USER")).client.listTools()).tools.map((t) => t.name);
    expect(tools).not.toContain("send_sms");
    expect(tools).toContain("get_delivery_status");
    expect(text(await raw("USER", "send_sms", { to: "+254711000001", text: "x", idempotency_key: key() }))).toMatch(/FORBIDDEN/);
    const c = await contact("0001");
    const r = await call("AI_AGENT", "send_sms", { contact_id: c.id, text: "x", idempotency_key: key(), dry_run: true });
    expect(r.recipient).toMatch(/\*\*\*/);
  });

  it("refuses unknown arguments and a missing idempotency key by name", async () => {
    expect(text(await raw("AI_AGENT", "send_sms", { to: "+254711000001", text: "x", idempotency_key: key(), priority: "high" }))).toMatch(/priority/);
    expect(text(await raw("AI_AGENT", "send_sms", { to: "+254711000001", text: "x" }))).toMatch(/idempotency_key/);
  });
});

describe("the text carries what the structured content carries", () => {
  it("for every tool's answer", async () => {
    const c = await contact("0001", { email: "delivered@sandbox.marketsage.test" });
    const t = await call("AI_AGENT", "save_template", { channel: "SMS", name: "carry", text: "Hi {{first_name | \"there\"}}" });
    const sent = await call("AI_AGENT", "send_sms", { contact_id: c.id, template_id: t.id, idempotency_key: key() });
    await settle();
    const calls: Array<[string, Record<string, unknown>]> = [
      ["validate_message", { channel: "SMS", contact_id: c.id, text: "Hi {{first_name}} 😊" }],
      ["send_sms", { contact_id: c.id, text: "Hello", idempotency_key: key(), dry_run: true }],
      ["send_sms", { contact_id: c.id, text: "Hello", idempotency_key: key(), provider: "africastalking" }],
      ["send_email", { contact_id: c.id, subject: "Hi", text: "Hello", idempotency_key: key() }],
      ["get_delivery_status", { message_id: sent.message_id }],
      ["list_templates", {}],
      ["save_template", { channel: "EMAIL", name: "carry mail", subject: "Hi {{first_name}}", html: "<p>{{city}}</p>" }],
      ["get_provider_balance", {}],
      ["list_providers", {}],
    ];
    for (const [name, args] of calls) {
      const r = await raw("ADMIN", name, args);
      expect(r.isError, `${name}: ${text(r)}`).toBeFalsy();
      const tool = externalServicesServer.tools.find((x) => x.name === name)!;
      expect(valuesMissingFromText(r.structuredContent, tool.output, text(r)), name).toEqual([]);
    }
    await settle();
  });
});
