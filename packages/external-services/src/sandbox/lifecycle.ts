// What the HTTP emulators share in how they run: the server on 127.0.0.1, requests left hanging
// (the no_answer outcome), delays that close() cuts short, the lifecycles idle() waits for, and
// webhooks handed to the sink with the sink's error recorded. close() ends all of it.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { SignedRequest, WebhookSink } from "../providers/types.ts";
import { reply } from "./http.ts";

export interface DeliveredWebhookOf<K extends string> {
  kind: K;
  request: SignedRequest;
  /** Set when the sink threw. */
  error?: string;
}

/** A form-encoded API's request as an emulator records it. */
export interface RecordedFormRequest {
  method: string;
  path: string;
  /** The decoded form fields (POST) or query (GET). */
  params: Record<string, string>;
  /** Whether the credentials matched. */
  authorized: boolean;
  /** The HTTP status answered, or null while the request hangs (no_answer). */
  status: number | null;
  at: Date;
}

/** What every HTTP emulator offers. */
export interface HttpEmulator<R, W, M> {
  /** The origin to point the client at, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly requests: R[];
  /** Every webhook (status, report, inbound message) handed to `deliver`, in order. */
  readonly webhooks: W[];
  message(id: string): M | undefined;
  messages(): M[];
  /** Resolves when every scheduled webhook has been handed over. */
  idle(): Promise<void>;
  /** Ends hanging requests, cancels pending webhooks and stops the server. */
  close(): Promise<void>;
}

export interface ServeOptions<R, M> {
  requests: R[];
  messages: Map<string, M>;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The 500 answered when `handle` throws before answering. */
  failure(e: unknown): { type: string; body: string };
  keepAliveTimeout?: number;
}

export interface EmulatorLifecycle<K extends string> {
  /** True once close() began: pending steps stop. */
  readonly closed: boolean;
  readonly webhooks: DeliveredWebhookOf<K>[];
  /** Resolves true after `ms`, or false at once if the emulator closes first. */
  sleep(ms: number): Promise<boolean>;
  /** Leaves `res` unanswered: the caller's timeout decides; close() ends it. */
  hang(res: ServerResponse): void;
  /** Counts `p` as in flight until it settles: idle() and close() wait for it. */
  track(p: Promise<void>): Promise<void>;
  /** Records the webhook and hands it to the sink (tracked); a sink error is recorded, not thrown. */
  hand(kind: K, request: SignedRequest): Promise<void>;
  /** Starts the server on a free port of 127.0.0.1: the emulator's common half. */
  serve<R, M>(opts: ServeOptions<R, M>): Promise<HttpEmulator<R, DeliveredWebhookOf<K>, M>>;
}

export function emulatorLifecycle<K extends string>(deliver: WebhookSink): EmulatorLifecycle<K> {
  const webhooks: DeliveredWebhookOf<K>[] = [];
  const timers = new Map<NodeJS.Timeout, (v: boolean) => void>();
  const hanging = new Set<ServerResponse>();
  const chains = new Set<Promise<void>>();
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (closed) return resolve(false);
      const t = setTimeout(() => {
        timers.delete(t);
        resolve(!closed);
      }, ms);
      timers.set(t, resolve);
    });

  function hang(res: ServerResponse): void {
    hanging.add(res);
    res.on("close", () => hanging.delete(res));
  }

  function track(p: Promise<void>): Promise<void> {
    const q = p.finally(() => chains.delete(q));
    chains.add(q);
    return q;
  }

  function hand(kind: K, request: SignedRequest): Promise<void> {
    const entry: DeliveredWebhookOf<K> = { kind, request };
    webhooks.push(entry);
    return track(
      (async () => {
        try {
          await deliver(request);
        } catch (e) {
          entry.error = e instanceof Error ? e.message : String(e);
        }
      })(),
    );
  }

  async function serve<R, M>(opts: ServeOptions<R, M>): Promise<HttpEmulator<R, DeliveredWebhookOf<K>, M>> {
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => {
      opts.handle(req, res).catch((e: unknown) => {
        if (res.headersSent) return;
        const f = opts.failure(e);
        reply(res, 500, f.type, f.body);
      });
    });
    if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
    server.on("connection", (s: Socket) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    // An emulator never keeps its process alive by itself (a host or server exits as it would without it).
    server.unref();
    const { port } = server.address() as AddressInfo;

    return {
      url: `http://127.0.0.1:${port}`,
      requests: opts.requests,
      webhooks,
      message: (id) => opts.messages.get(id),
      messages: () => [...opts.messages.values()],
      async idle() {
        while (chains.size > 0) await Promise.all([...chains]);
      },
      async close() {
        if (closed) return;
        closed = true;
        for (const [t, resolve] of timers) {
          clearTimeout(t);
          resolve(false);
        }
        timers.clear();
        for (const res of hanging) res.destroy();
        hanging.clear();
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        await done;
        await Promise.allSettled([...chains]);
      },
    };
  }

  return {
    get closed() {
      return closed;
    },
    webhooks,
    sleep,
    hang,
    track,
    hand,
    serve,
  };
}
