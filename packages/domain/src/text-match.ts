// Matching user text in SQL: literal LIKE fragments and the URL path pattern syntax shared by
// customer-data's `visited` rule and leadpulse's funnels and page analytics.

/** Escape LIKE wildcards so user text matches literally (`%`, `_` and `\` lose their meaning). */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/**
 * A URL path pattern as a PostgreSQL regex on a stored URL: `*` matches any run of characters
 * within the path (not the query or fragment); scheme, host, query and fragment are ignored; a
 * trailing slash is optional. `/pricing` matches `https://x.test/pricing/?a=1`, `/blog/*` matches
 * every blog page, `/products/*\/reviews` any product's reviews.
 */
export function urlPatternRegex(pattern: string): string {
  const path = pattern.replace(/^https?:\/\/[^/]+/i, "");
  const body = path
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^?#]*");
  const anchoredEnd = path.endsWith("*") ? "([?#].*)?$" : "/?([?#].*)?$";
  return `^(https?://[^/]+)?${body}${anchoredEnd}`;
}
