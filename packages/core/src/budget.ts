// The response budget: default answers stay small (~2,000 tokens ≈ 8,000 characters of text).
// Tools page to stay inside it; the text rendering is never cut without saying so.

export const TEXT_BUDGET_CHARS = 8000;

export function renderText(text: string, budget = TEXT_BUDGET_CHARS): string {
  if (text.length <= budget) return text;
  const cut = text.slice(0, budget);
  return `${cut}\n[truncated: ${text.length - budget} more characters in structuredContent; narrow the query or use the cursor to page]`;
}

/** Keep the first items whose JSON fits in maxChars; says whether anything was left out. */
export function fitToBudget<T>(items: readonly T[], maxChars = TEXT_BUDGET_CHARS): { items: T[]; truncated: boolean } {
  const out: T[] = [];
  let size = 2;
  for (const item of items) {
    size += JSON.stringify(item).length + 1;
    if (size > maxChars && out.length > 0) return { items: out, truncated: true };
    out.push(item);
  }
  return { items: out, truncated: false };
}
