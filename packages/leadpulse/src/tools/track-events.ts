import { defineTool, lines, UserError, type DbHandle } from "@marketsage/core";
import { z } from "zod";
import { parseBatch } from "../collector/batch.ts";
import { EVENT_TYPES, MAX_EVENTS } from "../collector/events.ts";
import { countryOfTimeZone } from "../collector/geo.ts";
import { ingestEvents, type SqlRunner } from "../ingest/ingest.ts";

/** The call's transaction as the ingester's SQL runner. */
export function prismaRunner(db: DbHandle): SqlRunner {
  return { query: <T>(text: string, params: unknown[]) => db.$queryRawUnsafe<T[]>(text, ...params) };
}

const Rejected = z.object({ index: z.number().int(), id: z.string().optional(), errors: z.array(z.string()) });

export const trackEvents = defineTool({
  name: "track_events",
  title: "Track website events",
  description:
    `Store up to ${MAX_EVENTS} website events (collector format; idempotent by id). Types: ${EVENT_TYPES.join(", ")}. ` +
    "Each: id (8–64 of A-Za-z0-9_-), visitor_id, ts (ISO 8601 or epoch ms, ≤ 7 days old; default now). Invalid events " +
    "are listed with reasons, the rest stored. identify (email/phone) links the visitor to a customer.",
  scopes: ["leadpulse:write"],
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  input: z.object({
    events: z
      .array(z.record(z.string(), z.unknown()), { error: "must be a list of event objects" })
      .min(1, { error: "give at least one event" })
      .max(MAX_EVENTS, { error: `at most ${MAX_EVENTS} events per call (split the batch)` })
      .describe("e.g. {type:'pageview', id, visitor_id, url, title?, referrer?, utm?}"),
    context: z
      .object({
        user_agent: z.string().max(1000).optional().describe("For device and bot check."),
        device: z.enum(["MOBILE", "DESKTOP", "TABLET"]).optional(),
        country: z.string().regex(/^[A-Z]{2}$/, { error: "must be an ISO 3166-1 alpha-2 code, e.g. NG" }).optional(),
        tz: z.string().max(64).optional().describe("IANA time zone (gives the country)."),
      })
      .optional(),
  }),
  output: z.object({
    stored: z.number().int(),
    duplicates: z.number().int(),
    page_leaves: z.number().int(),
    page_leaves_unmatched: z.number().int(),
    sessions_opened: z.number().int(),
    identified: z.array(z.object({ visitor_id: z.string(), contact_id: z.string().nullable(), backfilled: z.number().int() })),
    bot: z.boolean(),
    rejected: z.array(Rejected),
  }),
  handler: async (input, ctx) => {
    const parsed = parseBatch(JSON.stringify({ events: input.events }), { now: ctx.now() });
    if (!parsed.ok) throw new UserError(parsed.error);
    if (parsed.events.length === 0) {
      throw new UserError(`No event was valid: ${parsed.rejected.map((r) => r.errors.join("; ")).join(" | ")}`);
    }
    const c = input.context ?? {};
    const result = await ingestEvents(prismaRunner(ctx.db), ctx.org, {
      ...(c.user_agent !== undefined ? { userAgent: c.user_agent } : {}),
      ...(c.device ? { device: c.device } : {}),
      country: c.country ?? countryOfTimeZone(c.tz),
    }, parsed.events);
    return { ...result, rejected: parsed.rejected };
  },
  render: (o) =>
    lines(
      `Stored ${o.stored} touchpoint(s); ${o.duplicates} duplicate(s) already stored; ${o.page_leaves} page leave(s) applied` +
        `${o.page_leaves_unmatched ? ` (${o.page_leaves_unmatched} with no stored page view)` : ""}; ${o.sessions_opened} session(s) opened.` +
        (o.bot ? " The sender is a bot (user agent): stored but never counted as a visitor." : ""),
      o.identified.map((i) =>
        i.contact_id
          ? `Visitor ${i.visitor_id} linked to customer ${i.contact_id} (${i.backfilled} earlier touchpoint(s) now carry it).`
          : `Visitor ${i.visitor_id}: no customer with that email or phone in this organization; not linked.`,
      ),
      o.rejected.length ? `Rejected ${o.rejected.length}:` : "",
      o.rejected.map((r) => `- events[${r.index}]${r.id ? ` (id ${r.id})` : ""}: ${r.errors.join("; ")}`),
    ),
});
