// Two checks every server's harness spec (src/harness.ts) uses on the demo data and the story.

/** The first row or a clear failure: an empty demo database is a reason to fail, not to skip. */
export function firstRow<T>(rows: T[], what: string): T {
  const row = rows[0];
  if (!row) throw new Error(`the demo data has no ${what} (is the database seeded? run \`pnpm db:setup\`)`);
  return row;
}

/** Fails the step with the message when the condition does not hold. */
export function expectThat(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}
