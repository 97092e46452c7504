// Why the embedded PostgreSQL could not be had, as one line that names the fix. Entry scripts print
// only the message (a stack trace tells a newcomer nothing they can act on); servers wrap it in
// their own one-line "cannot reach the database" message.

/** The fix that always works, named at the end of every message that has no better one. */
export const EMBEDDED_FIX =
  "set MARKETSAGE_DATA_DIR to a directory the postgres user can reach, or DATABASE_URL to use another PostgreSQL server";

export class EmbeddedDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(oneLine(message), options);
    this.name = "EmbeddedDatabaseError";
  }
}

/** Collapse a tool's multi-line output into one short line. */
export function oneLine(text: string, max = 600): string {
  const s = text.replace(/\s+/g, " ").trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The useful part of a failed command's output: its last few non-empty lines. */
export function tail(text: string, lines = 3): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(" ");
}

/** The short form of a file-system error: "EACCES: permission denied". */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code && typeof err.message === "string") {
    // Node's message repeats the syscall and path after the reason: keep only "CODE: reason".
    const m = /^([A-Z]+): ([^,]+)/.exec(err.message);
    return m ? `${m[1]}: ${m[2]}` : err.code;
  }
  return err instanceof Error ? err.message : String(e);
}
