// Cold start: spawn → initialize answered, for each built server and for the bare SDK server.
import { spawn } from "node:child_process";
import path from "node:path";
import { build } from "esbuild";
import { time, type Sample } from "./stats.ts";

async function initializeOnce(entry: string, env: NodeJS.ProcessEnv): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [entry], { env, stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes('"id":1')) {
        child.kill("SIGTERM");
        resolve();
      }
    });
    child.on("exit", (code) => (out.includes('"id":1') ? undefined : reject(new Error(`${entry} exited ${code} before initialize`))));
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } } })}\n`);
  });
}

export async function benchStartup(root: string, servers: string[], env: NodeJS.ProcessEnv, n: number): Promise<Sample[]> {
  const bare = path.join(root, ".data", "bench", "bare.js");
  await build({ entryPoints: [path.join(root, "scripts", "bench", "bare-server.ts")], outfile: bare, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" });
  const ref = { name: "bare SDK server", ms: await time(n, () => initializeOnce(bare, env), 2) };
  const out: Sample[] = [];
  for (const s of servers) {
    out.push({ name: `cold start ${s}`, ms: await time(n, () => initializeOnce(path.join(root, "packages", s, "dist", "main.js"), env), 2), reference: ref });
  }
  return out;
}
