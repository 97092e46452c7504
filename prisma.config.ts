// Prisma CLI configuration: the JS schema engine over adapter-pg, so no native engine is ever
// downloaded (see shared/MACHINE-FACTS.md). This file is read by the Prisma CLI only; the
// application builds its client in packages/db.
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { defineConfig } from "prisma/config";

// Nothing here may reach for a native engine or phone home.
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= "/bin/false";
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/bin/false";
process.env.CHECKPOINT_DISABLE ??= "1";
process.env.PRISMA_HIDE_UPDATE_MESSAGE ??= "1";

// Workaround for prisma/orm#27403: adapter-pg 6.19 cannot deserialize the catalog types
// `name` (OID 19) and `"char"` (OID 18) that the migration engine's introspection returns.
// Reporting them as text (OID 25) is exact for both. CLI-only: the app never needs it.
const patched = Symbol.for("marketsage.pgCatalogTypesAsText");
const proto = pg.Client.prototype as unknown as Record<symbol, boolean> & { query: (...a: unknown[]) => unknown };
if (!proto[patched]) {
  proto[patched] = true;
  const query = proto.query;
  type Result = { fields?: { dataTypeID: number }[] } | undefined;
  const asText = (r: Result) => {
    for (const f of r?.fields ?? []) if (f.dataTypeID === 19 || f.dataTypeID === 18) f.dataTypeID = 25;
    return r;
  };
  proto.query = function (this: unknown, ...args: unknown[]) {
    notNullConstraintsAreNotChecks(args);
    // pg.Pool calls Client#query with a callback; direct callers get a promise.
    const last = args.length - 1;
    const cb = args[last];
    if (typeof cb === "function") {
      args[last] = (err: unknown, r: Result) => (cb as (e: unknown, r: Result) => void)(err, asText(r));
      return query.apply(this, args);
    }
    const result = query.apply(this, args);
    return result && typeof (result as Promise<Result>).then === "function" ? (result as Promise<Result>).then(asText) : result;
  };
}

// Workaround for the Prisma 6 schema engine on PostgreSQL 18: PostgreSQL 18 records NOT NULL
// as pg_constraint rows with contype 'n', which the engine's constraint introspection does not
// know (it panics: "RuntimeError: unreachable"). NOT NULL is already read from the columns, so
// leaving those rows out of that one query is exact.
function notNullConstraintsAreNotChecks(args: unknown[]): void {
  const marker = "AND contype NOT IN ('p', 'u', 'f')";
  const q = args[0];
  if (typeof q === "string" && q.includes(marker)) args[0] = q.replace(marker, "AND contype NOT IN ('p', 'u', 'f', 'n')");
  else if (q && typeof q === "object" && typeof (q as { text?: unknown }).text === "string" && (q as { text: string }).text.includes(marker)) {
    (q as { text: string }).text = (q as { text: string }).text.replace(marker, "AND contype NOT IN ('p', 'u', 'f', 'n')");
  }
}

function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set. Use the package scripts (pnpm db:migrate, pnpm db:migrate:dev), which start the embedded PostgreSQL and set it for you.",
    );
  }
  return url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

// Workaround for adapter-pg 6.19's executeScript(), which splits a migration on every ";" and so
// breaks function bodies and string literals containing one. Send the whole script in one
// simple-protocol query instead: PostgreSQL runs it as one implicit transaction, so a failing
// migration also leaves nothing half-applied.
type ScriptAdapter = { executeScript(script: string): Promise<void>; dispose(): Promise<void> };
function wholeScripts<A extends ScriptAdapter>(adapter: A, onDispose?: () => Promise<void>): A {
  const inner = adapter as unknown as { client: pg.Pool; onError(e: unknown): never };
  return new Proxy(adapter, {
    get(target, prop, receiver) {
      if (prop === "executeScript") {
        return async (script: string) => {
          try {
            await inner.client.query(script);
          } catch (e) {
            inner.onError(e);
          }
        };
      }
      if (prop === "dispose" && onDispose) {
        return async () => {
          await target.dispose();
          await onDispose();
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  async adapter() {
    const url = databaseUrl();
    const factory = new PrismaPg({ connectionString: url });
    const connect = factory.connect.bind(factory);
    return Object.assign(factory, {
      async connect() {
        return wholeScripts(await connect());
      },
      // adapter-pg's own connectToShadowDb() lets the connection string override the shadow
      // database's name, so migrations get replayed onto the main database. Make our own.
      async connectToShadowDb() {
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        const name = `prisma_shadow_${process.pid}_${Date.now()}`;
        await admin.query(`CREATE DATABASE "${name}"`);
        const adapter = await new PrismaPg({ connectionString: withDatabase(url, name) }).connect();
        return wholeScripts(adapter, async () => {
          await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          await admin.end();
        });
      },
    });
  },
});
