// validate_message and send_sms through the production seam (the SDK client over the in-memory
// transport: authentication, scopes, the rate limiter, the handler, the output schema, the audit
// row), each beside a reference measured in the same run:
//   - validate_message (SMS to a reachable contact of the organization) beside the hand-written
//     single read of that contact's row (status, phone, SMS consent, time zone, first name);
//   - send_sms to a sandbox test number that is no contact (provider given, a fresh idempotency
//     key per run) beside that provider's own send() — its SDK to the same local emulator, the
//     same recipient, sender, text and callback — alone: the difference of the medians is what a
//     send adds around the provider call (validation, circuits, sender, the ledger claim committed
//     before the call, the settle transaction, the audit row).
// Both SMS providers: Africa's Talking to a Kenyan number (quiet_hours_override given on every
// send, with the bench's SUPER_ADMIN key: Kenya's 21:00–08:00 would refuse it otherwise; it is
// applied only when the recipient is in quiet hours), Twilio to a US number (no time-zone mapping:
// never quiet). The emulators' delivery reports are scheduled after the run and cancelled when the
// service closes, so no report is applied while a send is timed. Always sandbox mode
// (MESSAGING_SANDBOX=true for the bench's own service), whatever the environment configures.
// What the part wrote (messages and their events, by the exact keys it used) is deleted; the audit
// rows stay.
import pg from "pg";
import { createRuntime, type BenchContext, type BenchSample } from "@marketsage/core";
import { ALL_ON, connectTestClient } from "@marketsage/core/testing";
import type { ProviderName } from "../src/providers/types.ts";
import { TEST_RECIPIENTS } from "../src/sandbox/test-numbers.ts";
import { externalServicesServer } from "../src/server.ts";
import { closeMessagingFor, messagingFor } from "../src/service.ts";
import { median, met, ms, pct } from "./stats.ts";

export const TARGET_VALIDATE_P50_MS = 5;
export const TARGET_SEND_OVERHEAD_P50_MS = 15;
const KEY_PREFIX = "bench-send";
/** Later than any run: the reports never arrive, close() cancels them. */
const REPORT_DELAY_MS = 30 * 60_000;
const SPECIAL = TEST_RECIPIENTS.filter((t) => t.outcome !== "delivered").map((t) => t.suffix);
const TEXT = "Your order has shipped.";
const VALIDATE_TEXT = "Hi {{first_name}}, your order has shipped.";
const OVERRIDE = "bench: sandbox send outside the recipient's day";

interface Route {
  provider: Extract<ProviderName, "africastalking" | "twilio">;
  label: string;
  /** Sandbox test numbers ending 0001 (delivered); the first that is no contact of the organization is used. */
  candidates: string[];
  override: boolean;
}

const ROUTES: Route[] = [
  { provider: "africastalking", label: "africastalking, KE", candidates: Array.from({ length: 90 }, (_, i) => `+254711${i + 10}0001`), override: true },
  { provider: "twilio", label: "twilio, US", candidates: Array.from({ length: 45 }, (_, i) => `+1415${555 + i}0001`), override: false },
];

interface Sent {
  status: string;
  message_id: string | null;
  provider: string | null;
  provider_message_id: string | null;
  sender: string | null;
  error: string | null;
  quiet_hours_overridden: string | null;
}

