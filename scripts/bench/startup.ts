// Cold start and idle memory of the built stdio servers, each beside the bare SDK server measured
// in the same run (scripts/bench/bare-server.ts, bundled the same way):
// - cold start: spawn → initialize answered → tools/list answered (what an MCP client waits for
//   before the model sees any tool), runs interleaved with the bare server's, after one start
//   that lets a fresh build write its V8 code cache (scripts/build.ts);
// - all servers started at once: until the last one has answered tools/list, beside as many bare
//   servers started at once;
// - idle RSS: VmRSS of the child (/proc/<pid>/status) after initialize + tools/list and a settle
//   delay, and optionally again after one tool call (what a server that has done work holds).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import type { Sample } from "./stats.ts";

const PROTOCOL = "2025-06-18";

/** A stdio MCP server as a child process, driven with raw JSON-RPC lines. */
export interface SpawnedServer {
  pid: number;
  request(method: string, params?: unknown): Promise<Record<string, unknown>>;
  notify(method: string, params?: unknown): void;
  /** Resident set of the child now (MB), from /proc/<pid>/status. */
  rssMb(): number;
  close(): Promise<void>;
}

export function spawnServer(entry: string, env: NodeJS.ProcessEnv): SpawnedServer {
  const child: ChildProcess = spawn(process.execPath, [entry], { env, stdio: ["pipe", "pipe", "pipe"] });
  let nextId = 1;
  let buf = "";
  let stderr = "";
  const waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const msg = JSON.parse(line) as { id?: number; error?: { message: string } };
      const w = msg.id === undefined ? undefined : waiting.get(msg.id);
      if (!w) continue;
      waiting.delete(msg.id!);
      if (msg.error) w.reject(new Error(`${path.basename(path.dirname(path.dirname(entry)))}: ${msg.error.message}`));
      else w.resolve(msg as Record<string, unknown>);
    }
  });
  child.once("exit", (code) => {
    for (const w of waiting.values()) w.reject(new Error(`${entry} exited ${code}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`));
    waiting.clear();
  });
  const send = (m: unknown) => child.stdin!.write(`${JSON.stringify(m)}\n`);
  return {
    pid: child.pid!,
    request(method, params) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        send({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
      });
    },
    notify(method, params) {
      send({ jsonrpc: "2.0", method, ...(params === undefined ? {} : { params }) });
    },
    rssMb() {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    async close() {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** initialize, initialized, tools/list: the handshake a client does before the model sees tools. */
async function handshake(s: SpawnedServer): Promise<void> {
  await s.request("initialize", { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: "bench", version: "0" } });
  s.notify("notifications/initialized");
  await s.request("tools/list", {});
}

/** Milliseconds from spawn to tools/list answered; the shutdown after it is not timed. */
async function coldStart(entry: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t = performance.now();
  const s = spawnServer(entry, env);
  try {
    await handshake(s);
    return performance.now() - t;
  } finally {
    await s.close();
  }
}

/**
 * One start that stays up past the loader's 1 s mark, so a fresh build has written its V8 code
 * cache (dist/server.<node version>.v8cache) before the timed starts: they measure the start
 * every launch after the first one gets.
 */
async function prime(entry: string, env: NodeJS.ProcessEnv): Promise<void> {
  const s = spawnServer(entry, env);
  try {
    await handshake(s);
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await s.close();
  }
}

/** Runs each measure in turns (a, b, a, b, …) after `warmup` rounds; each returns its own figure. */
async function inTurns(n: number, measures: ReadonlyArray<() => Promise<number>>, warmup = 2): Promise<number[][]> {
  for (let i = 0; i < warmup; i++) for (const m of measures) await m();
  const out = measures.map(() => [] as number[]);
  for (let i = 0; i < n; i++) for (const [j, m] of measures.entries()) out[j]!.push(await m());
  return out;
}

/** The bare SDK server, bundled into .data/bench/bare.js (the same bundling as the servers). */
export async function buildBareServer(root: string): Promise<string> {
  const out = path.join(root, ".data", "bench", "bare.js");
  await build({ entryPoints: [path.join(root, "scripts", "bench", "bare-server.ts")], outfile: out, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" });
  return out;
}

export const serverEntry = (root: string, server: string) => path.join(root, "packages", server, "dist", "main.js");

/** Cold start of each server (spawn → initialize → tools/list), interleaved with the bare server's. */
export async function benchStartup(root: string, servers: readonly string[], env: NodeJS.ProcessEnv, n: number): Promise<Sample[]> {
  const bare = await buildBareServer(root);
  const entries = [bare, ...servers.map((s) => serverEntry(root, s))];
  for (const e of entries) await prime(e, env);
  const [ref, ...times] = await inTurns(n, entries.map((e) => () => coldStart(e, env)));
  const reference = { name: "bare SDK server", ms: ref! };
  return servers.map((s, i) => ({ name: `cold start ${s} (spawn → initialize → tools/list)`, ms: times[i]!, reference }));
}

/** All servers spawned at once: until the last has answered tools/list, beside as many bare servers. */
export async function benchParallelStart(root: string, servers: readonly string[], env: NodeJS.ProcessEnv, n: number): Promise<Sample> {
  const bare = await buildBareServer(root);
  for (const s of servers) await prime(serverEntry(root, s), env);
  // Until the last one is ready: the largest of the concurrent cold starts.
  const all = (entries: string[]) => async () => Math.max(...(await Promise.all(entries.map((e) => coldStart(e, env)))));
  const [ref, ms] = await inTurns(n, [all(servers.map(() => bare)), all(servers.map((s) => serverEntry(root, s)))]);
  return { name: `all ${servers.length} server(s) started at once (until the last tools/list)`, ms: ms!, reference: { name: `${servers.length} bare SDK server(s) at once`, ms: ref! } };
}

export interface IdleRssOptions {
  /** Runs per server (a fresh process each); default 3. */
  runs?: number;
  /** Wait after tools/list before reading VmRSS (ms); default 2000. */
  settleMs?: number;
  /** A cheap read-only call per server, for a second reading after it (and the same settle delay). */
  probe?: (server: string) => { name: string; arguments: Record<string, unknown> } | undefined;
}

/** Idle RSS per server after start (and after one call, with a probe), beside the bare SDK server. */
export async function benchIdleRss(root: string, servers: readonly string[], env: NodeJS.ProcessEnv, opts: IdleRssOptions = {}): Promise<Sample[]> {
  const runs = opts.runs ?? 3;
  const settle = () => new Promise((r) => setTimeout(r, opts.settleMs ?? 2000));
  const bare = await buildBareServer(root);
  const measure = async (entry: string, probe?: { name: string; arguments: Record<string, unknown> }) => {
    const s = spawnServer(entry, env);
    try {
      await handshake(s);
      await settle();
      const idle = s.rssMb();
      if (!probe) return { idle, afterCall: NaN };
      const r = await s.request("tools/call", probe);
      if ((r.result as { isError?: boolean } | undefined)?.isError) throw new Error(`probe ${probe.name}: ${JSON.stringify(r.result)}`);
      await settle();
      return { idle, afterCall: s.rssMb() };
    } finally {
      await s.close();
    }
  };
  const ref: number[] = [];
  const out: Sample[] = [];
  const perServer = servers.map(() => ({ idle: [] as number[], afterCall: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    ref.push((await measure(bare, { name: "echo_message", arguments: { message: "x" } })).idle);
    for (const [j, s] of servers.entries()) {
      const m = await measure(serverEntry(root, s), opts.probe?.(s));
      perServer[j]!.idle.push(m.idle);
      if (Number.isFinite(m.afterCall)) perServer[j]!.afterCall.push(m.afterCall);
    }
  }
  const reference = { name: "bare SDK server, idle", ms: ref };
  for (const [j, s] of servers.entries()) {
    out.push({ name: `idle RSS ${s} after start`, unit: "MB", ms: perServer[j]!.idle, reference });
    const p = opts.probe?.(s);
    if (p) out.push({ name: `idle RSS ${s} after one ${p.name}`, unit: "MB", ms: perServer[j]!.afterCall, reference });
  }
  return out;
}
