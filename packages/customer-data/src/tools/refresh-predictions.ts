import { defineTool, UserError } from "@marketsage/core";
import { z } from "zod";
import { refreshPredictions } from "../predictions/refresh.ts";
import { CustomerRef, findContact } from "@marketsage/domain";
import { loadSegment } from "../segments/membership.ts";
import { Prisma } from "@marketsage/db";

export const refreshPredictionsTool = defineTool({
  name: "refresh_predictions",
  title: "Refresh predictions",
  description:
    "Recompute and store predictions for one customer (scope customer: id, email or phone), a segment (scope " +
    "segment: segment_id) or the organization, with progress notifications; large sets in one set-wise pass.",
  scopes: ["contacts:write"],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  // A million contacts take under a minute on two cores (README "Benchmarks"); the rewrite is atomic.
  transactionTimeoutMs: 30 * 60_000,
  input: z.object({
    scope: z.enum(["customer", "segment", "organization"]),
    id: z.uuid().optional(),
    email: z.string().max(254).optional(),
    phone: z.string().max(32).optional(),
    segment_id: z.uuid().optional(),
  }),
  output: z.object({
    scope: z.enum(["customer", "segment", "organization"]),
    written: z.number().int(),
    batches: z.number().int(),
    plan: z.enum(["by_ids", "setwise"]),
    seconds: z.number(),
    contacts_per_second: z.number(),
    model_version: z.string(),
  }),
  handler: async (input, ctx) => {
    const now = ctx.now();
    let member: Prisma.Sql | null = null;
    if (input.scope === "customer") {
      const ref = CustomerRef.safeParse({ id: input.id, email: input.email, phone: input.phone });
      if (!ref.success) throw new UserError("scope 'customer' needs exactly one of id, email or phone.");
      const contact = await findContact(ctx.db, ctx.org, ref.data);
      member = Prisma.sql`c.id = ${contact.id}::uuid`;
    } else if (input.scope === "segment") {
      if (!input.segment_id) throw new UserError("scope 'segment' needs segment_id.");
      member = (await loadSegment(ctx.db, ctx.org, input.segment_id, now)).member;
    }
    const result = await refreshPredictions(ctx.db, ctx.org, member, now, { onProgress: (done, total, message) => ctx.progress(done, total, message) });
    return { scope: input.scope, ...result };
  },
  render: (o) =>
    `Wrote ${o.written} predictions (scope ${o.scope}, model ${o.model_version}) in ${o.seconds} s (${o.contacts_per_second}/s; plan ${o.plan}, ${o.batches} batches).`,
});
