// The HTTP host under load: trivial tool calls per second with 50 concurrent clients (each its own
// SDK Client over Streamable HTTP, calls in a loop for a fixed time), beside the bare SDK's
// Streamable HTTP server in the same run. Each server runs in its own child process.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { pct } from "./stats.ts";

async function startTarget(root: string, kind: "marketsage" | "bare", env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts", "bench", "http-target.ts"), kind], { env, cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve(line!.trim());
    });
    child.on("exit", (code) => reject(new Error(`${kind} target exited ${code}`)));
  });
  return { child, url };
}

async function load(url: string, apiKey: string, clients: number, seconds: number): Promise<{ perSecond: number; ms: number[] }> {
  const cs = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new Client({ name: "bench", version: "0" });
      await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${apiKey}` } } }));
      return c;
    }),
  );
  const ms: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let errors = 0;
  await Promise.all(
    cs.map(async (c, i) => {
      for (let k = 0; performance.now() < deadline; k++) {
        const t = performance.now();
        const r = await c.callTool({ name: "echo_message", arguments: { message: `${i}-${k}` } });
        if (r.isError) errors++;
        ms.push(performance.now() - t);
      }
    }),
  );
  await Promise.all(cs.map((c) => c.close()));
  if (errors) throw new Error(`${errors} calls answered with an error`);
  return { perSecond: ms.length / seconds, ms };
}

export async function benchHttp(root: string, env: NodeJS.ProcessEnv, apiKey: string, opts: { clients?: number; seconds?: number } = {}): Promise<string[]> {
  const clients = opts.clients ?? 50;
  const seconds = opts.seconds ?? 10;
  const lines: string[] = [];
  const results: Record<string, { perSecond: number; ms: number[] }> = {};
  for (const kind of ["bare", "marketsage"] as const) {
    const t = await startTarget(root, kind, env);
    try {
      await load(t.url, apiKey, 5, 1); // warm-up
      results[kind] = await load(t.url, apiKey, clients, seconds);
    } finally {
      t.child.kill("SIGTERM");
    }
  }
  const f = (r: { perSecond: number; ms: number[] }) => `${r.perSecond.toFixed(0)} calls/s (per call median ${pct(r.ms, 50).toFixed(1)} ms, p95 ${pct(r.ms, 95).toFixed(1)} ms)`;
  lines.push(`HTTP, trivial tool, ${clients} concurrent clients for ${seconds} s: host ${f(results.marketsage!)}; bare SDK Streamable HTTP ${f(results.bare!)}; ratio ${(results.marketsage!.perSecond / results.bare!.perSecond).toFixed(2)}`);
  return lines;
}
