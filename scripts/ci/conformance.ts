// pnpm conformance [--database-url URL]: the MCP conformance suite (@modelcontextprotocol/conformance
// 0.1.13, the last that runs on Node 20) against the HTTP host, for the server scenarios that apply
// to every catalog server (the others test the suite's own "everything" server's tools). The suite
// sends no API key, so a loopback proxy in front of the host adds a demo key's bearer header and
// passes everything else (Host, Origin) through unchanged. Exits 1 when a scenario that must pass
// fails; prints which pass.
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { serverNames } from "@marketsage/catalog";
import { DEMO_ORGS, demoApiKey, findRepoRoot, resolveDatabaseUrl } from "@marketsage/db";
import { startHttpHost } from "@marketsage/http";

/** Scenarios that test the protocol rather than the suite's own test tools. */
export const APPLICABLE = ["server-initialize", "ping", "tools-list", "resources-list", "prompts-list", "dns-rebinding-protection"] as const;

/** Every server scenario of 0.1.13 (`conformance list`), for `--all` (a report; only APPLICABLE must pass). */
const ALL = [
  ...APPLICABLE, "logging-set-level", "completion-complete", "tools-call-simple-text", "tools-call-image", "tools-call-audio", "tools-call-embedded-resource",
  "tools-call-mixed-content", "tools-call-with-logging", "tools-call-error", "tools-call-with-progress", "tools-call-sampling", "tools-call-elicitation",
  "json-schema-2020-12", "elicitation-sep1034-defaults", "server-sse-polling", "server-sse-multiple-streams", "elicitation-sep1330-enums", "resources-read-text",
  "resources-read-binary", "resources-templates-read", "resources-subscribe", "resources-unsubscribe", "prompts-get-simple", "prompts-get-with-args",
  "prompts-get-embedded-resource", "prompts-get-with-image",
];

const { values } = parseArgs({ options: { "database-url": { type: "string" }, verbose: { type: "boolean", default: false }, all: { type: "boolean", default: false } } });
const { url: databaseUrl } = await resolveDatabaseUrl(values["database-url"] ?? process.env.DATABASE_URL);
const key = demoApiKey(DEMO_ORGS[0]!, "SUPER_ADMIN");
let hostUrl = "";
const proxy = http.createServer((req, res) => {
  const target = new URL(req.url ?? "/", hostUrl);
  const headers = { ...req.headers, authorization: `Bearer ${key}` };
  const up = http.request(target, { method: req.method, headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on("error", (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
  req.pipe(up);
});
await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
const proxyPort = (proxy.address() as { port: number }).port;
// The suite's pages come from the proxy's origin: the host allows exactly that one.
const host = await startHttpHost({
  ...process.env,
  DATABASE_URL: databaseUrl,
  MCP_HTTP_PORT: "0",
  MCP_HTTP_ALLOWED_ORIGINS: `http://127.0.0.1:${proxyPort},http://localhost:${proxyPort}`,
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
});
hostUrl = host.url;

const bin = path.join(findRepoRoot(), "node_modules", ".bin", "conformance");
const results: Array<{ server: string; scenario: string; ok: boolean; detail: string }> = [];
for (const server of serverNames()) {
  for (const scenario of values.all ? ALL : APPLICABLE) {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "marketsage-conformance-"));
    const out = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile(bin, ["server", "--url", `http://127.0.0.1:${proxyPort}/mcp/${server}`, "--scenario", scenario], { cwd, timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, text: `${stdout}\n${stderr}` }),
      );
    });
    // Read the suite's own tally ("Passed: 2/2, 0 failed") rather than trust an exit code alone.
    const tally = /Passed: (\d+)\/(\d+), (\d+) failed/.exec(out.text);
    const passed = Number(tally?.[1] ?? 0);
    const total = Number(tally?.[2] ?? 0);
    const ok = out.code === 0 && tally !== null && total > 0 && passed === total;
    const failures = [...out.text.matchAll(/^\s+- (\w+): .*\n\s+Error: (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
    results.push({ server, scenario, ok, detail: ok ? `${passed}/${total} checks` : failures.join("; ") || out.text.trim().split("\n").slice(-3).join(" ") });
    if (values.verbose) process.stderr.write(out.text);
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}
await new Promise((r) => proxy.close(r));
await host.close();

for (const r of results) process.stdout.write(`${r.ok ? "✓" : "✗"} ${r.server} ${r.scenario}: ${r.detail}\n`);
const failed = results.filter((r) => !r.ok && (APPLICABLE as readonly string[]).includes(r.scenario)).length;
if (values.all) process.stdout.write(`(--all: ${results.filter((r) => r.ok).length} of ${results.length} scenarios pass; only the ${APPLICABLE.length} that apply must)\n`);
const must = results.filter((r) => (APPLICABLE as readonly string[]).includes(r.scenario)).length;
process.stdout.write(`conformance: ${must - failed} passed, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
