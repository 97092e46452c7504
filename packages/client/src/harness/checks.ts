// A named check with its verdict computed from what happened (never a literal "passed").
export interface Check {
  group: "scenario" | "fallback" | "flags";
  name: string;
  ok: boolean;
  detail: string;
}

export async function check(group: Check["group"], name: string, fn: () => Promise<string>): Promise<Check> {
  try {
    return { group, name, ok: true, detail: await fn() };
  } catch (err) {
    return { group, name, ok: false, detail: (err as Error).message };
  }
}

export function expectThat(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

/** Key order does not matter; everything else does. */
export function sameJson(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(norm) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)).map(([k, w]) => [k, norm(w)])) : v;
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
