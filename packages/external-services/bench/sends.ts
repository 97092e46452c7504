// validate_message and send_sms through the production seam (the SDK client over the in-memory
// transport, authentication, scopes, rate limits, audit), beside references measured in the same
// run: for validate_message the hand-written read of the contact's consent and time zone; for a
// send, the provider's own call (the Twilio SDK to the sandbox emulator) alone — the difference of
// the medians is what a send adds (validation, routing, the ledger claim and settle, the audit row).
import pg from "pg";
import { createRuntime, type BenchContext, type BenchSample } from "@marketsage/core";
import { ALL_ON, connectTestClient } from "@marketsage/core/testing";
import { externalServicesServer } from "../src/server.ts";
import { closeMessagingFor, messagingFor } from "../src/service.ts";

export const TARGET_VALIDATE_P50_MS = 5;
export const TARGET_SEND_OVERHEAD_P50_MS = 15;
const PREFIX = "bench-send-";
/** A sandbox test number (delivered) with no time zone on record: never in quiet hours. */
const TO = "+14155550001";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchSends(b: BenchContext): Promise<{ samples: BenchSample[]; lines: string[] }> {
  const pool = new pg.Pool({ connectionString: b.databaseUrl, max: 2 });
  const runtime = createRuntime({ databaseUrl: b.databaseUrl, flags: ALL_ON, rateLimits: { callsPerMinute: 10_000_000, sendsPerMinute: 1_000_000, sendsPerDay: 100_000_000 }, log: b.log });
  // Sandbox mode whatever the environment says, reports after 50 ms.
  const svc = messagingFor(runtime.db, { env: { ...process.env, MESSAGING_SANDBOX: "true" }, reportDelayMs: 50, log: b.log });
  const t = await connectTestClient({ server: "external-services", tools: externalServicesServer.tools, runtime, apiKey: b.apiKey });
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await t.client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${name}: ${JSON.stringify(r.content)}`);
    return r.structuredContent as Record<string, unknown>;
  };
  const run = Date.now().toString(36);
  try {
    const [c] = (await pool.query<{ id: string }>(
      `select id::text from contacts where organization_id = $1 and status = 'ACTIVE' and consent_sms = 'SUBSCRIBED' and phone is not null
          and right(phone, 4) not in ('0002','0003','0004','0005','0006','0007') order by id limit 1`, [b.orgId],
    )).rows;
    if (!c) throw new Error("no reachable SMS contact in this organization");
    const args = { channel: "SMS", contact_id: c.id, text: "Hi {{first_name}}, your order has shipped." };
    const validate = await b.time(b.n, () => call("validate_message", args), 5);
    const consentSql = await b.time(b.n, () => pool.query(`select phone, first_name, consent_sms, time_zone, status from contacts where organization_id = $1 and id = $2`, [b.orgId, c.id]), 5);

    const twilio = await svc.provider("twilio");
    let k = 0;
    const send = await b.time(b.n, () => call("send_sms", { to: TO, text: "Your order has shipped.", provider: "twilio", idempotency_key: `${PREFIX}${run}-${k++}` }), 5);
    const provider = await b.time(b.n, () => twilio.send({ to: TO, text: "Your order has shipped.", idempotencyKey: `${PREFIX}${run}-raw-${k++}` }, { timeoutMs: 5_000 }), 5);
    const overhead = median(send) - median(provider);
    await svc.idle();
    return {
      samples: [
        { name: "validate_message (SMS to a contact)", ms: validate, reference: { name: "SQL: the contact's consent, phone and time zone", ms: consentSql }, note: `target p50 ≤ ${TARGET_VALIDATE_P50_MS} ms` },
        { name: "send_sms (twilio, sandbox)", ms: send, reference: { name: "the Twilio SDK's send to the emulator alone", ms: provider }, note: `overhead ${overhead.toFixed(1)} ms (target ≤ ${TARGET_SEND_OVERHEAD_P50_MS})` },
      ],
      lines: [
        `send overhead beyond the provider call: median ${overhead.toFixed(1)} ms (send ${median(send).toFixed(1)} − provider ${median(provider).toFixed(1)}); target ≤ ${TARGET_SEND_OVERHEAD_P50_MS}: ${overhead <= TARGET_SEND_OVERHEAD_P50_MS ? "met" : "NOT met"}`,
      ],
    };
  } finally {
    await t.close();
    await closeMessagingFor(runtime.db);
    await pool.query(`delete from message_events where message_id in (select id from messages where organization_id = $1 and idempotency_key like $2)`, [b.orgId, `${PREFIX}%`]);
    await pool.query(`delete from messages where organization_id = $1 and idempotency_key like $2`, [b.orgId, `${PREFIX}%`]);
    await runtime.close();
    await pool.end();
  }
}