export async function benchSends(b: BenchContext): Promise<{ samples: BenchSample[]; lines: string[] }> {
  const { orgId, n, time } = b;
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: 2 });
  const sql = (text: string, params: unknown[]) => pool.query(text, params);
  // The bench's own runtime: send limits far above its pace (the limiter still runs on every
  // call), and its own messaging service (sandbox, reports after the run), made before any call.
  const runtime = createRuntime({ databaseUrl: b.databaseUrl, flags: ALL_ON, rateLimits: { callsPerMinute: 10_000_000, sendsPerMinute: 10_000_000, sendsPerDay: 10_000_000 }, log: b.log });
  const svc = messagingFor(runtime.db, { env: { ...process.env, MESSAGING_SANDBOX: "true" }, reportDelayMs: REPORT_DELAY_MS, log: b.log });
  const t = await connectTestClient({ server: "external-services", tools: externalServicesServer.tools, runtime, apiKey: b.apiKey });
  const call = async <T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T> => {
    const r = await t.client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return r.structuredContent as T;
  };
  const run = `${KEY_PREFIX}-${Date.now().toString(36)}`;
  const keys: string[] = [];
  const messageIds: string[] = [];
  const rawIds: Array<{ provider: string; id: string }> = [];
  const samples: BenchSample[] = [];
  const lines: string[] = [];
  try {
    // validate_message: reachable SMS contacts the sandbox delivers to, in turn.
    const contacts = (
      await sql(
        `select id::text from contacts where organization_id = $1 and status = 'ACTIVE' and consent_sms = 'SUBSCRIBED' and phone is not null
            and right(phone, 4) <> all($2::text[]) and first_name is not null order by id limit 20`,
        [orgId, SPECIAL],
      )
    ).rows.map((r) => r.id as string);
    if (!contacts.length) throw new Error("external-services bench: no reachable SMS contact in this organization");
    const contact = (i: number) => contacts[i % contacts.length]!;
    let checked: { ok: boolean; errors: Array<{ code: string }> } = { ok: true, errors: [] };
    const validate = await time(n, async (i) => {
      checked = await call("validate_message", { channel: "SMS", contact_id: contact(i), text: VALIDATE_TEXT });
    });
    const consentRow = await time(n, (i) =>
      sql(`select status, phone, consent_sms, consent_sms_at, time_zone, country, first_name from contacts where organization_id = $1 and id = $2`, [orgId, contact(i)]),
    );
    const v50 = median(validate);
    samples.push({
      name: "validate_message (SMS to a contact)",
      ms: validate,
      reference: { name: "SQL: the contact's row (status, phone, SMS consent, time zone)", ms: consentRow },
      note: `target p50 ≤ ${TARGET_VALIDATE_P50_MS} ms: ${met(v50 <= TARGET_VALIDATE_P50_MS)}`,
    });
    lines.push(
      `validate_message (SMS to one of ${contacts.length} reachable contacts, ${n} runs): p50 ${ms(v50)} ms, p95 ${ms(pct(validate, 95))} ms ` +
        `(target p50 ≤ ${TARGET_VALIDATE_P50_MS} ms: ${met(v50 <= TARGET_VALIDATE_P50_MS)}); last answer ${checked.ok ? "ok" : `refused (${checked.errors.map((e) => e.code).join(", ")})`}; ` +
        `the contact's row by hand: p50 ${ms(median(consentRow))} ms`,
    );

    for (const route of ROUTES) {
      const taken = new Set((await sql(`select phone from contacts where organization_id = $1 and phone = any($2::text[])`, [orgId, route.candidates])).rows.map((r) => r.phone as string));
      const to = route.candidates.find((c) => !taken.has(c));
      if (!to) throw new Error(`external-services bench: every candidate test number for ${route.provider} is a contact of this organization`);
      let seq = 0;
      let overridden = 0;
      let sent = 0;
      const send = async (): Promise<Sent> => {
        const key = `${run}-${route.provider}-${seq++}`;
        keys.push(key);
        const r = await call<Sent>("send_sms", { to, text: TEXT, provider: route.provider, idempotency_key: key, ...(route.override ? { quiet_hours_override: OVERRIDE } : {}) });
        if (r.message_id) messageIds.push(r.message_id);
        if ((r.status !== "sent" && r.status !== "queued") || r.provider !== route.provider) {
          throw new Error(`send_sms via ${route.provider} to ${to}: ${r.status} by ${r.provider}${r.error ? ` (${r.error})` : ""}`);
        }
        sent++;
        if (r.quiet_hours_overridden) overridden++;
        return r;
      };
      const { sender } = await send(); // the sender the tool uses, for the provider's own call
      const sendMs = await time(n, send);
      const provider = await svc.provider(route.provider);
      const callback = svc.callbackBase(route.provider);
      const raw = await time(n, async () => {
        const out = await provider.send(
          {
            to, from: sender ?? undefined, text: TEXT, idempotencyKey: `${run}-${route.provider}-raw-${seq++}`,
            statusCallbackUrl: route.provider === "twilio" && callback ? `${callback}/webhooks/twilio/status` : undefined,
          },
          { timeoutMs: svc.sendTimeoutMs },
        );
        if (out.kind !== "accepted") throw new Error(`${route.provider} send() to ${to}: ${out.kind} ${"reason" in out ? out.reason : ""}`);
        rawIds.push({ provider: route.provider, id: out.providerMessageId });
      });
      const s50 = median(sendMs);
      const r50 = median(raw);
      const overhead = s50 - r50;
      const quiet = route.override ? `; quiet hours at the recipient overridden on ${overridden} of ${sent} sends` : "";
      samples.push({
        name: `send_sms (${route.label}, sandbox)`,
        ms: sendMs,
        reference: { name: `${route.provider}'s send() alone (SDK → emulator)`, ms: raw },
        note: `overhead p50 ${ms(overhead)} ms, target ≤ ${TARGET_SEND_OVERHEAD_P50_MS}: ${met(overhead <= TARGET_SEND_OVERHEAD_P50_MS)}`,
      });
      lines.push(
        `send_sms (${route.label}, sandbox, to ${to}, ${n} runs, a new idempotency key each): p50 ${ms(s50)} ms, p95 ${ms(pct(sendMs, 95))} ms; ` +
          `${route.provider}'s own send() to the emulator: p50 ${ms(r50)} ms, p95 ${ms(pct(raw, 95))} ms; ` +
          `overhead p50 ${ms(overhead)} ms (target ≤ ${TARGET_SEND_OVERHEAD_P50_MS} ms: ${met(overhead <= TARGET_SEND_OVERHEAD_P50_MS)})${quiet}`,
      );
    }
  } finally {
    await t.close();
    await closeMessagingFor(runtime.db); // cancels the emulators' scheduled reports
    await runtime.close();
    try {
      if (messageIds.length || keys.length) {
        const ids = (await sql(`select id from messages where organization_id = $1 and idempotency_key = any($2::text[])`, [orgId, keys])).rows.map((r) => r.id as string);
        const all = [...new Set([...ids, ...messageIds])];
        await sql(`delete from message_events where message_id = any($1::uuid[])`, [all]);
        await sql(`delete from messages where id = any($1::uuid[])`, [all]);
      }
      // Reports held for the provider's own sends, had any arrived (none do: they are cancelled).
      for (const p of ["africastalking", "twilio"]) {
        const ids = rawIds.filter((r) => r.provider === p).map((r) => r.id);
        if (ids.length) await sql(`delete from pending_status_reports where provider = $1 and provider_message_id = any($2::text[])`, [p, ids]);
      }
    } finally {
      await pool.end();
    }
  }
  return { samples, lines };
}
