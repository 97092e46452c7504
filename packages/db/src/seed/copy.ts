// Bulk loading through COPY ... FROM STDIN (text format), streamed: generators push lines, the
// writer hands ~256 KB chunks to the socket and waits for 'drain', so memory stays flat whether
// a table gets 100 rows or 20 million.
import { once } from "node:events";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

export const NULL = "\\N";

const SPECIAL = /[\\\t\n\r]/;
/** Escape free text for COPY text format (backslash, tab, newline, carriage return). */
export function esc(s: string): string {
  if (!SPECIAL.test(s)) return s;
  return s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}
/** Nullable text. */
export const opt = (s: string | null | undefined): string => (s == null ? NULL : esc(s));

const CHUNK = 1 << 18;
const QUEUE = 8 << 20;

export interface TableStat {
  table: string;
  rows: number;
  seconds: number;
}

/** One COPY into one table, in its own transaction on its own connection. */
export class CopyWriter {
  rows = 0;
  private parts: string[] = [];
  private size = 0;
  private error: Error | undefined;
  private readonly started = performance.now();

  private constructor(
    readonly table: string,
    private readonly client: pg.Client,
    private readonly stream: ReturnType<typeof copyFrom>,
    private readonly beforeCommit: string[],
  ) {
    stream.on("error", (e: Error) => {
      this.error = e;
    });
  }

  static async open(client: pg.Client, table: string, columns: readonly string[], around: { before?: string[]; after?: string[] } = {}): Promise<CopyWriter> {
    await client.query("BEGIN");
    for (const sql of around.before ?? []) await client.query(sql);
    const stream = client.query(copyFrom(`COPY ${table} (${columns.join(", ")}) FROM STDIN`));
    return new CopyWriter(table, client, stream, around.after ?? []);
  }

  /** A complete row: fields joined by tabs, without the newline. */
  row(line: string): void {
    this.parts.push(line, "\n");
    this.size += line.length + 1;
    this.rows++;
  }

  get full(): boolean {
    return this.size >= CHUNK;
  }

  async flush(): Promise<void> {
    if (this.error) throw this.fail(this.error);
    if (this.size === 0) return;
    const chunk = this.parts.join("");
    this.parts = [];
    this.size = 0;
    // Keep a few MB queued in the stream so PostgreSQL parses while we generate; waiting for
    // 'drain' after every chunk would make the two take turns instead of working in parallel.
    this.stream.write(chunk);
    if (this.stream.writableLength > QUEUE) {
      try {
        await once(this.stream, "drain");
      } catch (e) {
        throw this.fail(e as Error);
      }
    }
  }

  async end(): Promise<TableStat> {
    await this.flush();
    const done = new Promise<void>((resolve, reject) => {
      this.stream.on("finish", resolve);
      this.stream.on("error", reject);
    });
    this.stream.end();
    try {
      await done;
      for (const sql of this.beforeCommit) await this.client.query(sql);
      await this.client.query("COMMIT");
    } catch (e) {
      await this.client.query("ROLLBACK").catch(() => undefined);
      throw this.fail(e as Error);
    }
    return { table: this.table, rows: this.rows, seconds: (performance.now() - this.started) / 1000 };
  }

  private fail(e: Error): Error {
    return new Error(`loading ${this.table} failed after ${this.rows} rows: ${e.message}`);
  }
}

/** Flush every writer that has a full chunk; generators call this once per generated item. */
export async function flushFull(writers: readonly CopyWriter[]): Promise<void> {
  for (const w of writers) if (w.full) await w.flush();
}

/** Connections for the load; two COPYs run side by side where one loop produces two tables. */
export class Loader {
  readonly stats: TableStat[] = [];
  private constructor(readonly clients: pg.Client[]) {}

  static async connect(url: string, n: number): Promise<Loader> {
    const clients: pg.Client[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const c = new pg.Client({ connectionString: url, application_name: "marketsage-seed" });
        await c.connect();
        // Sessions in UTC so timestamptz text round-trips exactly; generous memory for index builds.
        await c.query("SET TIME ZONE 'UTC'");
        await c.query("SET maintenance_work_mem = '256MB'");
        // Row triggers that copy contact state into segment_members skip this session; run.ts
        // rebuilds that state in one statement at the end (marketsage_rebuild_member_state).
        await c.query("SET marketsage.bulk_load = 'on'");
        clients.push(c);
      }
    } catch (e) {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      throw e;
    }
    return new Loader(clients);
  }

  get admin(): pg.Client {
    return this.clients[0]!;
  }

  client(i: number): pg.Client {
    return this.clients[i % this.clients.length]!;
  }

  record(s: TableStat): void {
    const prev = this.stats.find((x) => x.table === s.table);
    if (prev) {
      prev.rows += s.rows;
      prev.seconds += s.seconds;
    } else this.stats.push({ ...s });
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.end().catch(() => undefined)));
  }
}
