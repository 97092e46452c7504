// Opaque cursors: base64url JSON of the keyset position. Clients pass them back unchanged.
import { z } from "zod";
import { UserError } from "./errors.ts";

export const CursorInput = z
  .string()
  .max(512)
  .optional()
  .describe("From next_cursor; omit for the first page.");

export const LimitInput = (def = 20, max = 100) =>
  // The bounds and the default are in the schema.
  z.number().int().min(1).max(max).default(def);

export function encodeCursor(position: Record<string, string | number | null>): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

export function decodeCursor<S extends z.ZodType>(cursor: string | undefined, schema: S): z.output<S> | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the refusal below
  }
  throw new UserError("The cursor is not valid for this query. Start again without a cursor.");
}

/** A page from limit+1 rows: the extra row only tells whether there is a next page. */
export function pageOf<T>(rows: T[], limit: number, positionOf: (last: T) => Record<string, string | number | null>) {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, next_cursor: hasMore && last !== undefined ? encodeCursor(positionOf(last)) : null };
}
