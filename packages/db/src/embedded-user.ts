// PostgreSQL refuses to run as root: when we are root, it runs as the `postgres` system user, and
// everything it executes or writes must be reachable by that user, not only by us.
import { execFileSync, spawnSync } from "node:child_process";
import { EMBEDDED_FIX, EmbeddedDatabaseError, oneLine } from "./embedded-errors.ts";

export interface PgUser {
  uid: number;
  gid: number;
}

type Log = (msg: string) => void;

function lookup(): PgUser | undefined {
  const id = (flag: string) => {
    const r = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    return r.status === 0 ? Number(r.stdout.trim()) : undefined;
  };
  const uid = id("-u");
  const gid = id("-g");
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/** The user PostgreSQL runs as: undefined when we are not root (it runs as us). */
export function postgresUser(log: Log): PgUser | undefined {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return undefined;
  const found = lookup();
  if (found) return found;
  log("running as root: creating system user 'postgres' for the embedded PostgreSQL");
  try {
    spawnSync("groupadd", ["--system", "postgres"]);
    execFileSync("useradd", ["--system", "-g", "postgres", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (e) {
    const err = e as { stderr?: Buffer | string; message?: string };
    throw new EmbeddedDatabaseError(
      `running as root, the embedded PostgreSQL needs a 'postgres' system user and creating it failed (${oneLine(String(err.stderr || err.message || e), 200)}); ` +
        `create it (useradd --system postgres), run as a non-root user, or set DATABASE_URL to use another PostgreSQL server`,
    );
  }
  const made = lookup();
  if (!made) throw new EmbeddedDatabaseError(`useradd reported success but no 'postgres' user exists; ${EMBEDDED_FIX}`);
  return made;
}

/**
 * Whether `user` can reach `file` with `test -<flag>` (x: traverse a directory or execute a file).
 * Asked of the user itself rather than computed from mode bits, so groups, ACLs and mounts count as
 * they will when PostgreSQL runs; spawned the same way PostgreSQL is (uid/gid, no extra groups).
 */
export function canReach(user: PgUser | undefined, file: string, flag: "x" | "r" = "x"): boolean {
  if (!user) return true;
  const r = spawnSync("test", [`-${flag}`, file], { uid: user.uid, gid: user.gid, cwd: "/", stdio: "ignore" });
  return r.status === 0;
}
