// Text-rendering helpers every server's tools share: the text content carries what the
// structured content carries (SPEC §3), compactly — times to the minute, rates as percentages,
// one line per record, empty lines dropped.

/** 2026-11-20T12:00:00.000Z → 2026-11-20T12:00Z */
export const at = (iso: string | null): string => (iso === null ? "never" : `${iso.slice(0, 16)}Z`);

/** A rate (0–1) as a percentage with two decimals; "n/a" for null. */
export const pct = (x: number | null | undefined): string => (x === null || x === undefined ? "n/a" : `${(x * 100).toFixed(2)}%`);

/** "More: pass cursor …" when there is a next page. */
export const pageNote = (cursor: string | null, arg = "cursor"): string => (cursor ? `More: pass ${arg} ${cursor}` : "");

/** Lines without the empty ones. */
export const lines = (...ls: Array<string | string[] | false | null | undefined>): string =>
  ls
    .flat()
    .filter((l): l is string => typeof l === "string" && l.length > 0)
    .join("\n");
