// The audit log, for the organization of the caller's key (`audit:read`): who did what, when, with
// which outcome (query_audit_log, newest first, keyset pages), and whether its hash chains still
// verify (verify_audit_log: core's verifyAuditLog, which recomputes every chain of the organization,
// compares each end with its head row and checks the witnesses, so an edited row and a deleted
// newest row are both reported). Arguments are shown as they were stored: redacted at write time.
import { CursorInput, decodeCursor, defineTool, LimitInput, lines, pageNote, pageOf, verifyAuditLog } from "@marketsage/core";
import { Prisma } from "@marketsage/db";
import { z } from "zod";

const OUTCOMES = ["ALLOWED", "DENIED", "FAILED", "RATE_LIMITED"] as const;
const Position = z.object({ t: z.string(), i: z.string() });

const Row = z.object({
  at: z.string(),
  server: z.string(),
  tool: z.string(),
  outcome: z.enum(OUTCOMES),
  error_code: z.string().nullable(),
  role: z.string().nullable(),
  actor_user_id: z.string().nullable(),
  api_key_id: z.string().nullable(),
  path: z.string(),
  duration_ms: z.number(),
  args: z.string().describe("Redacted at write time; JSON, cut at 300 characters."),
});
type Row = z.infer<typeof Row>;

const QueryOut = z.object({ items: z.array(Row), next_cursor: z.string().nullable() });

const argsText = (v: unknown): string => {
  const s = JSON.stringify(v ?? {});
  return s.length > 300 ? `${s.slice(0, 299)}…` : s;
};

export const queryAuditLog = defineTool({
  name: "query_audit_log",
  title: "Query the audit log",
  description: "Every tool call of your organization: time, server, tool, outcome, role, key, duration, redacted arguments. Newest first; filters combine.",
  scopes: ["audit:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    server: z.string().trim().min(1).max(60).optional(),
    tool: z.string().trim().min(1).max(80).optional(),
    outcome: z.enum(OUTCOMES).optional(),
    actor_user_id: z.uuid().optional(),
    api_key_id: z.uuid().optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional().describe("Exclusive"),
    limit: LimitInput(20, 100),
    cursor: CursorInput,
  }),
  output: QueryOut,
  handler: async (i, ctx) => {
    const pos = decodeCursor(i.cursor, Position);
    const cond: Prisma.Sql[] = [Prisma.sql`organization_id = ${ctx.org.id}::uuid`];
    if (i.server) cond.push(Prisma.sql`server = ${i.server}`);
    if (i.tool) cond.push(Prisma.sql`tool = ${i.tool}`);
    if (i.outcome) cond.push(Prisma.sql`outcome = ${i.outcome}::"AuditOutcome"`);
    if (i.actor_user_id) cond.push(Prisma.sql`actor_user_id = ${i.actor_user_id}::uuid`);
    if (i.api_key_id) cond.push(Prisma.sql`api_key_id = ${i.api_key_id}::uuid`);
    if (i.from) cond.push(Prisma.sql`occurred_at >= ${new Date(i.from)}`);
    if (i.to) cond.push(Prisma.sql`occurred_at < ${new Date(i.to)}`);
    if (pos) cond.push(Prisma.sql`(occurred_at, id) < (${new Date(pos.t)}::timestamptz, ${pos.i}::bigint)`);
    const rows = await ctx.db.$queryRaw<Array<{ id: bigint; occurred_at: Date; server: string; tool: string; outcome: Row["outcome"]; error_code: string | null; role: string | null; actor_user_id: string | null; api_key_id: string | null; path: string; duration_ms: number; args: unknown }>>`
      select id, occurred_at, server, tool, outcome::text as outcome, error_code, role::text as role, actor_user_id::text, api_key_id::text, path, duration_ms, args
        from audit_events where ${Prisma.join(cond, " and ")}
       order by occurred_at desc, id desc limit ${i.limit + 1}`;
    const page = pageOf(rows, i.limit, (r) => ({ t: r.occurred_at.toISOString(), i: r.id.toString() }));
    return {
      items: page.items.map((r) => ({
        at: r.occurred_at.toISOString(), server: r.server, tool: r.tool, outcome: r.outcome, error_code: r.error_code, role: r.role, actor_user_id: r.actor_user_id,
        api_key_id: r.api_key_id, path: r.path, duration_ms: Math.round(r.duration_ms * 100) / 100, args: argsText(r.args),
      })),
      next_cursor: page.next_cursor,
    };
  },
  render: (o) =>
    lines(
      o.items.length ? `${o.items.length} audit row(s), newest first:` : "No audit rows match.",
      o.items.map((r) => `- ${r.at} ${r.server}/${r.tool} ${r.outcome}${r.error_code ? ` (${r.error_code})` : ""} by ${r.role ?? "?"} key ${r.api_key_id ?? "none"} user ${r.actor_user_id ?? "none"} via ${r.path}, ${r.duration_ms} ms; args ${r.args}`),
      pageNote(o.next_cursor),
    ),
});

const VerifyOut = z.object({
  ok: z.boolean(),
  rows_checked: z.number().int(),
  witnesses_checked: z.number().int(),
  chains: z.number().int(),
  bad: z.array(z.object({ chain: z.string(), first_bad_seq: z.number().int().nullable(), last_good_seq: z.number().int(), head_seq: z.number().int().nullable(), reason: z.string() })),
});

export const verifyAuditLogTool = defineTool({
  name: "verify_audit_log",
  title: "Verify the audit log",
  description: "Recompute your organization's audit hash chains: an edited, reordered or deleted row (also the newest) is reported with the first bad row.",
  scopes: ["audit:read"],
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({}),
  output: VerifyOut,
  handler: async (_i, ctx) => {
    const v = await verifyAuditLog(ctx.db, ctx.org.id);
    return {
      ok: v.ok, rows_checked: v.rowsChecked, witnesses_checked: v.witnessesChecked, chains: v.chains.length,
      bad: v.chains.filter((c) => !c.ok).map((c) => ({ chain: c.chain, first_bad_seq: c.firstBadSeq, last_good_seq: c.lastSeq, head_seq: c.headSeq, reason: c.reason ?? "does not verify" })),
    };
  },
  render: (o) =>
    lines(
      o.ok
        ? `The audit log verifies: ${o.rows_checked.toLocaleString("en")} rows in ${o.chains} chain(s), ${o.witnesses_checked} witness(es) checked.`
        : `The audit log does NOT verify: ${o.bad.length} of ${o.chains} chain(s) broken (${o.rows_checked.toLocaleString("en")} rows, ${o.witnesses_checked} witnesses checked).`,
      o.bad.map((b) => `- chain ${b.chain}: first bad row seq ${b.first_bad_seq ?? "?"} (verified up to ${b.last_good_seq}, head says ${b.head_seq ?? "none"}): ${b.reason}`),
    ),
});

export const auditTools = [queryAuditLog, verifyAuditLogTool] as const;
