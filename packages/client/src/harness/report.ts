// The harness's summary: a table computed from the runs (nothing in it is literal text), and
// the guided tour's words for a person.
import type { Check } from "./checks.ts";
import type { ServerRun, ToolRun } from "./coverage.ts";

export interface ServerSummary {
  server: string;
  status: string;
  coldStartMs: number | undefined;
  listed: number;
  called: number;
  passed: number;
  failed: number;
  p50Ms: number | undefined;
}

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(run: ServerRun & { disabled?: string }): ServerSummary {
  const called = run.runs.filter((r) => r.ms !== undefined);
  const passed = run.runs.filter((r) => r.ok).length;
  return {
    server: run.server,
    status: run.disabled ? `disabled (${run.disabled})` : run.problems.length || passed < run.runs.length ? "FAIL" : "ok",
    coldStartMs: run.health?.initializeMs,
    listed: run.listed.length,
    called: called.length,
    passed,
    failed: run.runs.length - passed + run.problems.length,
    p50Ms: median(called.map((r) => r.ms!)),
  };
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined ? "—" : n.toFixed(digits));

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `│ ${cells.map((c, i) => (/^[\d.—]+$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" │ ")} │`;
  const rule = (l: string, m: string, r: string) => `${l}${widths.map((w) => "─".repeat(w + 2)).join(m)}${r}`;
  return [rule("┌", "┬", "┐"), line(head), rule("├", "┼", "┤"), ...rows.map(line), rule("└", "┴", "┘")].join("\n");
}

export function summaryTable(sums: ServerSummary[]): string {
  return table(
    ["server", "status", "cold start ms", "tools listed", "called", "passed", "failed", "p50 ms"],
    sums.map((s) => [s.server, s.status, fmt(s.coldStartMs, 0), String(s.listed), String(s.called), String(s.passed), String(s.failed), fmt(s.p50Ms)]),
  );
}

export function checksTable(checks: Check[]): string {
  return table(
    ["check", "result", "detail"],
    checks.map((c) => [`${c.group}: ${c.name}`, c.ok ? "pass" : "FAIL", c.detail.replace(/\s+/g, " ").slice(0, 90)]),
  );
}

/** A compact line per tool call (plain mode). */
export function toolLine(r: ToolRun): string {
  return `${r.ok ? "✓" : "✗"} ${r.server}/${r.tool}${r.ms !== undefined ? ` ${r.ms.toFixed(1)} ms` : ""}${r.error ? ` — ${r.error}` : ""}`;
}

function brief(args: Record<string, unknown> | undefined): string {
  if (!args) return "— (no arguments could be built)";
  const s = JSON.stringify(args);
  return s.length > 110 ? `${s.slice(0, 107)}…` : s;
}

/** What a person reads in the tour: what was asked, and the first lines of the answer. */
export function tourTool(r: ToolRun): string {
  const answer = (r.answer ?? "").split("\n").filter((l) => l.trim()).slice(0, 3).map((l) => (l.length > 140 ? `${l.slice(0, 137)}…` : l));
  return [
    `  ▸ ${r.title} (${r.tool})${r.ms !== undefined ? ` — ${r.ms.toFixed(0)} ms` : ""}`,
    `      asked:  ${brief(r.args)}`,
    ...(r.ok ? answer.map((l, i) => `      ${i === 0 ? "answer:" : "       "} ${l}`) : [`      FAILED: ${r.error}`]),
  ].join("\n");
}
